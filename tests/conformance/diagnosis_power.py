"""The diagnosis's power, measured: ``python -m tests.conformance.diagnosis_power``.

For every mutant of :mod:`tests.conformance.mutants` (NumPy and torch forms, float32 and
float64): named correctly (the label of ``DIAGNOSED_AS``), unexplained, or wrong (an
"explained" diagnosis naming anything else; must be 0). For correct implementations (the
plain NumPy Adams, this project's NumPy Adam in every named variant and decay form,
torch.optim.Adam and AdamW): how many got a confident diagnosis (must be 0). And the time per
diagnosis.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from typing import Any

from adamproofs.conformance._targets import load_target
from adamproofs.conformance.diagnosis import diagnose
from adamproofs.conformance.protocol import PlainImplementation
from adamproofs.variants import NAMED, UPDATE_AXES, Decay, Variant
from tests.conformance import mutants

DTYPES = ("float32", "float64")


def _mutants() -> list[tuple[str, str, Any]]:
    out: list[tuple[str, str, Any]] = []
    for name, cls in sorted(mutants.NUMPY_MUTANTS.items()):
        out.append(("numpy", name, PlainImplementation(cls)))
    for name, cls in sorted(mutants.TORCH_MUTANTS.items()):
        out.append(("torch", name, load_target(cls)))
    return out


def _correct() -> list[tuple[str, Any, Variant]]:
    out: list[tuple[str, Any, Variant]] = [
        ("plain", PlainImplementation(mutants.NUMPY_CORRECT), Variant()),
        (
            "plain-amsgrad",
            PlainImplementation(mutants.NUMPY_CORRECT_AMSGRAD),
            NAMED["amsgrad_max_raw"],
        ),
    ]
    for vname, variant in NAMED.items():
        for decay in Decay:
            v = variant.replace(decay=decay)
            axes = {a: getattr(v, a) for a in UPDATE_AXES}
            out.append((f"numpy {vname},{decay}", load_target("numpy", **axes), v))
    if mutants.torch is not None:
        out.append(("torch.optim.Adam", load_target(mutants.torch.optim.Adam), Variant()))
        out.append(
            (
                "torch.optim.AdamW",
                load_target(mutants.torch.optim.AdamW),
                Variant(decay="decoupled"),
            )
        )
    return out


def main() -> None:
    times: list[float] = []
    counts: Counter[tuple[str, str, str]] = Counter()
    wrong: list[str] = []
    for form, name, impl in _mutants():
        base = NAMED["amsgrad_max_raw"] if name in mutants.AMSGRAD_MUTANTS else Variant()
        for dtype in DTYPES:
            t0 = time.perf_counter()
            d = diagnose(impl, dtype, base=base)
            times.append(time.perf_counter() - t0)
            want = mutants.DIAGNOSED_AS.get(name)
            visible = want is not None and not (dtype != "float64" and name in mutants.FLOAT64_ONLY)
            if d.status == "explained" and visible and set(d.model) == set(want or ()):
                outcome = "named"
            elif d.status == "explained":
                outcome = "wrong"
                wrong.append(f"{form} {name} {dtype}: {d.summary}")
            else:
                outcome = "unexplained" + ("" if visible else " (nothing to name)")
            counts[(form, dtype, outcome)] += 1
    confident: list[str] = []
    correct_runs = 0
    for label, impl, variant in _correct():
        for dtype in DTYPES:
            t0 = time.perf_counter()
            d = diagnose(impl, dtype, base=variant)
            times.append(time.perf_counter() - t0)
            correct_runs += 1
            if d.status == "explained":
                confident.append(f"{label} {dtype}: {d.summary}")
    print("mutants (form, dtype, outcome): count")
    for key in sorted(counts):
        print(f"  {key[0]:6s} {key[1]:8s} {key[2]:30s} {counts[key]:4d}")
    print(f"wrong diagnoses: {len(wrong)}")
    for line in wrong:
        print("  " + line)
    print(f"correct implementations: {correct_runs} diagnoses, {len(confident)} confident")
    for line in confident:
        print("  " + line)
    print(
        f"time per diagnosis: median {statistics.median(times):.2f} s, "
        f"max {max(times):.2f} s over {len(times)} diagnoses"
    )


if __name__ == "__main__":
    main()
