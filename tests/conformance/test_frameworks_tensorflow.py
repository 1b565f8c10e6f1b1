"""The TensorFlow adapter: ``tf.compat.v1.train.AdamOptimizer`` and tf-keras's legacy Adam.

TF1 (``tensorflow/python/training/adam.py``, kernel ``ApplyAdam``): ε̂ placement (the step
size α√(1 − β2^t)/(1 − β1^t), ε added to √v); ``beta1_power``/``beta2_power`` are non-slot
variables of the optimizer made from Python floats (float32) and ``learning_rate`` a float32
tensor, both cast to the variable's dtype. tf-keras legacy Adam
(``tf_keras/src/optimizers/legacy/adam.py``): ``self.epsilon = epsilon or
backend_config.epsilon()``, so ε = 0 becomes 1e-7.

Runs where TensorFlow is installed (it is kept out of the main environment: a separate
virtual environment with ``pip install -e .[tensorflow,test]``).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow", reason="TensorFlow is not installed (pip install tensorflow)")

from adamproofs.config import Adam
from adamproofs.conformance._targets import detect_kind, load_target
from adamproofs.conformance.adapters import tensorflow as tf_adapter
from adamproofs.conformance.protocol import Hyper, TargetError
from tests.conformance.frameworks import excess, message, run_check, trajectory, verdicts

H = Hyper(lr=0.1, beta1=0.875, beta2=0.9990234375, eps=2.0**-20)
THETA0 = np.array([0.0, 0.25, -0.5])
GRADS = [np.array([2.0**-20, -3 * 2.0**-21, 2.0**-19]) * (1 + k) for k in range(4)]
HAT = Adam(lr=H.lr, beta1=H.beta1, beta2=H.beta2, eps=H.eps, eps_placement="hat")


def test_tf1_adam_is_eps_hat_with_one_counter_and_conforms_in_float32():
    report = run_check("tensorflow", dtypes=["float32"])
    assert report["detected_variant"] == "eps_hat"
    assert report["variant_axes"]["step_scope"] == "optimizer"
    assert report["conforms"], verdicts(report)


def test_tf1_eps_hat_trajectory_is_within_the_error_bound():
    actual = trajectory(tf_adapter.make_implementation(), H, THETA0, GRADS, "float32")
    assert excess(HAT, THETA0, GRADS, actual, "float32") <= 1.0
    assert excess(HAT.replace(eps_placement="paper"), THETA0, GRADS, actual, "float32") > 1e3


def test_tf1_float64_uses_a_float32_learning_rate():
    """A finding: α is a float32 tensor cast to float64, so |Δ1| = float32(α) > α."""
    report = run_check("tensorflow", dtypes=["float64"], properties=["step_bound"])
    assert verdicts(report)[("step_bound", "float64")] == "fail"
    assert "0.0010000000474974513 exceeds" in message(report, "step_bound", "float64")


def test_tf_keras_legacy_adam_replaces_eps_zero_by_1e_7():
    pytest.importorskip("tf_keras", reason="tf_keras is not installed")
    impl = tf_adapter.make_implementation(optimizer="legacy.Adam")
    assert impl.optimizer(Hyper(eps=0.0)).epsilon == 1e-7
    report = run_check(impl, dtypes=["float32"], properties=["eps_zero"])
    assert verdicts(report)[("eps_zero", "float32")] == "fail"


def test_module_targets_are_detected_and_errors_are_clear():
    impl = load_target("tensorflow.compat.v1.train:AdamOptimizer")
    assert isinstance(impl, tf_adapter.TensorflowImplementation)
    import tensorflow as tf

    assert detect_kind(tf.compat.v1.train.AdamOptimizer) == "tensorflow"
    with pytest.raises(TargetError, match="optimizer='SGD'"):
        tf_adapter.make_implementation(optimizer="SGD")
    session = impl.create(Hyper(), [np.ones(2, dtype=np.float32)], np.dtype("float32"))
    with pytest.raises(ValueError, match="got 2 gradients for 1"):
        session.step([np.ones(2, dtype=np.float32)] * 2)


def test_tf_keras_adam_takes_a_variable_whose_first_gradient_comes_late():
    """Built with every variable first (as Model.fit does), the 2.11+ class updates a
    variable that had no gradient at the first step; the untouched one stays put."""
    pytest.importorskip("tf_keras", reason="tf_keras is not installed")
    impl = tf_adapter.make_implementation(optimizer="Adam")
    dt = np.dtype("float32")
    a0, b0 = np.array([1.0], dtype=dt), np.array([-1.0, 0.5], dtype=dt)
    session = impl.create(Hyper(lr=0.125), [a0, b0], dt)
    session.step([np.array([0.5], dtype=dt), None])
    np.testing.assert_array_equal(session.params()[1], b0)
    session.step([np.array([0.5], dtype=dt), np.array([0.25, -0.75], dtype=dt)])
    assert not np.array_equal(session.params()[1], b0)


def test_bfloat16_round_trips():
    import ml_dtypes

    dt = np.dtype(ml_dtypes.bfloat16)
    impl = tf_adapter.make_implementation()
    theta0 = np.array([1.0, -2.0]).astype(dt)
    session = impl.create(Hyper(lr=0.125), [theta0], dt)
    assert session.params()[0].dtype == dt
    session.step([np.array([0.5, 0.25]).astype(dt)])
    assert session.params()[0].dtype == dt
