"""Variant fingerprinting on the project's own Adam in each variant, and --variant parsing."""

from __future__ import annotations

import numpy as np
import pytest

from adamproofs.conformance.adapters.numpy import make_implementation
from adamproofs.conformance.fingerprint import fingerprint, precision_candidates
from adamproofs.conformance.protocol import PlainImplementation
from adamproofs.variants import Precision, Variant, parse_variant


@pytest.mark.parametrize(
    "options, expected, name",
    [
        (
            {},
            {
                "eps_placement": "paper",
                "bias_correction": True,
                "amsgrad": None,
                "decay": "l2",
                "step_scope": "param",
            },
            "paper",
        ),
        ({"eps_placement": "hat"}, {"eps_placement": "hat"}, "eps_hat"),
        ({"eps_placement": "root"}, {"eps_placement": "root"}, "eps_root"),
        ({"bias_correction": False}, {"bias_correction": False}, "no_bias_correction"),
        ({"amsgrad": "max_raw"}, {"amsgrad": "max_raw"}, "amsgrad_max_raw"),
        ({"amsgrad": "max_corrected"}, {"amsgrad": "max_corrected"}, "amsgrad_max_corrected"),
        ({"amsgrad": "max_uncorrected"}, {"amsgrad": "max_uncorrected"}, "amsgrad_max_uncorrected"),
        ({"decay": "decoupled"}, {"decay": "decoupled"}, "paper"),
        ({"decay": "decoupled_after"}, {"decay": "decoupled_after"}, "paper"),
    ],
)
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


class _Float32Inside:
    """A correct Adam that updates parameters of any dtype in float32 arithmetic."""

    def __init__(self, params, *, lr, beta1, beta2, eps, weight_decay=0.0):
        self.p = params
        self.h = [np.float32(x) for x in (lr, beta1, beta2, eps)]
        self.m = [np.zeros(p.shape, np.float32) for p in params]
        self.v = [np.zeros(p.shape, np.float32) for p in params]
        self.t = 0

    def step(self, grads):
        lr, b1, b2, eps = self.h
        one = np.float32(1)
        self.t += 1
        for p, g, m, v in zip(self.p, grads, self.m, self.v, strict=True):
            g = g.astype(np.float32)
            m[...] = b1 * m + (one - b1) * g
            v[...] = b2 * v + (one - b2) * g * g
            mh = m / (one - b1 ** np.float32(self.t))
            vh = v / (one - b2 ** np.float32(self.t))
            p[...] = (p.astype(np.float32) - lr * mh / (np.sqrt(vh) + eps)).astype(p.dtype)


def test_float64_parameters_computed_in_float32_are_recognised_on_every_axis():
    impl = PlainImplementation(_Float32Inside)
    fp = fingerprint(impl, dtype="float64")
    assert fp.variant.precision is Precision.FLOAT32
    assert fp.named() == "paper"
    native = fingerprint(impl, dtype="float32")
    assert native.variant.precision is Precision.NATIVE
    assert native.named() == "paper"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_native_adam_is_native(dtype):
    fp = fingerprint(make_implementation(backend="numpy"), dtype=dtype)
    assert fp.variant.precision is Precision.NATIVE
    assert fp.axes["precision"].matches[0] is Precision.NATIVE


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        ("float64", ("native", "float32", "float16", "bfloat16")),
        ("float32", ("native", "float16", "bfloat16", "float64")),
        ("float16", ("native", "bfloat16", "float64", "float32")),
    ],
)
def test_precision_candidates_try_native_first_then_narrower_then_wider(dtype, expected):
    assert tuple(str(p) for p in precision_candidates(dtype)) == expected
