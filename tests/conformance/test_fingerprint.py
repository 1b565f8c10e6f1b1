"""Variant fingerprinting on the project's own Adam in each variant, and --variant parsing."""

from __future__ import annotations

import pytest

from adamproofs.conformance.adapters.numpy import make_implementation
from adamproofs.conformance.fingerprint import fingerprint
from adamproofs.variants import Variant, parse_variant


@pytest.mark.parametrize("options, expected, name", [
    ({}, {"eps_placement": "paper", "bias_correction": True, "amsgrad": None,
          "decay": "l2", "step_scope": "param"}, "paper"),
    ({"eps_placement": "hat"}, {"eps_placement": "hat"}, "eps_hat"),
    ({"eps_placement": "root"}, {"eps_placement": "root"}, "eps_root"),
    ({"bias_correction": False}, {"bias_correction": False}, "no_bias_correction"),
    ({"amsgrad": "max_raw"}, {"amsgrad": "max_raw"}, "amsgrad_max_raw"),
    ({"amsgrad": "max_corrected"}, {"amsgrad": "max_corrected"}, "amsgrad_max_corrected"),
    ({"amsgrad": "max_uncorrected"}, {"amsgrad": "max_uncorrected"},
     "amsgrad_max_uncorrected"),
    ({"decay": "decoupled"}, {"decay": "decoupled"}, "paper"),
    ({"decay": "decoupled_after"}, {"decay": "decoupled_after"}, "paper"),
])
def test_each_variant_is_recognised(options, expected, name):
    fp = fingerprint(make_implementation(backend="numpy", **options))
    got = fp.describe()
    assert fp.known
    for axis, value in expected.items():
        assert got[axis] == value, (axis, fp.axes[axis].detail)
    assert fp.named() == name


def test_parse_variant():
    v, _ = parse_variant("paper")
    assert v == Variant()
    v, _ = parse_variant("eps_hat,decay=decoupled,step_scope=optimizer")
    assert (v.eps_placement, v.decay, v.step_scope) == ("hat", "decoupled", "optimizer")
    assert parse_variant("paper,amsgrad=none")[0].amsgrad is None
    with pytest.raises(ValueError, match="'adamw' is not one of"):
        parse_variant("adamw")
    with pytest.raises(ValueError, match="override 'decay=sideways'"):
        parse_variant("paper,decay=sideways")
