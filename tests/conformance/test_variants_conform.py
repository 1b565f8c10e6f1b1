"""Every documented variant, run by the project's own fast Adam, conforms to itself.

The checker must never fail a correct Adam: each named variant of
:data:`adamproofs.variants.NAMED` (and each decay form) is run by ``adamproofs.fast``
with that variant's options and checked under ``--variant`` of itself, in every dtype.
"""

from __future__ import annotations

import pytest

from adamproofs.conformance import check
from adamproofs.variants import AXES, NAMED, UPDATE_AXES, Decay

DTYPES = ("float64", "float32", "float16", "bfloat16")

SPECS = [(name, name) for name in NAMED] + [
    (f"paper,decay={d}", "paper") for d in AXES["decay"].choices if d != Decay.L2
]


@pytest.mark.parametrize(("spec", "name"), SPECS, ids=[s for s, _ in SPECS])
def test_each_variant_conforms_to_itself_in_every_dtype(spec, name):
    pytest.importorskip("ml_dtypes")
    variant = NAMED[name]
    options = {axis: getattr(variant, axis) for axis in UPDATE_AXES}
    if "decay=" in spec:
        options["decay"] = spec.split("decay=")[1]
    report = check(
        "numpy", options=options, variant=spec, profile="quick", dtypes=DTYPES, progress=None
    )
    assert report.conforms, report.table()
