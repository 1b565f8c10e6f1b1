"""The compiled (numba) Adam kernel: bit-identical to the NumPy kernel, and optional.

Correctness only (no timings). The compiled loop must perform the NumPy kernel's
IEEE operations in the same order on the same rounded scalars, so every result
(θ, m, v, v_max) must match bit for bit, for every Adam variant, both compiled
dtypes, the serial and the multi-threaded loop, and special values.
"""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest

from adamproofs import SGD, Adam, AdaMax
from adamproofs.config import AMSGRAD_FORMS, EPS_PLACEMENTS
from adamproofs.fast import Optimizer
from adamproofs.fast import _compiled as compiled
from adamproofs.fast._plan import compile_plan

needs_numba = pytest.mark.skipif(not compiled.numba_available(), reason="numba not installed")

DTYPES = (np.float32, np.float64)
DECAYS = (None, "l2", "decoupled", "decoupled_after")
#: Every Adam variant the config can express (192 combinations).
VARIANTS = list(
    itertools.product(
        AMSGRAD_FORMS, EPS_PLACEMENTS, DECAYS, (False, True), (1e-8, 0.0), (True, False)
    )
)
SMALL = 1000
LARGE = compiled.PARALLEL_MIN + compiled.PARALLEL_BLOCK // 2 + 3  # a ragged last block


def _config(form, place, decay, maximize, eps, bias) -> Adam:
    return Adam(
        lr=0.01,
        beta1=0.8,
        beta2=0.99,
        eps=eps,
        eps_placement=place,
        bias_correction=bias,
        amsgrad=form,
        weight_decay=0.1 if decay else 0.0,
        decay=decay or "l2",
        maximize=maximize,
    )


def _gradients(rng: np.random.Generator, n: int, dtype, steps: int) -> list[np.ndarray]:
    """Normal gradients with exact zeros (0/0 when ε = 0), signed zeros and tiny values."""
    out = []
    for _ in range(steps):
        g = rng.standard_normal(n).astype(dtype)
        g[::11] = 0.0
        g[5::13] = -0.0
        g[7::17] *= np.finfo(dtype).tiny  # subnormal squares: no flush-to-zero allowed
        out.append(g)
    return out


def _bits(a: np.ndarray) -> np.ndarray:
    """Bit patterns, with every NaN mapped to one pattern (payloads may differ)."""
    a = np.where(np.isnan(a), np.array(np.nan, a.dtype), a)
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


def assert_bit_identical(x: np.ndarray, y: np.ndarray, what: str) -> None:
    bx, by = _bits(x), _bits(y)
    if not np.array_equal(bx, by):
        i = int(np.flatnonzero(bx != by)[0])
        raise AssertionError(f"{what}: first difference at {i}: {x[i]!r} vs {y[i]!r}")


def _run_both(
    cfg: Adam,
    params: list[np.ndarray],
    grads: list[list[np.ndarray]],
    threads: int | None,
    state_dtype="auto",
) -> tuple[Optimizer, Optimizer]:
    opts = []
    for backend in ("numpy", "numba"):
        ps = [p.copy() for p in params]
        opt = Optimizer(cfg, ps, backend=backend, state_dtype=state_dtype)
        compiled.set_num_threads(threads)
        try:
            with np.errstate(all="ignore"):  # ε = 0 with underflowing v divides by zero
                for gs in grads:
                    opt.step(gs)
        finally:
            compiled.set_num_threads(None)
        opts.append(opt)
    return opts[0], opts[1]


def _compare(ref: Optimizer, fast: Optimizer, label: str) -> None:
    for i, (p, q) in enumerate(zip(ref.params, fast.params)):
        assert_bit_identical(p, q, f"{label} theta[{i}]")
        for name in ref.state[i]:
            assert_bit_identical(ref.state[i][name], fast.state[i][name], f"{label} {name}[{i}]")


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_variant_bit_identical_serial(dtype) -> None:
    rng = np.random.default_rng(7)
    for variant in VARIANTS:
        cfg = _config(*variant)
        params = [rng.standard_normal(SMALL).astype(dtype)]
        grads = [[g] for g in _gradients(rng, SMALL, dtype, 3)]
        ref, fast = _run_both(cfg, params, grads, threads=1)
        assert fast.backend is compiled.adam_kernel
        _compare(ref, fast, f"{np.dtype(dtype).name} {variant}")


def _parallel_threads() -> int:
    import numba

    n = numba.config.NUMBA_NUM_THREADS
    if n < 2:
        pytest.skip("numba has a single thread here (NUMBA_NUM_THREADS=1)")
    return min(n, 4)


#: Each value of each axis at least once (the parallel loop runs the serial one on blocks).
PARALLEL_VARIANTS = [v for i, v in enumerate(VARIANTS) if i % 11 == 0]


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_variants_bit_identical_parallel(dtype) -> None:
    threads = _parallel_threads()
    rng = np.random.default_rng(8)
    params = [rng.standard_normal(LARGE).astype(dtype)]
    grads = [[g] for g in _gradients(rng, LARGE, dtype, 2)]
    for variant in PARALLEL_VARIANTS:
        cfg = _config(*variant)
        ref, fast = _run_both(cfg, params, grads, threads=threads)
        _compare(ref, fast, f"{np.dtype(dtype).name} {variant} threads={threads}")


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_random_hyperparameters_and_long_run(dtype) -> None:
    """Random α, β1, β2, ε, λ over 30 steps: the two paths never drift apart."""
    rng = np.random.default_rng(9)
    for _ in range(6):
        variant = VARIANTS[rng.integers(len(VARIANTS))]
        form, place, decay, maximize, _, bias = variant
        cfg = Adam(
            lr=float(10 ** rng.uniform(-4, 0)),
            beta1=float(rng.uniform(0, 0.99)),
            beta2=float(rng.uniform(0.5, 0.9999)),
            eps=float(10 ** rng.uniform(-12, -1)),
            eps_placement=place,
            bias_correction=bias,
            amsgrad=form,
            weight_decay=float(rng.uniform(0, 0.5)) if decay else 0.0,
            decay=decay or "l2",
            maximize=maximize,
        )
        shapes = [(3, 5), (SMALL,), (7,)]
        params = [rng.standard_normal(s).astype(dtype) for s in shapes]
        grads = [
            [(rng.standard_normal(s) * 10 ** rng.uniform(-6, 3)).astype(dtype) for s in shapes]
            for _ in range(30)
        ]
        ref, fast = _run_both(cfg, params, grads, threads=1)
        _compare(ref, fast, f"{cfg}")


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_nonfinite_values_propagate_alike(dtype) -> None:
    rng = np.random.default_rng(10)
    for form in AMSGRAD_FORMS:
        cfg = Adam(lr=0.1, amsgrad=form, weight_decay=0.01)
        params = [rng.standard_normal(64).astype(dtype)]
        params[0][3] = np.inf
        g1 = rng.standard_normal(64).astype(dtype)
        g1[[0, 9]] = np.nan
        g1[[1, 10]] = np.inf
        g1[[2, 11]] = -np.inf
        g2 = rng.standard_normal(64).astype(dtype)
        g2[20] = np.nan
        with np.errstate(invalid="ignore", over="ignore"):
            ref, fast = _run_both(cfg, params, [[g1], [g2]], threads=1)
        _compare(ref, fast, f"nonfinite {form}")


@needs_numba
def test_step_many_matches_one_by_one() -> None:
    rng = np.random.default_rng(11)
    cfg = Adam(amsgrad="max_corrected", eps_placement="root", lr=0.05)
    dt = np.dtype(np.float32)
    ps = [rng.standard_normal(n).astype(dt) for n in (1, 10, 1000, 33)]
    gs = [rng.standard_normal(p.size).astype(dt) for p in ps]
    qs = [p.copy() for p in ps]
    originals = [p.copy() for p in ps]
    st_a = [{k: np.zeros(p.size, dt) for k in ("m", "v", "vmax")} for p in ps]
    st_b = [{k: a.copy() for k, a in st.items()} for st in st_a]
    plan = compile_plan(cfg, dt)
    s = plan.scalars(1)
    compiled.adam_step_many(plan, s, ps, gs, st_a)
    for q, g, st in zip(qs, gs, st_b):
        compiled.adam_kernel(plan, s, q, g, st)
    for p, q in zip(ps, qs):
        assert_bit_identical(p, q, "step_many")
    assert all(not np.array_equal(p, o) for p, o in zip(ps, originals))  # really updated
    for st, st_ref in zip(st_a, st_b):
        for name in st:
            assert_bit_identical(st[name], st_ref[name], f"step_many {name}")


@needs_numba
def test_gradients_and_constants_are_not_mutated() -> None:
    rng = np.random.default_rng(12)
    cfg = Adam(weight_decay=0.1, maximize=True)
    p = rng.standard_normal(LARGE).astype(np.float32)
    g = rng.standard_normal(LARGE).astype(np.float32)
    g_before = g.copy()
    opt = Optimizer(cfg, [p], backend="numba")
    opt.step([g])
    assert_bit_identical(g, g_before, "gradient")


@needs_numba
def test_float16_and_mixed_dtypes_fall_back_to_numpy() -> None:
    """Dtypes numba does not compile run the NumPy kernel inside the compiled backend."""
    rng = np.random.default_rng(13)
    cfg = Adam(lr=0.01)
    params = [
        rng.standard_normal(100).astype(np.float16),
        rng.standard_normal(100).astype(np.float32),
    ]
    grads = [
        [rng.standard_normal(100).astype(np.float16), rng.standard_normal(100).astype(np.float32)]
        for _ in range(3)
    ]
    ref, fast = _run_both(cfg, params, grads, threads=1)  # float16 params, float32 state
    _compare(ref, fast, "mixed, auto state")
    ref, fast = _run_both(
        cfg, params[:1], [gs[:1] for gs in grads], threads=1, state_dtype=np.float16
    )  # float16 state: the kernel's fallback
    _compare(ref, fast, "float16 state")
    assert not np.array_equal(fast.params[0], params[0])


@needs_numba
def test_select_backend() -> None:
    assert compiled.select_backend("auto", Adam()) is compiled.adam_kernel
    assert compiled.select_backend("numba", Adam()) is compiled.adam_kernel
    assert compiled.select_backend("numpy", Adam()) is None
    for other in (SGD(), AdaMax()):  # other optimizers stay on NumPy
        assert compiled.select_backend("auto", other) is None
    with pytest.raises(ValueError, match=r"'cuda'.*'auto', 'numpy', 'numba'"):
        compiled.select_backend("cuda", Adam())


def test_fallback_without_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiled, "numba_available", lambda: False)
    assert compiled.select_backend("auto", Adam()) is None
    with pytest.raises(ImportError, match="numba"):
        compiled.select_backend("numba", Adam())
    w, w_ref = np.ones(5, np.float32), np.ones(5, np.float32)
    opt = Optimizer(Adam(lr=0.1), [w])  # backend="auto"
    assert opt.backend is None
    ref = Optimizer(Adam(lr=0.1), [w_ref], backend="numpy")
    for _ in range(2):
        opt.step([np.full(5, 2.0, np.float32)])
        ref.step([np.full(5, 2.0, np.float32)])
    assert_bit_identical(w, w_ref, "fallback")
    assert np.all(w < 1)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_num_threads_rejects_bad_values(bad) -> None:
    with pytest.raises(ValueError, match="positive int"):
        compiled.set_num_threads(bad)


@needs_numba
def test_more_threads_than_numbas_pool_are_capped_for_the_compiled_loop() -> None:
    import numba

    pool = numba.config.NUMBA_NUM_THREADS
    compiled.set_num_threads(pool + 1)  # the NumPy backend may use them
    try:
        assert compiled.get_num_threads() == pool
        w = np.zeros(compiled.PARALLEL_MIN, np.float32)
        Optimizer(Adam(), [w], backend="numba").step([np.ones_like(w)])
        assert np.all(w < 0)
    finally:
        compiled.set_num_threads(None)


def test_package_works_when_numba_cannot_be_imported() -> None:
    """A fresh interpreter where ``import numba`` fails: NumPy kernels, same API."""
    code = "\n".join(
        [
            "import sys",
            "sys.modules['numba'] = None  # makes 'import numba' raise ImportError",
            "import numpy as np",
            "from adamproofs import Adam",
            "from adamproofs.fast import Optimizer, _compiled as compiled",
            "assert not compiled.numba_available()",
            "w = np.ones(3, np.float32)",
            "opt = Optimizer(Adam(lr=0.1), [w])",
            "assert opt.backend is None",
            "opt.step([np.ones(3, np.float32)])",
            "assert (w < 1).all()",
            "print('ok')",
        ]
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
