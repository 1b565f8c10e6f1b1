"""The MLX adapter: the variant MLX's source follows, its defaults, and its float64 finding.

MLX (``python/mlx/optimizers/optimizers.py``): ``Adam(learning_rate, betas, eps,
bias_correction=False)`` — bias correction is off unless asked for; one ``state["step"]``
per optimizer; ``AdamW`` runs the Adam step on θ(1 − αλ); ``learning_rate`` is kept as
``mx.array(lr)``, a float32 array, and cast to the gradient's dtype.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mlx.core", reason="MLX is not installed (pip install 'mlx[cpu]')")

from adamproofs.config import Adam
from adamproofs.conformance._fingerprint import fingerprint
from adamproofs.conformance._targets import load_target
from adamproofs.conformance.adapters import mlx as mlx_adapter
from adamproofs.conformance.protocol import Hyper, TargetError
from tests.conformance.frameworks import excess, run_check, trajectory, verdicts

H = Hyper(lr=0.1, beta1=0.875, beta2=0.9990234375, eps=2.0**-20)
THETA0 = np.array([0.0, 0.25, -0.5])
GRADS = [np.array([0.5, -0.25, 1.0]) * (1 + k) for k in range(4)]


def _cfg(hyper: Hyper, **axes: object) -> Adam:
    return Adam(lr=hyper.lr, beta1=hyper.beta1, beta2=hyper.beta2, eps=hyper.eps, **axes)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_default_adam_conforms_to_no_bias_correction(dtype):
    """MLX's default (bias_correction=False) is checked as what it is, and conforms."""
    report = run_check("mlx", dtypes=[dtype])
    assert report["detected_variant"] == "no_bias_correction"
    assert report["variant_axes"]["bias_correction"] is False
    assert report["variant_axes"]["step_scope"] == "optimizer"
    assert report["conforms"], verdicts(report)


def test_bias_correction_option_gives_the_paper_variant():
    report = run_check("mlx", dtypes=["float32"], options={"bias_correction": True})
    assert report["detected_variant"] == "paper"
    assert report["conforms"], verdicts(report)


def test_adamw_decays_decoupled():
    impl = mlx_adapter.make_implementation(optimizer="AdamW")
    fp = fingerprint(impl, dtype="float32").describe()
    assert fp["decay"] == "decoupled" and fp["bias_correction"] is False


def test_float64_learning_rate_is_rounded_to_float32():
    """A finding: float64 runs use α rounded to float32 (``mx.array(lr)`` is float32). The
    precision probe sees it, and the report states it as float32 arithmetic for float64
    parameters (then judges the rows against that precision)."""
    report = run_check("mlx", dtypes=["float64"], properties=["first_step"])
    assert report["variant_axes"]["precision"] == "float32"
    variant_row = next(r for r in report["results"] if r["property"] == "variant")
    assert "float64 parameters are updated in float32 arithmetic" in variant_row["note"]
    actual = trajectory(mlx_adapter.make_implementation(), H, THETA0, GRADS, "float64")
    exact_lr = _cfg(H, bias_correction=False)
    rounded_lr = _cfg(H.replace(lr=float(np.float32(H.lr))), bias_correction=False)
    assert excess(exact_lr, THETA0, GRADS, actual, "float64") > 1e3
    assert excess(rounded_lr, THETA0, GRADS, actual, "float64") <= 1.0


def test_module_target_is_detected_and_inputs_are_left_alone():
    impl = load_target("mlx.optimizers:AdamW")
    assert isinstance(impl, mlx_adapter.MlxImplementation)
    assert impl.claims["decay"] == "decoupled"
    theta0 = np.array([1.0, -2.0], dtype=np.float32)
    g = np.array([0.5, 0.25], dtype=np.float32)
    keep = (theta0.copy(), g.copy())
    session = impl.create(Hyper(lr=0.1), [theta0], np.dtype("float32"))
    session.step([g])
    np.testing.assert_array_equal(theta0, keep[0])
    np.testing.assert_array_equal(g, keep[1])
    with pytest.raises(ValueError, match="got 2 gradients for 1"):
        session.step([g, g])
    with pytest.raises(TargetError, match="optimizer='SGD'"):
        mlx_adapter.make_implementation(optimizer="SGD")
    with pytest.raises(ValueError, match="takes no weight_decay"):
        mlx_adapter.make_implementation().create(
            Hyper(weight_decay=0.1), [theta0], np.dtype("float32")
        )
