"""The per-step replay: agreement, failures reported with numbers, never raised."""

from __future__ import annotations

import numpy as np
import pytest

from adamproofs.conformance._model import Case
from adamproofs.conformance._replay import check_case
from adamproofs.conformance.adapters.numpy import make_implementation
from adamproofs.conformance.protocol import Hyper, PlainImplementation
from adamproofs.variants import Variant
from tests.conformance import mutants


def _case(dtype="float64", steps=6, grads=None):
    rng = np.random.default_rng(1)
    p = [rng.normal(size=3).astype(dtype)]
    if grads is None:
        grads = [[rng.normal(size=3).astype(dtype)] for _ in range(steps)]
    return Case(dtype, Hyper(lr=0.01), p, grads)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_correct_implementation_agrees(dtype):
    run, verdict = check_case(make_implementation(), _case(dtype), Variant())
    assert verdict.passed, verdict.finding
    assert verdict.checked == 18 and verdict.worst_excess <= 1
    assert len(run.thetas) == 7


class _OffByUlps:
    """A plain Adam that adds 64 ulps to every result: must be caught in float64."""

    def __init__(self, params, **hyper):
        self.inner = mutants.NUMPY_CORRECT(params, **hyper)
        self.params = params

    def step(self, grads):
        self.inner.step(grads)
        for p in self.params:
            p += 64 * np.spacing(p)


def test_small_systematic_error_is_caught_with_both_numbers():
    _, verdict = check_case(PlainImplementation(_OffByUlps), _case(), Variant())
    assert not verdict.passed
    f = verdict.finding
    assert f.impl != f.exact and f.step == 1
    assert "exceeds the bound" in f.message


class _Raises:
    def __init__(self, params, **hyper):
        self.n = 0

    def step(self, grads):
        self.n += 1
        if self.n == 3:
            raise RuntimeError("boom at three")


def test_exception_is_a_failure_not_a_crash():
    _, verdict = check_case(PlainImplementation(_Raises), _case(), Variant())
    assert not verdict.passed
    assert "raised at step 3" in verdict.finding.message
    assert "boom at three" in verdict.finding.message


def test_mutating_the_gradient_is_reported():
    impl = PlainImplementation(mutants.NUMPY_mutates_grad)
    case = _case()
    before = [g[0].copy() for g in case.grads]
    _, verdict = check_case(impl, case, Variant())
    assert not verdict.passed and "mutated" in verdict.finding.message
    assert all(np.array_equal(a, g[0]) for a, g in zip(before, case.grads, strict=True))


def test_skipped_parameter_must_not_move():
    class MovesSkipped(mutants.NumpyAdam):
        def step(self, grads):
            super().step(grads)
            for p, g in zip(self.params, grads, strict=True):
                if g is None:
                    p += 1.0

    case = _case(steps=3)
    case.params.append(np.zeros(2))
    for k, row in enumerate(case.grads):
        row.append(None if k < 2 else np.ones(2))
    _, verdict = check_case(PlainImplementation(MovesSkipped), case, Variant())
    assert not verdict.passed and "gradient was None" in verdict.finding.message


def test_wrong_variant_is_rejected():
    _, ok = check_case(make_implementation(eps_placement="hat"), _case(), Variant("hat"))
    _, bad = check_case(
        make_implementation(eps_placement="hat"),
        _case(grads=[[np.array([1e-8, 2e-8, -1e-8])]] * 3),
        Variant("paper"),
    )
    assert ok.passed and not bad.passed


class _NanInShape:
    """A correct Adam that writes NaN into every parameter of one number of dimensions."""

    ndim = 0

    def __init__(self, params, **hyper):
        self.inner = mutants.NUMPY_CORRECT(params, **hyper)
        self.params = params

    def step(self, grads):
        self.inner.step(grads)
        for p in self.params:
            if p.ndim == self.ndim:
                p[...] = np.nan


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("ndim", [0, 1, 2])
def test_nonfinite_output_where_the_exact_value_is_finite_fails(dtype, ndim):
    rng = np.random.default_rng(2)
    shapes = [(), (3,), (2, 2)]
    params = [rng.normal(size=s).astype(np.float64) for s in shapes]
    grads = [[rng.normal(size=s) for s in shapes] for _ in range(3)]
    from adamproofs.dtypes import as_dtype

    dt = as_dtype(dtype)
    case = Case(
        dtype,
        Hyper(lr=0.01),
        [p.astype(dt) for p in params],
        [[g.astype(dt) for g in row] for row in grads],
    )
    impl = type("NanIn", (_NanInShape,), {"ndim": ndim})
    _, verdict = check_case(PlainImplementation(impl), case, Variant())
    assert not verdict.passed
    f = verdict.finding
    assert f.param == ndim and f.step == 1 and np.isnan(f.impl) and np.isfinite(f.exact)
    assert "finite" in f.message


def _half_case(dtype):
    """Gradients whose (1-β2)g² underflows the format: the first-order model gives up."""
    from adamproofs.dtypes import as_dtype

    dt = as_dtype(dtype)
    rng = np.random.default_rng(5)
    rep = lambda x: float(np.asarray(x).astype(dt).astype(np.float64))  # noqa: E731
    hyper = Hyper(
        lr=rep(0.01),
        beta1=rep(0.9),
        beta2=rep(0.999) if dtype == "float16" else rep(0.99),
        eps=rep(1e-3),
    )
    params = [rng.normal(size=3).astype(dt)]
    grads = [[(rng.normal(size=3) * 3e-3).astype(dt)] for _ in range(6)]
    return Case(dtype, hyper, params, grads)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_steps_outside_the_first_order_model_are_judged_by_the_enclosure(dtype):
    from adamproofs.conformance._replay import oracle_config, scalar_dtype
    from adamproofs.tolerance import local_error_bound

    case = _half_case(dtype)
    cfg = oracle_config(Variant(), case.hyper)
    exact = reference_trajectory(cfg, case)
    first = local_error_bound(cfg, exact, compute_dtype=dtype, scalar_dtype=scalar_dtype(dtype))
    if dtype == "float16":  # the first-order model declares itself invalid
        assert not np.all(np.isfinite(first))
    _, verdict = check_case(PlainImplementation(mutants.NUMPY_CORRECT), case, Variant())
    assert verdict.passed, verdict.finding
    assert verdict.unchecked == 0 and verdict.checked == 18


def reference_trajectory(cfg, case):
    from adamproofs import reference

    return reference.run(cfg, case.params[0], [row[0] for row in case.grads]).to_numpy()


class _OffByUlpsPerStep:
    """A correct Adam whose θ is moved by 16 ulps of the format after every step."""

    def __init__(self, params, **hyper):
        self.inner = mutants.NUMPY_CORRECT(params, **hyper)
        self.params = params

    def step(self, grads):
        self.inner.step(grads)
        for p in self.params:
            for _ in range(16):
                p[...] = np.nextafter(p, np.asarray(np.inf, p.dtype))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_the_enclosure_fails_a_result_outside_it(dtype):
    _, verdict = check_case(PlainImplementation(_OffByUlpsPerStep), _half_case(dtype), Variant())
    assert not verdict.passed
    f = verdict.finding
    assert "every correct result lies in" in f.message and f.impl > f.exact


def test_zero_gradients_with_eps_zero_are_judged():
    # m = v = 0 exactly: the step is 0/0 := 0, and the enclosure is exactly θ (no residue)
    case = Case(
        "float32",
        Hyper(lr=0.01, eps=0.0),
        [np.array([0.25, -1.0], np.float32)],
        [[np.array([0.0, 0.5], np.float32)], [np.array([0.0, -0.25], np.float32)]],
    )
    _, verdict = check_case(make_implementation(), case, Variant())  # gives 0, not NaN
    assert verdict.passed and verdict.unchecked == 0 and verdict.checked == 4
