"""The tinygrad adapter: the variant tinygrad's source follows and its findings.

tinygrad (``tinygrad/nn/optim.py``): ``Adam`` is ``LAMB(adam=True)``: m, v kept in
``OPTIM_DTYPE`` (float32 by default) whatever the parameter's dtype; the step count kept as
running products ``b1_t``, ``b2_t`` (float32, one per optimizer); α kept in a ``(1,)``
float32 tensor; update α·m̂/(√v̂ + ε), cast to the parameter's dtype.

On a machine without ``clang`` the adapter runs on tinygrad's ``PYTHON`` device.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tinygrad", reason="tinygrad is not installed (pip install tinygrad)")

from adamproofs.config import Adam
from adamproofs.conformance._targets import load_target
from adamproofs.conformance.adapters import tinygrad as tinygrad_adapter
from adamproofs.conformance.protocol import Hyper, TargetError
from tests.conformance.frameworks import excess, run_check, trajectory, verdicts

H = Hyper(lr=0.1, beta1=0.875, beta2=0.9990234375, eps=2.0**-20)
THETA0 = np.array([0.0, 0.25, -0.5])
GRADS = [np.array([0.5, -0.25, 1.0]) * (1 + k) for k in range(4)]
CFG = Adam(lr=H.lr, beta1=H.beta1, beta2=H.beta2, eps=H.eps)


@pytest.fixture(scope="module")
def adam():
    return tinygrad_adapter.make_implementation()


def test_variant_is_the_paper_with_one_counter_per_optimizer():
    report = run_check("tinygrad", dtypes=["float32"], properties=["first_step"])
    assert report["detected_variant"] == "paper"
    assert report["variant_axes"]["eps_placement"] == "paper"


def test_float32_trajectory_is_within_the_error_bound(adam):
    actual = trajectory(adam, H, THETA0, GRADS, "float32")
    assert excess(CFG, THETA0, GRADS, actual, "float32") <= 1.0


def test_float64_parameters_are_updated_in_float32(adam):
    """A finding: m, v, α and β^t are float32 tensors, so a float64 run has float32 error."""
    session = adam.create(H, [THETA0], np.dtype("float64"))
    assert str(session.optimizer.m[0].dtype) == "dtypes.float"
    actual = trajectory(adam, H, THETA0, GRADS, "float64")
    assert excess(CFG, THETA0, GRADS, actual, "float64") > 1e3
    assert excess(CFG, THETA0, GRADS, actual, "float32") <= 1.0
    report = run_check("tinygrad", dtypes=["float64"], properties=["first_step"])
    assert "updated in float32 arithmetic" in next(
        r["note"] for r in report["results"] if r["property"] == "variant"
    )


def test_a_scalar_parameter_raises(adam):
    """A finding: the update α·u has α's shape (1,), which cannot be assigned to a 0-d
    parameter ("cannot broadcast tensor to fewer dimensions")."""
    session = adam.create(H, [np.array(0.5)], np.dtype("float32"))
    with pytest.raises(ValueError, match="cannot broadcast"):
        session.step([np.array(0.25)])
    report = run_check("tinygrad", dtypes=["float32"], properties=["first_step"])
    assert verdicts(report)[("first_step", "float32")] == "fail"


def test_module_target_checkpoint_and_errors(adam):
    impl = load_target("tinygrad.nn.optim:AdamW")
    assert isinstance(impl, tinygrad_adapter.TinygradImplementation)
    assert "weight_decay" in impl.features and impl.claims["decay"] == "decoupled"
    h, dt = Hyper(lr=0.05), np.dtype("float32")
    rng = np.random.default_rng(3)
    theta0 = rng.normal(size=3).astype(dt)
    grads = [rng.normal(size=3).astype(dt) for _ in range(4)]
    straight = adam.create(h, [theta0], dt)
    for g in grads:
        straight.step([g])
    first = adam.create(h, [theta0], dt)
    for g in grads[:2]:
        first.step([g])
    resumed = adam.create(h, [np.zeros(3, dtype=dt)], dt)
    resumed.restore(first.save())
    for g in grads[2:]:
        resumed.step([g])
    np.testing.assert_array_equal(resumed.params()[0], straight.params()[0])
    with pytest.raises(ValueError, match="'skip'"):
        resumed.step([None])
    with pytest.raises(TargetError, match="optimizer='SGD'"):
        tinygrad_adapter.make_implementation(optimizer="SGD")
