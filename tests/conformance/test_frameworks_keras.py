"""The Keras adapter: loading, the variants Keras 3 really follows, and the documented findings.

Every expected value comes from the reference (mpmath) and the written error
model (:mod:`adamproofs.tolerance`), never from Keras's own output.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from adamproofs import reference
from adamproofs.config import Adam
from adamproofs.conformance import matrix
from adamproofs.conformance.adapters import keras as keras_adapter
from adamproofs.conformance.protocol import FrameworkMissing, Hyper, Implementation, TargetError
from adamproofs.tolerance import error_bound

if importlib.util.find_spec("keras") is None:
    pytest.skip("keras is not installed", allow_module_level=True)
try:  # chooses the backend (jax, else torch) before Keras is first imported
    ADAM = keras_adapter.make_implementation()
except FrameworkMissing as err:
    pytest.skip(f"Keras 3 is not usable here: {err}", allow_module_level=True)

from adamproofs.conformance._fingerprint import fingerprint
from adamproofs.conformance._runner import check

ROOT = Path(__file__).resolve().parents[2]
#: the backend the built-in ``keras`` target picks when KERAS_BACKEND is unset
DEFAULT_BACKEND = "jax" if importlib.util.find_spec("jax") else "torch"


@pytest.fixture(scope="module")
def adam() -> Implementation:
    return ADAM


def _run(
    impl: Implementation, hyper: Hyper, theta0: np.ndarray, grads: list, dtype: str
) -> list[np.ndarray]:
    dt = np.dtype(dtype)
    session = impl.create(hyper, [np.asarray(p, dtype=dt) for p in theta0], dt)
    rows = [session.params()]
    for g in grads:
        session.step([None if x is None else np.asarray(x, dtype=dt) for x in g])
        rows.append(session.params())
    return [np.stack([r[i] for r in rows]).astype(np.float64) for i in range(len(theta0))]


def _excess(
    cfg: Adam,
    theta0: np.ndarray,
    grads: list[np.ndarray],
    actual: np.ndarray,
    dtype: str,
    t0: int = 0,
) -> float:
    state0 = {"m": np.zeros(theta0.size), "v": np.zeros(theta0.size)} if t0 else None
    exact = reference.run(cfg, theta0, grads, dps=40, state0=state0, t0=t0).to_numpy("float64")
    bound = error_bound(cfg, exact, compute_dtype=dtype)
    return float(bound.excess(actual, exact["theta"]).max())


def test_adapter_loads_with_a_backend_and_declares_its_features(adam):
    assert isinstance(adam, Implementation)
    assert adam.backend in ("jax", "torch")
    assert {"float32", "float64", "weight_decay", "skip", "checkpoint"} <= adam.features
    assert adam.claims == {
        "eps_placement": "hat",
        "bias_correction": True,
        "amsgrad": None,
        "decay": "decoupled",
        "step_scope": "optimizer",
    }
    import keras

    assert keras_adapter.accepts(keras.optimizers.Adam) and not keras_adapter.accepts(len)
    own = keras_adapter.make_implementation(keras.optimizers.AdamW)
    assert own.claims["decay"] == "decoupled"


def test_fingerprint_keras_adam_is_eps_hat_with_decoupled_decay(adam):
    fp = fingerprint(adam).describe()
    assert fp["eps_placement"] == "hat" and fp["bias_correction"] is True
    assert fp["amsgrad"] is None
    assert fp["decay"] == "decoupled"
    assert fp["step_scope"] == "optimizer"


def test_fingerprint_keras_amsgrad_keeps_the_max_of_the_raw_v():
    fp = fingerprint(keras_adapter.make_implementation(amsgrad=True)).describe()
    assert fp["amsgrad"] == "max_raw"


def test_variant_paper_fails_for_the_documented_reason():
    """Keras uses ε̂ (Kingma & Ba, end of §2), not Algorithm 1: a finding, not our bug."""
    report = check(
        "keras", variant="paper", dtypes=["float64"], profile="quick", properties=[], progress=None
    )
    assert not report.conforms
    variant = next(r for r in report.as_dict()["results"] if r["property"] == "variant")
    assert variant["verdict"] == "fail"
    message = (variant["finding"] or {}).get("message", variant["note"])
    assert "eps_placement: required 'paper', detected 'hat'" in message
    own = check(
        "keras",
        variant="eps_hat,decay=decoupled,step_scope=optimizer",
        dtypes=["float64"],
        profile="quick",
        properties=[],
        progress=None,
    )
    assert own.conforms, own.table()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_eps_hat_trajectory_is_within_the_error_bound(adam, dtype):
    """|g| ≈ ε for several steps: ε̂ placement matches, the paper's does not."""
    h = Hyper(lr=0.5, beta1=0.875, beta2=0.9990234375, eps=2.0**-20)
    theta0 = np.array([0.0, 0.25, -0.5])
    grads = [np.array([2.0**-20, -3 * 2.0**-21, 2.0**-19]) * (1 + k) for k in range(4)]
    actual = _run(adam, h, [theta0], [[g] for g in grads], dtype)[0]
    hat = Adam(lr=h.lr, beta1=h.beta1, beta2=h.beta2, eps=h.eps, eps_placement="hat")
    assert _excess(hat, theta0, grads, actual, dtype) <= 1.0
    assert _excess(hat.replace(eps_placement="paper"), theta0, grads, actual, dtype) > 1e3


def test_none_gradient_skips_the_variable_but_the_counter_is_shared(adam):
    h = Hyper(lr=0.125, beta1=0.875, beta2=0.9990234375, eps=2.0**-30)
    a0, b0 = np.array([1.0]), np.array([-1.0, 0.5])
    ga, gb = np.array([0.5]), np.array([0.25, -0.75])
    _, b = _run(adam, h, [a0, b0], [[ga, None], [ga, None], [ga, gb], [ga, gb]], "float64")
    np.testing.assert_array_equal(b[:3], np.stack([b0] * 3))
    cfg = Adam(lr=h.lr, beta1=h.beta1, beta2=h.beta2, eps=h.eps, eps_placement="hat")
    assert _excess(cfg, b0, [gb, gb], b[2:], "float64", t0=2) <= 1.0
    assert _excess(cfg, b0, [gb, gb], b[2:], "float64", t0=0) > 1e3


def test_float64_learning_rate_precision_depends_on_floatx():
    """Keras keeps α in a variable of dtype floatx (float32 by default): a finding.

    With ``floatx="keep"`` a float64 run uses α rounded to float32 and leaves the
    float64 error bound; the default ``"match"`` builds under floatx=float64.
    """
    import keras

    floatx = keras.config.floatx()
    h = Hyper(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8)
    theta0, grads = np.array([0.0, 1.0]), [np.array([1.0, -0.5])] * 3
    cfg = Adam(lr=h.lr, beta1=h.beta1, beta2=h.beta2, eps=h.eps, eps_placement="hat")
    keep = keras_adapter.make_implementation(floatx="keep")
    match = keras_adapter.make_implementation()
    assert (
        _excess(
            cfg,
            theta0,
            grads,
            _run(match, h, [theta0], [[g] for g in grads], "float64")[0],
            "float64",
        )
        <= 1.0
    )
    assert (
        _excess(
            cfg,
            theta0,
            grads,
            _run(keep, h, [theta0], [[g] for g in grads], "float64")[0],
            "float64",
        )
        > 10.0
    )
    assert keras.config.floatx() == floatx  # restored


def test_checkpoint_resume_continues_the_same_trajectory(adam):
    h, dt = Hyper(lr=0.05, weight_decay=0.1), np.dtype("float32")
    rng = np.random.default_rng(3)
    theta0 = rng.normal(size=3).astype(dt)
    grads = [rng.normal(size=3).astype(dt) for _ in range(6)]
    straight = adam.create(h, [theta0], dt)
    for g in grads:
        straight.step([g])
    first = adam.create(h, [theta0], dt)
    for g in grads[:3]:
        first.step([g])
    resumed = adam.create(h, [np.zeros(3, dtype=dt)], dt)
    resumed.restore(first.save())
    for g in grads[3:]:
        resumed.step([g])
    np.testing.assert_array_equal(resumed.params()[0], straight.params()[0])


def test_inputs_are_not_mutated_and_errors_are_clear(adam):
    theta0 = np.array([1.0, -2.0], dtype=np.float32)
    g = np.array([0.5, 0.25], dtype=np.float32)
    keep = (theta0.copy(), g.copy())
    session = adam.create(Hyper(lr=0.1), [theta0], np.dtype("float32"))
    session.step([g])
    np.testing.assert_array_equal(theta0, keep[0])
    np.testing.assert_array_equal(g, keep[1])
    with pytest.raises(ValueError, match="got 2 gradients for 1"):
        session.step([g, g])
    with pytest.raises(TargetError, match="optimizer='SGD'"):
        keras_adapter.make_implementation(optimizer="SGD")
    with pytest.raises(TargetError, match="floatx='double'"):
        keras_adapter.make_implementation(floatx="double")


def test_bfloat16_hazard_beta2_rounds_to_one(adam):
    """A finding on Keras 3: β2 = 0.999 is cast to bfloat16, where it is 1.0, so the step size
    α√(1 − β2^t)/(1 − β1^t) is 0 and a bfloat16 variable never moves."""
    import ml_dtypes

    assert float(np.asarray(0.999, dtype=ml_dtypes.bfloat16)) == 1.0
    notes = matrix.hazards(adam, ["bfloat16"])
    assert any("bfloat16" in n and "never moves" in n for n in notes), notes


def _fresh_python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a new interpreter (Keras fixes its backend when first imported),
    without the caller's KERAS_BACKEND and with a fresh ``keras.json`` (backend tensorflow)."""
    full = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    full.update(KERAS_HOME=str(tmp_path), PYTHONPATH=str(ROOT), **env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=full,
        timeout=120,
    )


@pytest.mark.keras
def test_check_keras_module_target_chooses_the_backend_before_importing_it(tmp_path):
    """``keras.optimizers:AdamW`` gets the built-in target's backend, not tensorflow."""
    out = _fresh_python(
        """
        import sys
        from adamproofs.cli import main
        rc = main(["check", "keras.optimizers:AdamW", "--profile", "quick", "--quiet",
                   "--property", "first_step", "--only-dtype", "float32", "--in-process"])
        import keras
        print("backend:", keras.backend.backend())
        sys.exit(rc)
    """,
        tmp_path,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("CONFORMS: "), out.stdout
    assert f"backend: {DEFAULT_BACKEND}" in out.stdout


@pytest.mark.keras
@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
def test_keras_module_target_respects_the_users_keras_backend(tmp_path):
    out = _fresh_python(
        """
        from adamproofs.conformance._targets import load_target
        impl = load_target("keras.optimizers:AdamW")
        import keras
        print("backend:", impl.backend, keras.backend.backend())
    """,
        tmp_path,
        KERAS_BACKEND="torch",
    )
    assert out.returncode == 0, out.stderr
    assert "backend: torch torch" in out.stdout


@pytest.mark.keras
@pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is not None,
    reason="tensorflow is installed: Keras's default backend works",
)
def test_keras_module_target_without_a_backend_says_what_to_install(tmp_path):
    out = _fresh_python(
        """
        import sys
        sys.modules["jax"] = sys.modules["torch"] = None  # neither backend installed
        from adamproofs.cli import main
        sys.exit(main(["check", "keras.optimizers:AdamW", "--quiet", "--in-process"]))
    """,
        tmp_path,
    )
    assert out.returncode == 2, out.stdout + out.stderr
    assert "pip install keras jax (or torch)" in out.stderr


@pytest.mark.keras
def test_kind_keras_chooses_the_backend_before_importing_a_user_module(tmp_path):
    (tmp_path / "my_keras_adam.py").write_text(
        "import keras\n\n\nclass MyAdam(keras.optimizers.Adam):\n    pass\n"
    )
    out = _fresh_python(
        """
        from adamproofs.conformance._targets import load_target
        impl = load_target("my_keras_adam:MyAdam", kind="keras")
        print("backend:", impl.backend)
    """,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert f"backend: {DEFAULT_BACKEND}" in out.stdout
