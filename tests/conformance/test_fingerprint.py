"""Variant fingerprinting on the project's own Adam in each variant, and --variant parsing."""

from __future__ import annotations

import numpy as np
import pytest

from adamproofs.conformance._fingerprint import fingerprint, precision_candidates
from adamproofs.conformance.adapters.numpy import make_implementation
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
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_each_variant_is_recognised(options, expected, name, dtype):
    """Every axis, and the compute precision: the NumPy Adam computes float32 and float64
    parameters in their own format, whatever the variant (an AMSGrad maximum that the
    precision probe's gradients trigger made a float32 AMSGrad look like float16)."""
    fp = fingerprint(make_implementation(backend="numpy", **options), dtype=dtype)
    got = fp.describe()
    assert fp.known
    for axis, value in expected.items():
        assert got[axis] == value, (axis, fp.axes[axis].detail)
    assert fp.named() == name
    assert fp.variant.precision is Precision.NATIVE, fp.axes["precision"].detail


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
    """A correct Adam (L2 decay, one step counter) that updates parameters of any dtype in
    float32 arithmetic."""

    def __init__(self, params, *, lr, beta1, beta2, eps, weight_decay=0.0):
        self.p = params
        self.h = [np.float32(x) for x in (lr, beta1, beta2, eps, weight_decay)]
        self.m = [np.zeros(p.shape, np.float32) for p in params]
        self.v = [np.zeros(p.shape, np.float32) for p in params]
        self.t = 0

    def step(self, grads):
        lr, b1, b2, eps, wd = self.h
        one = np.float32(1)
        self.t += 1
        for p, g, m, v in zip(self.p, grads, self.m, self.v, strict=True):
            if g is None:
                continue
            g = g.astype(np.float32) + wd * p.astype(np.float32)
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
        # float16 has more significand bits than bfloat16 but not its range: not wider
        ("bfloat16", ("native", "float64", "float32")),
    ],
)
def test_precision_candidates_try_native_first_then_narrower_then_wider(dtype, expected):
    assert tuple(str(p) for p in precision_candidates(dtype)) == expected


class _Float32Rate:
    """A correct Adam in the parameters' own arithmetic whose α is held in float32 (as Keras
    keeps ``learning_rate`` in a float32 variable under ``floatx="float32"``). The ε probe
    runs at α = 1, exact in float32, so it cannot tell this from a native Adam."""

    def __init__(self, params, *, lr, beta1, beta2, eps, weight_decay=0.0):
        self.p = params
        self.lr = float(np.float32(lr))
        self.h = (beta1, beta2, eps, weight_decay)
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads):
        b1, b2, eps, wd = self.h
        self.t += 1
        for p, g, m, v in zip(self.p, grads, self.m, self.v, strict=True):
            if g is None:
                continue
            g = g + wd * p
            m[...] = b1 * m + (1 - b1) * g
            v[...] = b2 * v + (1 - b2) * g * g
            mh = m / (1 - b1**self.t)
            vh = v / (1 - b2**self.t)
            p[...] = p - self.lr * mh / (np.sqrt(vh) + eps)


class _Float64Inside:
    """A correct Adam that keeps its state in float64 and updates parameters of any dtype
    in float64 arithmetic, rounding into the parameters' format once per step."""

    def __init__(self, params, *, lr, beta1, beta2, eps, weight_decay=0.0):
        self.p = params
        self.h = (lr, beta1, beta2, eps, weight_decay)
        self.m = [np.zeros(p.shape) for p in params]
        self.v = [np.zeros(p.shape) for p in params]
        self.t = 0

    def step(self, grads):
        lr, b1, b2, eps, wd = self.h
        self.t += 1
        for p, g, m, v in zip(self.p, grads, self.m, self.v, strict=True):
            if g is None:
                continue
            g = g.astype(np.float64) + wd * p.astype(np.float64)
            m[...] = b1 * m + (1 - b1) * g
            v[...] = b2 * v + (1 - b2) * g * g
            mh = m / (1 - b1**self.t)
            vh = v / (1 - b2**self.t)
            p[...] = (p.astype(np.float64) - lr * mh / (np.sqrt(vh) + eps)).astype(p.dtype)


#: Rows judged for an implementation that computes in another format than its parameters'.
ROWS = ["first_step", "agreement", "step_bound", "hyperparameters", "scale_invariance"]


@pytest.mark.parametrize(
    ("cls", "dtype", "precision"),
    [
        (_Float32Rate, "float64", Precision.FLOAT32),
        (_Float32Inside, "float64", Precision.FLOAT32),
        (_Float64Inside, "float32", Precision.FLOAT64),
        (_Float32Inside, "bfloat16", Precision.FLOAT32),  # not float16: it lacks the range
    ],
)
def test_precision_other_than_the_parameters_is_detected_and_its_rows_are_judged(
    cls, dtype, precision
):
    from adamproofs.conformance import check

    impl = PlainImplementation(cls)
    fp = fingerprint(impl, dtype=dtype)
    assert fp.variant.precision is precision, fp.axes["precision"].detail
    assert fp.known and fp.named() == "paper", fp.describe()
    report = check(
        impl,
        dtypes=[dtype],
        profile="quick",
        properties=ROWS,
        isolation=None,
        progress=None,
    )
    rows = report.as_dict()
    assert rows["variant_axes"]["precision"] == str(precision)
    verdicts = {r["property"]: r["verdict"] for r in rows["results"]}
    assert verdicts.pop("variant") == "pass"
    assert verdicts == dict.fromkeys(ROWS, "pass"), report.table()


@pytest.mark.parametrize(
    ("variant", "verdict"),
    [
        ("paper,step_scope=optimizer", "pass"),
        ("paper,step_scope=optimizer,precision=float32", "pass"),
        ("paper,step_scope=optimizer,precision=native", "fail"),
    ],
)
def test_a_required_variant_fixes_the_precision_only_where_it_names_it(variant, verdict):
    """A variant's name fixes every axis but the compute precision: float64 parameters
    updated in float32 arithmetic with one step counter follow ``paper,step_scope=optimizer``
    (the precision is stated as a fact) and
    fail only a requirement that names ``precision=native``."""
    from adamproofs.conformance import check

    report = check(
        PlainImplementation(_Float32Inside),
        dtypes=["float64"],
        profile="quick",
        properties=["first_step"],
        variant=variant,
        isolation=None,
        progress=None,
    )
    (row,) = [r for r in report.as_dict()["results"] if r["property"] == "variant"]
    assert row["verdict"] == verdict, row["note"]
    assert "float64 parameters are updated in float32 arithmetic" in row["note"]
    if verdict == "fail":
        assert "precision: required 'native', detected 'float32'" in row["note"]


def test_native_parameters_with_a_native_adam_are_not_reported_wider():
    fp = fingerprint(PlainImplementation(_Float32Inside), dtype="float32")
    assert fp.variant.precision is Precision.NATIVE
    assert Precision.FLOAT64 not in fp.axes["precision"].matches


class _DecayFactorInFloat32:
    """Adam in the parameters' own arithmetic with decoupled decay whose factor αλ is held in
    float32: only the decay probe (αλ = 0.05, inexact) needs the float32 model."""

    def __init__(self, params, *, lr, beta1, beta2, eps, weight_decay=0.0):
        self.p = params
        self.h = (lr, beta1, beta2, eps)
        self.decay = float(np.float32(lr * weight_decay))
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads):
        lr, b1, b2, eps = self.h
        self.t += 1
        for p, g, m, v in zip(self.p, grads, self.m, self.v, strict=True):
            if g is None:
                continue
            m[...] = b1 * m + (1 - b1) * g
            v[...] = b2 * v + (1 - b2) * g * g
            step = lr * (m / (1 - b1**self.t)) / (np.sqrt(v / (1 - b2**self.t)) + eps)
            p[...] = p * (1 - self.decay) - step


def test_a_later_axis_that_matches_nothing_is_probed_again_under_the_next_precision():
    fp = fingerprint(PlainImplementation(_DecayFactorInFloat32), dtype="float64")
    assert fp.known, fp.describe()
    assert fp.variant.precision is Precision.FLOAT32
    assert fp.describe()["decay"] == "decoupled"
    assert "later axes probed under native, float32 in turn" in fp.axes["precision"].detail
    native = fingerprint(PlainImplementation(_DecayFactorInFloat32), dtype="float32")
    assert native.known and native.variant.precision is Precision.NATIVE
