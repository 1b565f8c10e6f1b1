r"""Optional compiled kernels (numba): one fused pass over memory per Adam step.

The package works without numba: :func:`select_backend` then returns ``None``
and :class:`~adamproofs.fast.Optimizer` runs the chunked NumPy kernels of
:mod:`adamproofs.fast._kernels`.

With numba, :func:`select_backend` returns :func:`adam_kernel`, with the
optimizer's kernel signature ``kernel(plan, scalars, p, g, state)`` on flat
arrays. It reads θ, g, m, v (and v_max) once and writes θ, m, v (and v_max) once:
7 array passes, the memory-traffic minimum, against about 20 for the NumPy
kernels. It is *bit-identical* to the NumPy kernel because it performs the same
IEEE operations, on the same rounded scalars, in the same order, per element:

.. math::

    e &= \begin{cases} \lambda\theta \pm g & \text{L2 decay} \\ g & \text{otherwise}\end{cases}\\
    m &\leftarrow \beta_1 m + ((\pm 1)(1-\beta_1)) e, \qquad
    v \leftarrow \beta_2 v + (e e)(1-\beta_2)\\
    d &= \sqrt{r / s_2 + \epsilon} \;\;(\epsilon\text{-root}),\qquad
    d = \sqrt{r\, s_3} / s_1 + \epsilon \;\;(\text{paper}, \hat\epsilon)\\
    \theta &\leftarrow ((\theta\, s_b) - (m / d)\,\alpha_t)\, s_a

where r is v or the running maximum, and every variant axis of
:class:`~adamproofs.config.Adam` is a choice of the scalars s_1, s_2, s_3
(1, √(1-β2^t) or 1-β2^t), s_b, s_a (1 or 1-αλ) and of the sign. The
variant-selecting operations are exact: x·1 = x, x/1 = x, -(a·b) = a·(-b)
and a - b = a + (-b) hold bit for bit in IEEE arithmetic (NaN payloads
aside), so two compiled loops (ε-root and the rest; with and without AMSGrad's
v_max) cover every variant without changing a single rounding, with two divisions
and one square root per element, like PyTorch's fused kernel. No ``fastmath`` (no
reassociation, no FMA contraction) and no flush-to-zero: the tests check bit-identity
against the NumPy kernel for every variant, dtype and thread count.

Arrays of at least :data:`PARALLEL_MIN` elements use a ``parallel=True``
loop (``prange``) on :func:`get_num_threads` threads; smaller ones a serial loop.
Only float32 and float64 are compiled; other dtypes and the other optimizers
run on the NumPy kernels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np
from typing_extensions import assert_never

from ..config import Adam, OptimizerConfig
from ..variants import Amsgrad, Decay, EpsPlacement
from . import _kernels as kernels
from . import _threads as _threads
from ._chunked import run_chunked, run_chunked_many
from ._plan import AdamPlan, Scalars

CompiledKernel = Callable[..., None]

#: Arrays with at least this many elements use the multi-threaded loop.
PARALLEL_MIN = 1 << 17

#: Elements per task of the parallel loop (contiguous blocks, scheduled by numba).
PARALLEL_BLOCK = 1 << 15

#: Dtypes the compiled loops are built for.
COMPILED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


_numba: Any
try:  # numba is optional
    import numba

    _numba = numba
except ImportError:  # pragma: no cover - exercised by the no-numba CI job
    _numba = None


def numba_available() -> bool:
    """True when numba can be imported (the compiled kernels can be used)."""
    return _numba is not None


def set_num_threads(n: int | None) -> None:
    """Threads for the parallel loops of both backends (``None``: the default, see
    :mod:`adamproofs.fast._threads`). The compiled loop uses at most numba's pool
    (``NUMBA_NUM_THREADS``); the NumPy backend may use more."""
    _threads.set_num_threads(n)


def get_num_threads() -> int:
    """Threads the compiled parallel loop will use (capped by numba's pool)."""
    n = _threads.get_num_threads()
    return min(n, _numba.config.NUMBA_NUM_THREADS) if _numba is not None else n


# -- the compiled loops -------------------------------------------------------------------
# The scalars travel as one array k of the compute dtype, in the order
# (b1, c1, b2, c2, wd, sg, s1, s2, s3, s4, eps, step, sb, sa, zero), so every operation
# runs in the compute dtype (no silent promotion to float64).
_K_LEN = 15

if _numba is not None:
    _opts: dict[str, Any] = dict(cache=True, error_model="numpy", nogil=True, boundscheck=False)

    @_numba.njit(inline="always", **_opts)
    def _elem(pi, gi, mi, vi, ai, k, l2, root, ez, ams):  # pragma: no cover - compiled
        # `root` and `ams` are constants at every call site (the branch is compiled away);
        # every other variant choice is a select on a loop-invariant flag or an exact
        # scalar, so the loop vectorizes. The operations are the NumPy kernel's, in order.
        b1, c1, b2, c2, wd, sg, s1, s2, s3, s4, eps, step, sb, sa, zero = k
        # effective gradient (L2 decay folds λθ in; the sign of g carries maximize)
        e = pi * wd
        e = e + gi * sg
        e = e if l2 else gi
        mi = mi * b1
        mi = mi + e * c1
        vi = vi * b2
        t = e * e
        vi = vi + t * c2
        if ams:  # np.maximum(vmax, v / s4): a NaN first operand wins, as in NumPy
            w = vi / s4
            ai = ai if ((ai >= w) | (ai != ai)) else w
            r = ai
        else:
            r = vi
        if root:  # a compile-time constant in every caller: two divisions per element
            x = r / s2
            x = x + eps
            d = math.sqrt(x)
        else:
            x = r * s3
            d = math.sqrt(x)
            d = d / s1
            d = d + eps
        q = mi / d
        q = zero if (ez & (mi == zero)) else q  # 0/0 := 0 when ε = 0
        q = q * step
        pi = pi * sb
        pi = pi - q
        pi = pi * sa
        return pi, mi, vi, ai

    @_numba.njit(**_opts)
    def _adam_serial(p, g, m, v, k, l2, root, ez):  # pragma: no cover - compiled
        kk = (
            k[0],
            k[1],
            k[2],
            k[3],
            k[4],
            k[5],
            k[6],
            k[7],
            k[8],
            k[9],
            k[10],
            k[11],
            k[12],
            k[13],
            k[14],
        )
        if root:  # one loop per ε placement family, each with constant `root`
            for i in range(p.shape[0]):
                pi, mi, vi, _ = _elem(p[i], g[i], m[i], v[i], kk[14], kk, l2, True, ez, False)
                p[i] = pi
                m[i] = mi
                v[i] = vi
        else:
            for i in range(p.shape[0]):
                pi, mi, vi, _ = _elem(p[i], g[i], m[i], v[i], kk[14], kk, l2, False, ez, False)
                p[i] = pi
                m[i] = mi
                v[i] = vi

    @_numba.njit(**_opts)
    def _adam_serial_ams(p, g, m, v, a, k, l2, root, ez):  # pragma: no cover - compiled
        kk = (
            k[0],
            k[1],
            k[2],
            k[3],
            k[4],
            k[5],
            k[6],
            k[7],
            k[8],
            k[9],
            k[10],
            k[11],
            k[12],
            k[13],
            k[14],
        )
        if root:
            for i in range(p.shape[0]):
                pi, mi, vi, ai = _elem(p[i], g[i], m[i], v[i], a[i], kk, l2, True, ez, True)
                p[i] = pi
                m[i] = mi
                v[i] = vi
                a[i] = ai
        else:
            for i in range(p.shape[0]):
                pi, mi, vi, ai = _elem(p[i], g[i], m[i], v[i], a[i], kk, l2, False, ez, True)
                p[i] = pi
                m[i] = mi
                v[i] = vi
                a[i] = ai

    @_numba.njit(parallel=True, **_opts)
    def _adam_parallel(p, g, m, v, k, l2, root, ez, block):  # pragma: no cover - compiled
        n = p.shape[0]
        for b in _numba.prange((n + block - 1) // block):
            lo = b * block
            hi = min(lo + block, n)
            _adam_serial(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], k, l2, root, ez)

    @_numba.njit(parallel=True, **_opts)
    def _adam_parallel_ams(p, g, m, v, a, k, l2, root, ez, block):  # pragma: no cover
        n = p.shape[0]
        for b in _numba.prange((n + block - 1) // block):
            lo = b * block
            hi = min(lo + block, n)
            _adam_serial_ams(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], a[lo:hi], k, l2, root, ez)


#: The loop's selectors: (l2, neg_g, neg_c1, s4_bc2, s1_sqrt, s2_bc2, s3_bc2, shrink_before,
#: shrink_after, root, ams); see :func:`loop_flags`.
Flags = tuple[bool, bool, bool, bool, bool, bool, bool, bool, bool, bool, bool]


@cache
def loop_flags(
    place: EpsPlacement, form: Amsgrad | None, decay: Decay | None, maximize: bool
) -> Flags:
    """Which scalar each slot of ``k`` takes for a variant (cached: four enums or bools)."""
    match form:
        case None | Amsgrad.MAX_RAW:
            corrected = False
        case Amsgrad.MAX_CORRECTED | Amsgrad.MAX_UNCORRECTED:  # r already in corrected space
            corrected = True
        case _:
            assert_never(form)
    match place:
        case EpsPlacement.PAPER:
            s1_sqrt, s2_bc2, s3_bc2 = not corrected, False, False
        case EpsPlacement.ROOT:
            s1_sqrt, s2_bc2, s3_bc2 = False, not corrected, False
        case EpsPlacement.HAT:
            s1_sqrt, s2_bc2, s3_bc2 = False, False, corrected
        case _:
            assert_never(place)
    match decay:
        case None | Decay.L2 | Decay.DECOUPLED | Decay.DECOUPLED_AFTER:
            l2 = decay is Decay.L2
        case _:
            assert_never(decay)
    return (
        l2,
        maximize and l2,  # sg = -1: λθ - g
        maximize and not l2,  # c1 -> -c1: m - (1-β1)g
        form is Amsgrad.MAX_CORRECTED,  # s4 = 1-β2^t
        s1_sqrt,  # s1 = √(1-β2^t)
        s2_bc2,  # s2 = 1-β2^t
        s3_bc2,  # s3 = 1-β2^t
        decay is Decay.DECOUPLED,  # sb = 1-αλ
        decay is Decay.DECOUPLED_AFTER,  # sa = 1-αλ
        place is EpsPlacement.ROOT,
        form is not None,
    )


def adam_constants(plan: AdamPlan, s: Scalars) -> tuple[np.ndarray, bool, bool, bool, bool]:
    """The scalar array ``k`` and the flags ``(l2, root, ez, ams)`` of one step.

    Every entry of ``k`` is one of the NumPy kernel's rounded scalars, its exact
    negation, or exactly 1 or 0, so the compiled loop rounds where the NumPy one does.
    """
    l2, neg_g, neg_c1, s4_bc2, s1_sq, s2_bc2, s3_bc2, before, after, root, ams = loop_flags(
        plan.eps_placement, plan.amsgrad, plan.decay, plan.maximize
    )
    dt = plan.dtype
    one = dt.type(1)
    k = np.empty(_K_LEN, dtype=dt)  # filled from a sequence: fast for 0-d arrays too
    k[:] = (
        s.b1,
        -s.c1 if neg_c1 else s.c1,
        s.b2,
        s.c2,
        s.wd,
        dt.type(-1) if neg_g else one,
        s.sqrt_bc2 if s1_sq else one,
        s.bc2 if s2_bc2 else one,
        s.bc2 if s3_bc2 else one,
        s.bc2 if s4_bc2 else one,
        s.eps,
        s.step_size,
        s.shrink if before else one,
        s.shrink if after else one,
        dt.type(0),
    )
    return k, l2, root, bool(s.eps == 0), ams


def adam_kernel(
    plan: AdamPlan, s: Scalars, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]
) -> None:
    """One Adam step on whole flat arrays, in place (the optimizer's kernel signature).

    ``p``, ``g`` and the state arrays are 1-D, C-contiguous, of the compute dtype.
    float32/float64 run the compiled loop; any other dtype the NumPy kernel in chunks.
    """
    if p.dtype not in COMPILED_DTYPES:
        run_chunked(kernels.adam_kernel, plan, s, p, g, state)
        return
    k, l2, root, ez, ams = adam_constants(plan, s)
    _run(p, g, state, k, l2, root, ez, ams)


def _run(
    p: np.ndarray,
    g: np.ndarray,
    state: dict[str, np.ndarray],
    k: np.ndarray,
    l2: bool,
    root: bool,
    ez: bool,
    ams: bool,
) -> None:
    m, v = state["m"], state["v"]
    threads = get_num_threads() if p.shape[0] >= PARALLEL_MIN else 1
    if threads > 1:
        previous = _numba.get_num_threads()
        if previous != threads:
            _numba.set_num_threads(threads)
        try:
            if ams:
                _adam_parallel_ams(p, g, m, v, state["vmax"], k, l2, root, ez, PARALLEL_BLOCK)
            else:
                _adam_parallel(p, g, m, v, k, l2, root, ez, PARALLEL_BLOCK)
        finally:
            if previous != threads:
                _numba.set_num_threads(previous)
    elif ams:
        _adam_serial_ams(p, g, m, v, state["vmax"], k, l2, root, ez)
    else:
        _adam_serial(p, g, m, v, k, l2, root, ez)


def adam_step_many(
    plan: AdamPlan,
    s: Scalars,
    params: Sequence[np.ndarray],
    grads: Sequence[np.ndarray],
    states: Sequence[dict[str, np.ndarray]],
) -> None:
    """:func:`adam_kernel` over many flat arrays sharing one step's scalars (same dtype, t).

    The constants are built once, so the per-array cost is one compiled call.
    """
    if not params:
        return
    if params[0].dtype not in COMPILED_DTYPES:
        run_chunked_many(kernels.adam_kernel, plan, s, list(zip(params, grads, states)))
        return
    k, l2, root, ez, ams = adam_constants(plan, s)
    for p, g, st in zip(params, grads, states):
        _run(p, g, st, k, l2, root, ez, ams)


def select_backend(name: str, config: OptimizerConfig) -> CompiledKernel | None:
    """``"numpy"`` -> None; ``"auto"`` -> compiled if available; ``"numba"`` -> compiled or error.

    Only :class:`~adamproofs.config.Adam` (every variant) is compiled; for the other
    optimizers ``"auto"`` and ``"numba"`` return ``None`` (the NumPy kernels).
    """
    if name not in ("auto", "numpy", "numba"):
        raise ValueError(f"backend={name!r} is not one of ('auto', 'numpy', 'numba')")
    if name == "numpy":
        return None
    if not numba_available():
        if name == "numba":
            raise ImportError("backend='numba' needs numba (pip install 'adamproofs[speed]')")
        return None
    if isinstance(config, Adam):
        return adam_kernel
    return None


def warm_up() -> None:
    """Compile (or load from numba's cache) every loop for float32 and float64."""
    if _numba is None:
        return
    for dt in COMPILED_DTYPES:
        x = np.zeros(4, dtype=dt)
        k = np.ones(_K_LEN, dtype=dt)
        _adam_serial(x.copy(), x, x.copy(), x.copy(), k, False, False, False)
        _adam_serial_ams(x.copy(), x, x.copy(), x.copy(), x.copy(), k, False, False, False)
        _adam_parallel(x.copy(), x, x.copy(), x.copy(), k, False, False, False, 2)
        _adam_parallel_ams(x.copy(), x, x.copy(), x.copy(), x.copy(), k, False, False, False, 2)


__all__: list[Any] = [
    "COMPILED_DTYPES",
    "PARALLEL_MIN",
    "adam_constants",
    "adam_kernel",
    "adam_step_many",
    "get_num_threads",
    "numba_available",
    "select_backend",
    "set_num_threads",
    "warm_up",
]


def select_many(kernel: CompiledKernel | None) -> Callable[..., None] | None:
    """The multi-array entry point matching a kernel from :func:`select_backend` (or None)."""
    return adam_step_many if kernel is adam_kernel else None
