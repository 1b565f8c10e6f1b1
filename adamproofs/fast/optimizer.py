"""The stateful fast optimizer: a list of NumPy arrays updated in place.

>>> import numpy as np
>>> from adamproofs import Adam
>>> from adamproofs.fast import Optimizer
>>> w = np.ones(3, dtype=np.float32)
>>> opt = Optimizer(Adam(lr=0.1), [w])
>>> opt.step([np.array([1.0, -2.0, 0.0], dtype=np.float32)])
>>> w
array([0.9, 1.1, 1. ], dtype=float32)

State-dtype policy (explicit, ``state_dtype``): ``"auto"`` keeps the state in the
parameter dtype for float32/float64 and in float32 for float16/bfloat16
parameters (so ε = 1e-8 does not underflow to 0 in float16); the arithmetic runs
in the state dtype and θ is rounded back to its own dtype once per step. Any
dtype at least as precise as the parameters may be given instead.

Step counters are per parameter (PyTorch's semantics): a parameter whose
gradient is ``None`` in a step is skipped and its counter does not advance.

Non-finite gradients (``nonfinite``): ``"propagate"`` (default; IEEE arithmetic,
NaN/inf flow into θ and the state, like PyTorch), ``"raise"`` (FloatingPointError
before anything is written), ``"skip"`` (the whole step is skipped, counters
included, like a GradScaler skip).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from ..config import Adam, OptimizerConfig
from ..dtypes import FORMATS, as_dtype, supported_dtypes
from .chunked import CHUNK_BYTES, default_chunk, run_chunked_many
from .kernels import KERNELS, scalars

#: Bytes of one array per chunk of the NumPy kernels (see :mod:`.chunked`).
DEFAULT_CHUNK_BYTES = CHUNK_BYTES

NonFinite = Literal["propagate", "raise", "skip"]


def _state_names(cfg: OptimizerConfig) -> tuple[str, ...]:
    return cfg.active_state if isinstance(cfg, Adam) else cfg.state_names


def resolve_state_dtype(param_dtype: np.dtype, state_dtype: Any) -> np.dtype:
    """Apply the state-dtype policy (see the module docstring)."""
    if state_dtype is None or (isinstance(state_dtype, str) and state_dtype == "auto"):
        if param_dtype.itemsize == 2:
            return np.dtype(np.float32)
        return param_dtype
    dt = as_dtype(state_dtype)
    if FORMATS[dt.name].p < FORMATS[param_dtype.name].p:
        raise TypeError(f"state_dtype={dt.name!r} is less precise than the parameters' "
                        f"{param_dtype.name!r}; allowed: a dtype at least as precise")
    return dt


def check_param(i: int, p: Any, *, writeable: bool = True) -> np.ndarray:
    """Validate one parameter array (dtype, contiguity, writeability)."""
    if not isinstance(p, np.ndarray):
        raise TypeError(f"params[{i}] is a {type(p).__name__}; expected a numpy.ndarray")
    if p.dtype not in supported_dtypes():
        raise TypeError(f"params[{i}] has dtype {p.dtype.name!r}; allowed: "
                        f"{[d.name for d in supported_dtypes()]}")
    if writeable and not p.flags.c_contiguous:
        raise ValueError(f"params[{i}] is not C-contiguous; in-place updates need "
                         "np.ascontiguousarray(...)")
    if writeable and not p.flags.writeable:
        raise ValueError(f"params[{i}] is read-only; the optimizer updates it in place")
    return p


def check_no_shared_memory(params: Sequence[np.ndarray]) -> None:
    """Refuse parameters that overlap in memory (tied weights passed twice, or views).

    Each would be updated once per occurrence, and the threads of one step could write
    the same elements. The arrays are C-contiguous, so each occupies one byte range;
    sorting the ranges finds any overlap in O(n log n).
    """
    spans = sorted((p.__array_interface__["data"][0], p.nbytes, i)
                   for i, p in enumerate(params) if p.nbytes)
    for (start, size, i), (next_start, _, j) in itertools.pairwise(spans):
        if next_start < start + size:
            a, b = sorted((i, j))
            raise ValueError(f"params[{a}] and params[{b}] share memory (the same array "
                             "twice, or views of one array); pass each parameter once")


def check_grad(i: int, g: Any, p: np.ndarray) -> np.ndarray:
    """Validate a gradient against its parameter: same shape and same dtype."""
    if not isinstance(g, np.ndarray):
        raise TypeError(f"grads[{i}] is a {type(g).__name__}; expected a numpy.ndarray "
                        f"of dtype {p.dtype.name} (or None to skip the parameter)")
    if g.shape != p.shape:
        raise ValueError(f"grads[{i}] has shape {g.shape}; params[{i}] has shape {p.shape}")
    if g.dtype != p.dtype:
        raise TypeError(f"grads[{i}] has dtype {g.dtype.name!r}; params[{i}] has dtype "
                        f"{p.dtype.name!r} (they must match)")
    return g


def _flat(g: np.ndarray) -> np.ndarray:
    """A flat view of a gradient (a copy only when it is not C-contiguous)."""
    return g.reshape(-1) if g.flags.c_contiguous else np.ascontiguousarray(g).reshape(-1)


class Optimizer:
    """Fast in-place optimizer over a list of arrays, for any :mod:`adamproofs.config` object.

    Args:
      config: the optimizer (e.g. :class:`~adamproofs.config.Adam`).
      params: C-contiguous, writeable float arrays; updated in place by :meth:`step`.
      state_dtype: ``"auto"`` or a dtype at least as precise as each parameter.
      nonfinite: ``"propagate"``, ``"raise"`` or ``"skip"``.
      chunk_size: elements per chunk of the NumPy kernels (``None``: 512 KiB of the
        compute dtype, :func:`~adamproofs.fast.chunked.default_chunk`).
      backend: ``"auto"`` (compiled when numba is installed), ``"numpy"``, ``"numba"``.
    """

    def __init__(self, config: OptimizerConfig, params: Sequence[np.ndarray], *,
                 state_dtype: Any = "auto", nonfinite: NonFinite = "propagate",
                 chunk_size: int | None = None, backend: str = "auto") -> None:
        if not isinstance(config, OptimizerConfig):
            raise TypeError(f"config is a {type(config).__name__}; expected an "
                            "adamproofs.config optimizer such as Adam(...)")
        if nonfinite not in ("propagate", "raise", "skip"):
            raise ValueError(f"nonfinite={nonfinite!r} is not one of "
                             "('propagate', 'raise', 'skip')")
        if chunk_size is not None and (not isinstance(chunk_size, int)
                                       or isinstance(chunk_size, bool) or chunk_size < 1):
            raise ValueError(f"chunk_size={chunk_size!r} must be a positive int or None")
        if isinstance(params, np.ndarray):
            raise TypeError("params must be a list of arrays, not a single array")
        self.config = config
        self.params = [check_param(i, p) for i, p in enumerate(params)]
        check_no_shared_memory(self.params)
        self.nonfinite = nonfinite
        self.chunk_size = chunk_size
        self._kernel = KERNELS[type(config)]
        self.state_dtypes = [resolve_state_dtype(p.dtype, state_dtype) for p in self.params]
        self.steps = [0] * len(self.params)
        self.state: list[dict[str, np.ndarray]] = [self._initial_state(p, dt)
                                                   for p, dt in zip(self.params,
                                                                    self.state_dtypes)]
        from .compiled import select_backend, select_many  # local: numba is optional

        self.backend = select_backend(backend, config)
        self._many = select_many(self.backend)

    def _initial_state(self, p: np.ndarray, dtype: np.dtype) -> dict[str, np.ndarray]:
        state = {name: np.zeros(p.size, dtype=dtype) for name in _state_names(self.config)}
        init = getattr(self.config, "initial_accumulator", None)
        if init is not None:
            state["s"].fill(float(init))
        return state

    # -- stepping -----------------------------------------------------------------------
    def step(self, grads: Sequence[np.ndarray | None]) -> None:
        """Apply one update to every parameter whose gradient is not ``None`` (in place).

        The gradients are read, never written.
        """
        if len(grads) != len(self.params):
            raise ValueError(f"got {len(grads)} gradients for {len(self.params)} parameters")
        checked = [None if g is None else check_grad(i, g, p)
                   for i, (g, p) in enumerate(zip(grads, self.params))]
        if self.nonfinite != "propagate":
            bad = self._first_nonfinite(checked)
            if bad is not None:
                if self.nonfinite == "raise":
                    raise FloatingPointError(f"grads[{bad[0]}] has a non-finite value "
                                             f"{bad[2]!r} at flat index {bad[1]}")
                return  # skip: nothing changes, counters included
        # parameters at the same step with the same dtypes share one set of scalars
        groups: dict[tuple[int, str, str], list[int]] = {}
        for i, g in enumerate(checked):
            if g is None:
                continue
            self.steps[i] += 1
            key = (self.steps[i], self.state_dtypes[i].str, self.params[i].dtype.str)
            groups.setdefault(key, []).append(i)
        for (t, _, _), members in groups.items():
            dt = self.state_dtypes[members[0]]
            sc = scalars(self.config, t, dt)
            if self._many is not None and self.params[members[0]].dtype == dt:
                self._many(self.config, sc, [self.params[i].reshape(-1) for i in members],
                           [_flat(checked[i]) for i in members],
                           [self.state[i] for i in members])
                continue
            run_chunked_many(self._kernel, self.config, sc,
                             [(self.params[i].reshape(-1), _flat(checked[i]), self.state[i])
                              for i in members], chunk=self.chunk_size, compute_dtype=dt)

    def _first_nonfinite(self, grads: list) -> tuple[int, int, float] | None:
        for i, g in enumerate(grads):
            if g is None:
                continue
            c = self.chunk_size or default_chunk(g.dtype)
            flat = g.reshape(-1) if g.flags.c_contiguous else np.ascontiguousarray(g).reshape(-1)
            for start in range(0, flat.size, c):
                part = flat[start:start + c]
                ok = np.isfinite(part)
                if not ok.all():
                    j = int(np.argmin(ok))
                    return i, start + j, float(part[j])
        return None

    # -- checkpointing ------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A deep copy of everything needed to resume bit-identically."""
        return {
            "config": self.config.as_dict(),
            "steps": list(self.steps),
            "state_dtypes": [dt.name for dt in self.state_dtypes],
            "state": [{name: arr.reshape(p.shape).copy() for name, arr in st.items()}
                      for st, p in zip(self.state, self.params)],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (the input is copied, never aliased)."""
        if state_dict.get("config") != self.config.as_dict():
            raise ValueError(f"state_dict was saved for {state_dict.get('config')!r}, "
                             f"this optimizer is {self.config.as_dict()!r}")
        steps, states = state_dict["steps"], state_dict["state"]
        if len(steps) != len(self.params) or len(states) != len(self.params):
            raise ValueError(f"state_dict holds {len(states)} parameters, this optimizer "
                             f"has {len(self.params)}")
        new_state = []
        for i, (st, p, dt) in enumerate(zip(states, self.params, self.state_dtypes)):
            expected = set(_state_names(self.config))
            if set(st) != expected:
                raise ValueError(f"state_dict['state'][{i}] has {sorted(st)}, "
                                 f"expected {sorted(expected)}")
            arrays = {}
            for name, arr in st.items():
                arr = np.asarray(arr)
                if arr.shape != p.shape or arr.dtype != dt:
                    raise ValueError(f"state_dict['state'][{i}][{name!r}] has shape "
                                     f"{arr.shape} dtype {arr.dtype.name}; expected "
                                     f"{p.shape} {dt.name}")
                arrays[name] = arr.reshape(-1).copy()
            new_state.append(arrays)
        self.steps = [int(s) for s in steps]
        self.state = new_state

    def __deepcopy__(self, memo: dict) -> Optimizer:
        new = copy.copy(self)
        new.params = [p.copy() for p in self.params]
        new.state = [{k: a.copy() for k, a in st.items()} for st in self.state]
        new.steps = list(self.steps)
        return new
