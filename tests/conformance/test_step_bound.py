"""The step_bound property: a step larger than α·S(t) fails, and so does a non-finite one.

Regression: in float16 with ε = 0 and |g| ≈ 1e-3, (1-β2)g² rounds to 0, so an Adam that
computes in float16 (PyTorch's forloop and foreach paths, the plain NumPy Adam below) divides
m by √0 and θ becomes -inf at step 1. The replay leaves such steps unjudged (g² is outside
float16's normal range, so the error model does not apply), and the bound's rounding
allowance u·|θ| became infinite with θ, so the infinite step passed while the finite 12%
overshoot of the fused kernel (float32 compute, float16 state) failed. Every property now
fails a non-finite θ where the oracle's is finite at the replay, before its own check.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from adamproofs.conformance._model import Case
from adamproofs.conformance.properties import check_property
from adamproofs.conformance.protocol import Hyper, PlainImplementation
from adamproofs.variants import Variant
from tests.conformance import mutants

F16 = np.float16
#: the shrunk step_bound case of `adamproofs check torch-fused --only-dtype float16
#: --profile quick --seed 0 --property step_bound` (g_i ∝ (β2/β1)^i, ε = 0)
GRADS = [
    0.0010776519775390625,
    0.0021343231201171875,
    0.0042266845703125,
    0.00836944580078125,
    0.016571044921875,
    0.032806396484375,
    0.06500244140625,
    0.1287841796875,
    0.2548828125,
    0.5048828125,
    1.0,
]
HYPER = Hyper(
    lr=0.0010004043579101562,
    beta1=0.5,
    beta2=0.990234375,
    eps=0.0,
    weight_decay=0.0,
    maximize=False,
)


def _case(grads=GRADS) -> Case:
    return Case(
        "float16",
        HYPER,
        [np.array([0.457763671875, 0.0], F16)],
        [[np.array([g, -g], F16)] for g in grads],
    )


def test_infinite_step_from_finite_inputs_fails():
    verdict = check_property(
        "step_bound", PlainImplementation(mutants.NUMPY_CORRECT), _case(), Variant()
    )
    assert not verdict.passed
    f = verdict.finding
    assert f.step == 1 and math.isinf(f.impl)
    # the replay fails it first: a non-finite θ where the oracle's is finite
    assert "became -inf from the finite" in f.message and np.isfinite(f.exact)


def test_nan_under_the_zero_over_zero_convention_is_accepted():
    # all gradients so far exactly 0 with ε = 0: the exact step is 0/0 := 0, NaN accepted
    verdict = check_property(
        "step_bound",
        PlainImplementation(mutants.NUMPY_CORRECT),
        _case([0.0, 0.0, 0.25, 0.5, 1.0]),
        Variant(),
    )
    assert verdict.passed, verdict.finding


@pytest.mark.parametrize("target", ["torch", "torch-foreach", "torch-fused"])
def test_torch_float16_modes_all_fail_the_bound(target):
    pytest.importorskip("torch")
    from adamproofs.conformance import load_target

    verdict = check_property("step_bound", load_target(target), _case(), Variant())
    assert not verdict.passed
    if target == "torch-fused":  # float32 compute, float16 state: finite, 12% too large
        assert verdict.finding.step == 2 and math.isfinite(verdict.finding.impl)
    else:  # float16 compute: v = 0, Δ1 = -inf
        assert verdict.finding.step == 1 and math.isinf(verdict.finding.impl)
