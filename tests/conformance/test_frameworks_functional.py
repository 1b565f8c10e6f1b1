"""The functional adapter: ``jax.example_libraries.optimizers.adam`` triples and step functions.

jax's ``adam`` (``jax/example_libraries/optimizers.py``): m, v from g; m̂ = m/(1 − β1^(i+1)),
v̂ = v/(1 − β2^(i+1)); x − step_size(i)·m̂/(√v̂ + ε): Algorithm 1, with the caller's 0-based
step index ``i`` (one for the whole parameter tree).
"""

from __future__ import annotations

import numpy as np
import pytest

from adamproofs.conformance._targets import detect_kind, load_target
from adamproofs.conformance.adapters import functional
from adamproofs.conformance.protocol import Hyper, TargetError
from tests.conformance.frameworks import run_check, verdicts


def numpy_adam(*, lr, beta1, beta2, eps, weight_decay):
    """A step-function Adam (Algorithm 1, L2 decay) in the documented convention."""

    def init(params):
        return [(np.zeros_like(p), np.zeros_like(p)) for p in params]

    def step(i, params, grads, state):
        t = i + 1
        new_params, new_state = [], []
        for p, g, (m, v) in zip(params, grads, state):
            g = g + weight_decay * p
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            mhat, vhat = m / (1 - beta1**t), v / (1 - beta2**t)
            new_params.append((p - lr * mhat / (np.sqrt(vhat) + eps)).astype(p.dtype))
            new_state.append((m, v))
        return new_params, new_state

    return init, step


def numpy_adam_without_bias_correction(*, lr, beta1, beta2, eps, weight_decay):
    """The same without bias correction (a deviation the checker must name)."""

    def init(params):
        return [(np.zeros_like(p), np.zeros_like(p)) for p in params]

    def step(i, params, grads, state):
        new_params, new_state = [], []
        for p, g, (m, v) in zip(params, grads, state):
            g = g + weight_decay * p
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            new_params.append((p - lr * m / (np.sqrt(v) + eps)).astype(p.dtype))
            new_state.append((m, v))
        return new_params, new_state

    return init, step


class PlainAdam:
    """A plain-protocol class: detection must not take it for a step function."""

    def __init__(self, params, *, lr, beta1, beta2, eps, weight_decay):
        self.params = params

    def step(self, grads):
        pass


def test_step_functions_are_detected_without_kind():
    assert detect_kind(numpy_adam) == "functional"
    assert detect_kind(PlainAdam) == "plain"
    assert not functional.accepts(PlainAdam)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_step_function_adam_conforms_to_the_paper(dtype):
    report = run_check(numpy_adam, dtypes=[dtype])
    assert report["detected_variant"] == "paper"
    assert report["variant_axes"]["decay"] == "l2"
    assert report["conforms"], verdicts(report)


def test_step_function_without_bias_correction_is_named():
    report = run_check(numpy_adam_without_bias_correction, dtypes=["float32"], variant="paper")
    assert report["variant_axes"]["bias_correction"] is False
    assert not report["conforms"]


def test_step_function_inputs_untouched_and_checkpoint_resumes():
    impl = functional.make_implementation(numpy_adam)
    h, dt = Hyper(lr=0.05, weight_decay=0.1), np.dtype("float32")
    rng = np.random.default_rng(3)
    theta0 = rng.normal(size=3).astype(dt)
    grads = [rng.normal(size=3).astype(dt) for _ in range(6)]
    keep = theta0.copy()
    straight = impl.create(h, [theta0], dt)
    for g in grads:
        straight.step([g])
    np.testing.assert_array_equal(theta0, keep)
    first = impl.create(h, [theta0], dt)
    for g in grads[:3]:
        first.step([g])
    resumed = impl.create(h, [np.zeros(3, dtype=dt)], dt)
    resumed.restore(first.save())
    for g in grads[3:]:
        resumed.step([g])
    np.testing.assert_array_equal(resumed.params()[0], straight.params()[0])
    with pytest.raises(ValueError, match="'skip'"):
        resumed.step([None])
    with pytest.raises(TargetError, match="needs a target"):
        functional.make_implementation()
    with pytest.raises(TargetError, match="takes neither"):
        functional.make_implementation(len)


def test_jax_example_libraries_adam_conforms_to_the_paper():
    pytest.importorskip("jax.example_libraries.optimizers", reason="jax is not installed")
    impl = load_target("jax.example_libraries.optimizers:adam")
    assert isinstance(impl, functional.FunctionalImplementation) and impl.triple
    assert impl.claims == functional.JAX_ADAM_CLAIMS
    report = run_check("jax.example_libraries.optimizers:adam", dtypes=["float32", "float64"])
    assert report["detected_variant"] == "paper"
    assert report["conforms"], verdicts(report)
    assert verdicts(report)[("late_first_gradient", "float64")] == "skip"  # no None gradients
