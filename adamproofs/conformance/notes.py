"""Every fixed note the one-screen report prints, with what it means (the validation page
lists each one; a test checks that it does).

A note's text may hold ``{placeholders}`` filled by :func:`note`.
"""

from __future__ import annotations

from typing import Any

#: key -> (the note as printed, what it means for the reader)
NOTES: dict[str, tuple[str, str]] = {
    "no_known_variant": (
        "a probe below matched no known form; properties judged against the paper's",
        "At least one fingerprint probe matched none of the candidate forms of its axes "
        "(the lines below it say which, with the closest candidate). The properties are then "
        "judged against the paper's Algorithm 1, so most of them fail too: fix the probe's "
        "axis first.",
    ),
    "composed_name": (
        "named from two variants",
        "The variant has no name of its own: its ε form and bias correction are those of the "
        "first name, its AMSGrad form that of the second (Keras's amsgrad=True is "
        "eps_hat + amsgrad_max_raw).",
    ),
    "stopped_early": (
        "stopped early (--fail-fast): rows after the first failure were not judged",
        "With --fail-fast the check stops at the first failing property, so the report does "
        "not conform even if the remaining rows would pass.",
    ),
    "one_reproducer": (
        "the smallest failing case; --verbose shows every row's",
        "Each failing row has a shrunk reproducer; the one-screen form shows only the one "
        "with the fewest numbers. It exits 1 while the defect is present and 0 once fixed.",
    ),
    "common_feature": (
        "most failures involve {what}; rerun with --without {feature} to judge the rest ({judged})",
        "When the failing cases share one feature (0-d parameters, β1 = 0, weight decay, ...) "
        "and the first failing property passes once that feature is left out, the feature is "
        "the likely cause: the other failing properties are judged again without it, and "
        "the report says how many still fail.",
    ),
    "judged_without": (
        "judged without {feature}",
        "A row judged again without the feature most failures shared (see the note above); "
        "its verdict is the one without it.",
    ),
}


def note(key: str, **values: Any) -> str:
    """The note ``key`` of :data:`NOTES`, its placeholders filled."""
    return NOTES[key][0].format(**values)
