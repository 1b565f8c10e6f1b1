"""The timed implementations of one Adam step (PyTorch's defaults: α=1e-3, β=(0.9, 0.999)).

All contenders of one size update the *same* θ, g, m, v arrays (torch through
``torch.from_numpy`` views, the fast optimizers through their state dicts), so
every contender sees the same cache and page state. The bandwidth probe is a
numba loop with Adam's exact memory traffic (read θ, g, m, v; write θ, m, v) and
almost no arithmetic: x·1 and + g·0 with run-time 1 and 0 (three multiplies and one
add per element, against Adam's fifteen operations) keep the compiler from removing
the stores and leave every (finite) value unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from adamproofs import Adam
from adamproofs.fast import Optimizer, set_num_threads
from adamproofs.fast import _compiled as compiled
from adamproofs.fast._plan import compile_plan

from .timing import Contender

CONFIG = Adam(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


_PROBE: Any = None


def _probe_kernel() -> Any:
    global _PROBE
    if _PROBE is None:
        import numba

        # The same loop shape as the compiled Adam (adamproofs.fast._compiled): all four
        # loads, then the three stores; the parallel form runs the serial loop on blocks.
        @numba.njit(cache=True, nogil=True, boundscheck=False)
        def probe_serial(p, g, m, v, one, zero):  # pragma: no cover - compiled
            for i in range(p.shape[0]):
                pi, gi, mi, vi = p[i], g[i], m[i], v[i]
                p[i] = pi * one
                m[i] = mi * one
                v[i] = vi * one + gi * zero

        @numba.njit(parallel=True, cache=True, nogil=True, boundscheck=False)
        def probe(p, g, m, v, one, zero):  # pragma: no cover - compiled
            n, block = p.shape[0], compiled.PARALLEL_BLOCK
            for b in numba.prange((n + block - 1) // block):
                lo = b * block
                hi = min(lo + block, n)
                probe_serial(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], one, zero)

        _PROBE = (probe, probe_serial)
    return _PROBE


def _adamproofs_threads(n: int) -> Callable[[], None]:
    """Threads for both of adamproofs' backends (and numba's own setting, for the probe)."""

    def setup() -> None:
        set_num_threads(n)
        if compiled.numba_available():
            import numba

            numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))

    return setup


def _torch_threads(n: int) -> Callable[[], None]:
    def setup() -> None:
        import torch

        torch.set_num_threads(n)

    return setup


def shared_arrays(n: int, dtype: np.dtype, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(n, dtype=np.float64).astype(dtype)
    g = (rng.standard_normal(n, dtype=np.float64) * 1e-2).astype(dtype)
    return {"p": p, "g": g, "m": np.zeros(n, dtype), "v": np.zeros(n, dtype)}


def fast_contender(
    name: str,
    backend: str,
    params: list[np.ndarray],
    grads: list[np.ndarray],
    states: list[dict[str, np.ndarray]] | None,
    threads: int,
) -> Contender:
    """:class:`adamproofs.fast.Optimizer` over ``params``; its state replaced by ``states``."""
    opt = Optimizer(CONFIG, params, backend=backend)
    if states is not None:
        opt.state = states  # share the moment arrays with the other contenders
    return Contender(name, lambda: opt.step(grads), threads, _adamproofs_threads(threads))


def many_contender(
    name: str,
    params: list[np.ndarray],
    grads: list[np.ndarray],
    states: list[dict[str, np.ndarray]],
    threads: int,
) -> Contender:
    """:func:`adamproofs.fast._compiled.adam_step_many`: one compiled call per array."""
    flat_p = [p.reshape(-1) for p in params]
    flat_g = [g.reshape(-1) for g in grads]
    plan = compile_plan(CONFIG, params[0].dtype)
    t = [0]

    def step() -> None:
        t[0] += 1
        compiled.adam_step_many(plan, plan.scalars(t[0]), flat_p, flat_g, states)

    return Contender(name, step, threads, _adamproofs_threads(threads))


def torch_contender(
    name: str,
    mode: str,
    params: list[np.ndarray],
    grads: list[np.ndarray],
    states: list[dict[str, np.ndarray]] | None,
    threads: int,
) -> Contender:
    """``torch.optim.Adam`` (``mode``: fused, foreach or single) on views of the arrays."""
    import torch

    tp = [torch.nn.Parameter(torch.from_numpy(p)) for p in params]
    for t, g in zip(tp, grads):
        t.grad = torch.from_numpy(g)
    kwargs = {
        "fused": dict(fused=True),
        "foreach": dict(foreach=True),
        "single": dict(foreach=False, fused=False),
    }[mode]
    opt = torch.optim.Adam(tp, lr=float(CONFIG.lr), betas=(0.9, 0.999), eps=1e-8, **kwargs)
    opt.step()  # creates the state, then point it at the shared moments
    if states is not None:
        for t, st in zip(tp, states):
            s = opt.state[t]
            s["exp_avg"] = torch.from_numpy(st["m"].reshape(t.shape))
            s["exp_avg_sq"] = torch.from_numpy(st["v"].reshape(t.shape))

    @torch.no_grad()
    def step() -> None:
        opt.step()

    return Contender(name, step, threads, _torch_threads(threads))


def probe_contender(arrays: dict[str, np.ndarray], threads: int) -> Contender:
    probe, probe_serial = _probe_kernel()
    p, g, m, v = arrays["p"], arrays["g"], arrays["m"], arrays["v"]
    fn = probe if threads > 1 else probe_serial
    one, zero = p.dtype.type(1), p.dtype.type(0)  # run-time values: nothing is elided
    return Contender(
        f"probe {threads}T",
        lambda: fn(p, g, m, v, one, zero),
        threads,
        _adamproofs_threads(threads),
    )


def single_array_contenders(
    arrays: dict[str, np.ndarray], threads: int, with_torch: bool
) -> list[Contender]:
    """Every contender for one flat array (the same arrays for all)."""
    p, g = arrays["p"], arrays["g"]
    state = [{"m": arrays["m"], "v": arrays["v"]}]
    out = [fast_contender(f"adamproofs numpy {threads}T", "numpy", [p], [g], state, threads)]
    if compiled.numba_available():  # the compiled path and the probe need numba
        out += [
            fast_contender(f"adamproofs numba {threads}T", "numba", [p], [g], state, threads),
            probe_contender(arrays, threads),
        ]
    if with_torch:
        for mode in ("fused", "foreach", "single"):
            out.append(torch_contender(f"torch {mode} {threads}T", mode, [p], [g], state, threads))
    return out


def many_array_contenders(
    shapes: list[tuple[int, ...]], dtype: np.dtype, threads: int, with_torch: bool, seed: int = 0
) -> list[Contender]:
    """Contenders over many parameter arrays of the given shapes (shared arrays)."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [(rng.standard_normal(s) * 1e-2).astype(dtype) for s in shapes]
    states = [{"m": np.zeros(p.size, dtype), "v": np.zeros(p.size, dtype)} for p in params]
    out = [fast_contender(f"adamproofs numpy {threads}T", "numpy", params, grads, states, threads)]
    if compiled.numba_available():
        out += [
            fast_contender(f"adamproofs numba {threads}T", "numba", params, grads, states, threads),
            many_contender(
                f"adamproofs numba step_many {threads}T", params, grads, states, threads
            ),
        ]
    if with_torch:
        for mode in ("fused", "foreach", "single"):
            out.append(
                torch_contender(f"torch {mode} {threads}T", mode, params, grads, states, threads)
            )
    return out


def resnet18_shapes() -> list[tuple[int, ...]]:
    """Parameter shapes of torchvision's ResNet-18 (62 arrays, 11.7 M parameters)."""
    shapes: list[tuple[int, ...]] = [(64, 3, 7, 7), (64,), (64,)]
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        for block in range(2):
            first = block == 0
            shapes += [
                (cout, cin if first else cout, 3, 3),
                (cout,),
                (cout,),
                (cout, cout, 3, 3),
                (cout,),
                (cout,),
            ]
            if first and (stride != 1 or cin != cout):
                shapes += [(cout, cin, 1, 1), (cout,), (cout,)]
        cin = cout
    shapes += [(1000, 512), (1000,)]
    return shapes
