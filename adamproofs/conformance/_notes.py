"""Every fixed note a report can print, by key (the validation page explains each one; a
test checks that it does). A note's ``{placeholders}`` are filled by :func:`note`."""

from __future__ import annotations

from typing import Any

#: key -> the note as printed
NOTES: dict[str, str] = {
    # the one-screen report
    "no_known_variant": "a probe below matched no known form; judged against the paper's",
    "composed_name": "named from two variants",
    "stopped_early": "stopped early (--fail-fast): rows after the first failure were not judged",
    "one_reproducer": "the smallest failing case; --verbose shows every row's",
    "common_feature": "most failures involve {what}; rerun with --without {feature} to judge the "
    "rest ({judged})",
    "judged_without": "judged without {feature}",
    "common_finding": "{n} of {m} failing properties fail the same way: {what}",
    # the variant row
    "no_known_form": "{axis}: follows no known variant ({evidence})",
    "same_probe": "{axis}: follows no known variant (the {other} probe above)",
    "axis_mismatch": "{axis}: {source} {want!r}, detected {got!r}",
    "precision": "{dtype} parameters are updated in {precision} arithmetic",
    # a property's row
    "needs": "needs {features}",
    "does_not_apply": "does not apply to the variant {variant}",
    "left_out": "left out: --without {features}",
    "all_left_out": "every case has a feature left out (--without {features})",
    "no_valid_case": "no valid case could be drawn ({error})",
    "checker_error": "checker error: {error}",
    "vacuous": "vacuous: every step was outside the error model (no bound applies)",
    "outside_model": "{share:.0%} of steps outside the error model (not judged)",
}


def note(key: str, **values: Any) -> str:
    """The note ``key`` of :data:`NOTES`, its placeholders filled."""
    return NOTES[key].format(**values)
