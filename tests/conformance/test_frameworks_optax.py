"""The optax adapter: loading, the variants optax really follows, state, dtypes, errors.

Every expected value comes from the reference (mpmath) and the written error
model (:mod:`adamproofs.tolerance`), never from optax's own output.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("optax")
jax = pytest.importorskip("jax")

from adamproofs import reference  # noqa: E402
from adamproofs.config import Adam  # noqa: E402
from adamproofs.conformance import matrix  # noqa: E402
from adamproofs.conformance._fingerprint import fingerprint  # noqa: E402
from adamproofs.conformance.adapters import optax as optax_adapter  # noqa: E402
from adamproofs.conformance.protocol import Hyper, Implementation, TargetError  # noqa: E402
from adamproofs.tolerance import error_bound  # noqa: E402

#: g = 1 then 1e-3 ×5 (reference notes, §4): the three AMSGrad definitions differ by 30 %+.
AMS_THETA0 = np.array([0.0, 0.5])
AMS_GRADS = [np.array([1.0, -1.0])] + [np.array([1e-3, -1e-3])] * 5
AMS_HYPER = Hyper(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8)


def _run(
    impl: Implementation, hyper: Hyper, theta0: np.ndarray, grads: list[np.ndarray], dtype: str
) -> np.ndarray:
    """θ after every step, shape (T+1, n), as float64."""
    dt = np.dtype(dtype)
    session = impl.create(hyper, [theta0.astype(dt)], dt)
    rows = [session.params()[0]]
    for g in grads:
        session.step([g.astype(dt)])
        rows.append(session.params()[0])
    return np.stack(rows).astype(np.float64)


def _excess(
    cfg: Adam, theta0: np.ndarray, grads: list[np.ndarray], actual: np.ndarray, dtype: str
) -> float:
    """max |θ_impl − θ_exact| / bound, with 1 − β^t allowed to be float32 (optax's)."""
    dt = np.dtype(dtype)
    exact = reference.run(cfg, theta0.astype(dt), [g.astype(dt) for g in grads], dps=40).to_numpy(
        "float64"
    )
    bound = error_bound(cfg, exact, compute_dtype=dtype, scalar_dtype="float32")
    return float(bound.excess(actual, exact["theta"]).max())


def _cfg(h: Hyper, **axes) -> Adam:
    return Adam(
        lr=h.lr, beta1=h.beta1, beta2=h.beta2, eps=h.eps, weight_decay=h.weight_decay, **axes
    )


@pytest.fixture(scope="module")
def adam() -> Implementation:
    return optax_adapter.make_implementation()


def test_adapters_load_and_declare_what_optax_supports(adam):
    assert isinstance(adam, Implementation)
    assert {"float16", "bfloat16", "float32", "float64", "checkpoint"} <= adam.features
    assert "skip" not in adam.features and "weight_decay" not in adam.features
    adamw = optax_adapter.make_implementation(alias="adamw")
    assert "weight_decay" in adamw.features
    assert adam.claims["eps_placement"] == "paper"
    assert optax_adapter.make_implementation(alias="amsgrad").claims["amsgrad"] == "max_corrected"


def test_module_attr_target_of_optax_itself_gets_the_known_claims():
    import optax

    impl = optax_adapter.make_implementation(optax.adamw)
    assert impl.claims["decay"] == "decoupled"
    assert optax_adapter.accepts(optax.adam) and not optax_adapter.accepts(print)


def test_fingerprint_optax_adam_is_the_paper_algorithm(adam):
    fp = fingerprint(adam).describe()
    assert fp["eps_placement"] == "paper" and fp["bias_correction"] is True
    assert fp["amsgrad"] is None


def test_fingerprint_optax_adamw_is_decoupled_decay_before_the_step():
    fp = fingerprint(optax_adapter.make_implementation(alias="adamw")).describe()
    assert fp["decay"] == "decoupled"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_optax_amsgrad_keeps_the_max_of_the_corrected_v(dtype):
    """optax.amsgrad matches max_corrected within the error bound and no other definition."""
    impl = optax_adapter.make_implementation(alias="amsgrad")
    actual = _run(impl, AMS_HYPER, AMS_THETA0, AMS_GRADS, dtype)
    ratios = {
        form: _excess(_cfg(AMS_HYPER, amsgrad=form), AMS_THETA0, AMS_GRADS, actual, dtype)
        for form in ("max_raw", "max_corrected", "max_uncorrected")
    }
    assert ratios["max_corrected"] <= 1.0
    assert ratios["max_raw"] > 1e3 and ratios["max_uncorrected"] > 1e3


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adam_agrees_with_the_reference_eager_and_jitted(dtype, jit):
    impl = optax_adapter.make_implementation(jit=jit)
    rng = np.random.default_rng(7)
    theta0 = rng.normal(size=4)
    grads = [rng.normal(size=4) * 10.0 ** rng.uniform(-6, 2, size=4) for _ in range(12)]
    h = Hyper(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8)
    actual = _run(impl, h, theta0, grads, dtype)
    assert _excess(_cfg(h), theta0, grads, actual, dtype) <= 1.0


def test_float64_does_not_switch_on_x64_for_the_whole_process(adam):
    before = bool(jax.config.jax_enable_x64)
    out = _run(adam, Hyper(lr=0.1), np.ones(2), [np.ones(2)], "float64")
    assert out.dtype == np.float64 and bool(jax.config.jax_enable_x64) == before


def test_checkpoint_resume_continues_the_same_trajectory():
    impl = optax_adapter.make_implementation(alias="amsgrad")
    h, dt = AMS_HYPER, np.dtype("float32")
    grads = [g.astype(dt) for g in AMS_GRADS]
    straight = impl.create(h, [AMS_THETA0.astype(dt)], dt)
    for g in grads:
        straight.step([g])
    first = impl.create(h, [AMS_THETA0.astype(dt)], dt)
    for g in grads[:3]:
        first.step([g])
    blob = first.save()
    resumed = impl.create(h, [np.full(2, 9.0, dtype=dt)], dt)
    resumed.restore(blob)
    for g in grads[3:]:
        resumed.step([g])
    np.testing.assert_array_equal(resumed.params()[0], straight.params()[0])


def test_inputs_are_not_mutated(adam):
    theta0 = np.array([1.0, -2.0], dtype=np.float32)
    g = np.array([0.5, 0.25], dtype=np.float32)
    keep = (theta0.copy(), g.copy())
    session = adam.create(Hyper(lr=0.1), [theta0], np.dtype("float32"))
    session.step([g])
    out = session.params()
    out[0][:] = 42.0  # params() hands out copies
    np.testing.assert_array_equal(theta0, keep[0])
    np.testing.assert_array_equal(g, keep[1])
    assert not np.any(session.params()[0] == 42.0)


def test_bad_input_gets_clear_errors(adam):
    with pytest.raises(ValueError, match=r"weight_decay=0\.5"):
        adam.create(Hyper(weight_decay=0.5), [np.ones(1)], np.dtype("float64"))
    session = adam.create(Hyper(), [np.ones(1), np.ones(1)], np.dtype("float64"))
    with pytest.raises(ValueError, match="no per-parameter skip"):
        session.step([np.ones(1), None])
    with pytest.raises(ValueError, match="got 1 gradients for 2"):
        session.step([np.ones(1)])
    with pytest.raises(TargetError, match="alias='sgd'"):
        optax_adapter.make_implementation(alias="sgd")
    with pytest.raises(TypeError, match="int32"):
        adam.create(Hyper(), [np.ones(1, dtype=np.int32)], np.dtype("int32"))


def test_float16_zero_gradient_hazard_is_reported(adam):
    """A documented finding (optax #1754): ε = 1e-8 rounds to 0 in float16, 0/0 = NaN."""
    assert np.float16(1e-8) == 0
    notes = matrix.hazards(adam, ["float16"])
    assert any("float16" in n and "ε rounds to 0" in n for n in notes)


def test_matrix_row_and_markdown_for_optax(tmp_path, monkeypatch):
    """One matrix row through the engine (variant only) and its Markdown and JSON output."""
    entry = matrix.run_row(
        "optax amsgrad", dtypes=["float64"], profile="quick", seed=0, properties=[]
    )
    assert entry["status"] == "checked" and entry["verdict"] == "conforms"
    assert entry["variant"]["amsgrad"] == "max_corrected"
    entry.pop("report")
    monkeypatch.setattr(matrix, "installed", lambda module: module != "torch")
    absent = matrix.check_row(
        "torch", tmp_path, dtypes=["float64"], profile="quick", seed=0, timeout=60
    )
    assert absent["status"] == "not installed" and absent["verdict"] is None
    doc = {
        "dtypes": ["float64"],
        "environment": {"optax": "x"},
        "profile": "quick",
        "seed": 0,
        "rows": [entry, absent],
    }
    json_path, md_path = matrix.write_matrix(doc, tmp_path)
    md = md_path.read_text()
    assert "| optax amsgrad |" in md and "max_corrected" in md
    assert "| torch |" in md and "not installed" in md
    assert json_path.exists()


def test_matrix_cli_rejects_unknown_rows_and_dtypes(tmp_path, capsys):
    assert matrix.main(["--out", str(tmp_path), "--rows", "mxnet"]) == 2
    assert "mxnet" in capsys.readouterr().err
    assert matrix.main(["--out", str(tmp_path), "--rows", "numpy", "--dtypes", "int8"]) == 2
    assert matrix.main(["--rows", "numpy"]) == 2
