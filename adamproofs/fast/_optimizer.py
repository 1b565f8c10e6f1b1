"""The stateful fast optimizer: a list of NumPy arrays updated in place.

>>> import numpy as np
>>> from adamproofs import Adam
>>> from adamproofs.fast import Optimizer
>>> w = np.ones(3, dtype=np.float32)
>>> opt = Optimizer(Adam(lr=0.1), [w])
>>> opt.step([np.array([1.0, -2.0, 0.0], dtype=np.float32)])
>>> w.round(6)
array([0.9, 1.1, 1. ], dtype=float32)

State-dtype policy (explicit, ``state_dtype``): ``"auto"`` keeps the state in the
parameter dtype for float32/float64 and in float32 for float16/bfloat16
parameters (so ε = 1e-8 does not underflow to 0 in float16); the arithmetic runs
in the state dtype and θ is rounded back to its own dtype once per step. Any
dtype at least as precise as the parameters may be given instead.

Step counters are per parameter (PyTorch's semantics): a parameter whose
gradient is ``None`` in a step is skipped and its counter does not advance.

The config is the exact specification; the optimizer compiles it once per state dtype
into a :class:`~adamproofs.fast._plan.Plan` (when it is built and whenever ``config`` is
assigned), which the kernels read. A learning-rate schedule is the ``lr`` argument (see
:mod:`adamproofs.fast._schedule`):

>>> w = np.ones(3)
>>> opt = Optimizer(Adam(), [w], lr=lambda t: 0.1 / t ** 0.5)  # α_t = 0.1/√t
>>> opt.step([np.ones(3)]); opt.step([np.ones(3)])

A step is atomic: every parameter, its state and its counter advance, or none does.
Everything that can be refused (gradient count, shapes, dtypes, a gradient sharing a
parameter's memory, non-finite gradients under ``nonfinite="raise"``, a schedule that
has run out or returns a bad rate) is checked before the first write. Errors of the
arithmetic itself need NumPy's error state: when it makes any floating-point error
raise (``np.errstate`` with ``"raise"``, ``"call"`` or ``"log"``), the step first copies
the arrays it will write and restores them if anything raises (the only case with extra
memory); under the default ``"warn"`` the step collects NumPy's warnings and issues them
(one ``RuntimeWarning`` per kind) after it is complete, so a warnings filter that turns
them into exceptions raises from a finished step. The compiled backend never raises
floating-point errors (IEEE results, like ``"ignore"``).

Non-finite gradients (``nonfinite``): ``"propagate"`` (default; IEEE arithmetic,
NaN/inf flow into θ and the state, like PyTorch), ``"raise"`` (FloatingPointError
before anything is written), ``"skip"`` (the whole step is skipped, counters
included, like a GradScaler skip).
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from ..config import Adam, OptimizerConfig
from ..dtypes import FORMATS, as_dtype
from ._chunked import CHUNK_BYTES, default_chunk, run_chunked_many
from ._compiled import COMPILED_DTYPES, select_backend, select_many
from ._kernels import kernel_for
from ._plan import AdamPlan, Plan, Scalars, compile_plan
from ._schedule import LearningRate, Schedule, as_schedule
from ._validation import (
    ParamMemory,
    check_grad,
    check_param,
    check_state_array,
    check_steps,
)

#: Bytes of one array per chunk of the NumPy kernels (see :mod:`.chunked`).
DEFAULT_CHUNK_BYTES = CHUNK_BYTES

NonFinite = Literal["propagate", "raise", "skip"]

#: NumPy error modes under which a step's arithmetic may raise (the step keeps a copy).
_RAISING_MODES = frozenset({"raise", "call", "log"})
#: The ``np.seterrcall`` name of each kind of floating-point error.
_ERROR_KINDS = ("divide by zero", "overflow", "underflow", "invalid value")

#: One group of a step: the plan, its scalars, the parameters that share them, and whether
#: the compiled loop (IEEE arithmetic, blind to ``np.errstate``) runs it.
Group = tuple[Plan, Scalars, list[int], bool]


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
        raise TypeError(
            f"state_dtype={dt.name!r} is less precise than the parameters' "
            f"{param_dtype.name!r}; allowed: a dtype at least as precise"
        )
    return dt


def _flat(g: np.ndarray) -> np.ndarray:
    """A flat view of a gradient (a copy only when it is not C-contiguous)."""
    return g.reshape(-1) if g.flags.c_contiguous else np.ascontiguousarray(g).reshape(-1)


def _check_options(nonfinite: Any, chunk_size: Any, params: Any) -> None:
    if nonfinite not in ("propagate", "raise", "skip"):
        raise ValueError(f"nonfinite={nonfinite!r} is not one of ('propagate', 'raise', 'skip')")
    if chunk_size is not None and (
        not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1
    ):
        raise ValueError(f"chunk_size={chunk_size!r} must be a positive int or None")
    if isinstance(params, np.ndarray):
        raise TypeError("params must be a list of arrays, not a single array")


def _check_config(config: Any) -> OptimizerConfig:
    if not isinstance(config, OptimizerConfig):
        raise TypeError(
            f"config is a {type(config).__name__}; expected an "
            "adamproofs.config optimizer such as Adam(...)"
        )
    return config


@functools.lru_cache(maxsize=64)
def _deferred_modes(modes: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return {k: ("call" if v == "warn" else v) for k, v in modes}


def _deferred(modes: Any) -> dict[str, Any]:
    """NumPy's error modes with ``"warn"`` replaced by ``"call"`` (a collector)."""
    return _deferred_modes(tuple(modes.items()))


def _issue(seen: list[str], name: str) -> None:
    """One ``RuntimeWarning`` per kind of floating-point error a step's arithmetic met."""
    for kind in _ERROR_KINDS:
        if kind in seen:
            warnings.warn(f"{kind} encountered in the {name} step", RuntimeWarning, stacklevel=3)


class Optimizer:
    """Fast in-place optimizer over a list of arrays, for any :mod:`adamproofs.config` object.

    Args:
      config: the optimizer (e.g. :class:`~adamproofs.config.Adam`); may be reassigned
        later to a config of the same kind with the same state (e.g. a new ``lr``).
      params: C-contiguous, writeable float arrays; updated in place by :meth:`step`.
      lr: a learning-rate schedule (:mod:`adamproofs.fast._schedule`): a function
        ``t -> α_t`` or a sequence ``[α_1, α_2, ...]``; ``None`` (default): the config's
        ``lr`` at every step.
      state_dtype: ``"auto"`` or a dtype at least as precise as each parameter.
      nonfinite: ``"propagate"``, ``"raise"`` or ``"skip"``.
      chunk_size: elements per chunk of the NumPy kernels (``None``: 512 KiB of the
        compute dtype, :func:`~adamproofs.fast._chunked.default_chunk`).
      backend: ``"auto"`` (compiled when numba is installed), ``"numpy"``, ``"numba"``.

    Raises :class:`~adamproofs.errors.ConfigError` when a β rounds to 1 in a compute dtype.
    """

    def __init__(
        self,
        config: OptimizerConfig,
        params: Sequence[np.ndarray],
        *,
        lr: LearningRate | None = None,
        state_dtype: Any = "auto",
        nonfinite: NonFinite = "propagate",
        chunk_size: int | None = None,
        backend: str = "auto",
    ) -> None:
        config = _check_config(config)
        _check_options(nonfinite, chunk_size, params)
        self.params = [check_param(i, p) for i, p in enumerate(params)]
        self._memory = ParamMemory(self.params)
        self.nonfinite = nonfinite
        self.chunk_size = chunk_size
        self.state_dtypes = [resolve_state_dtype(p.dtype, state_dtype) for p in self.params]
        self._config = config
        self._plans = self._compile(config)
        self._schedule = as_schedule(lr)
        self.steps = [0] * len(self.params)
        self.state: list[dict[str, np.ndarray]] = [
            self._initial_state(p, dt) for p, dt in zip(self.params, self.state_dtypes)
        ]
        self.backend = select_backend(backend, config)
        self._many = select_many(self.backend)
        #: State dtypes whose groups the compiled loop runs (when θ has that dtype too).
        self._compiled = frozenset(
            dt
            for dt, plan in self._plans.items()
            if self._many is not None and isinstance(plan, AdamPlan) and dt in COMPILED_DTYPES
        )

    # -- configuration ------------------------------------------------------------------
    def _compile(self, config: OptimizerConfig) -> dict[np.dtype, Plan]:
        return {dt: compile_plan(config, dt) for dt in dict.fromkeys(self.state_dtypes)}

    @property
    def config(self) -> OptimizerConfig:
        """The configuration; assigning one compiles it again (same kind and state)."""
        return self._config

    @config.setter
    def config(self, config: OptimizerConfig) -> None:
        config = _check_config(config)
        if type(config) is not type(self._config) or (
            _state_names(config) != _state_names(self._config)
        ):
            raise ValueError(
                f"config {config!r} does not keep this optimizer's kind and "
                f"state {_state_names(self._config)}; allowed: a "
                f"{type(self._config).__name__} with the same state"
            )
        plans = self._compile(config)  # may raise: then nothing changes
        self._config, self._plans = config, plans

    @property
    def plans(self) -> dict[np.dtype, Plan]:
        """The compiled config, per compute (state) dtype."""
        return dict(self._plans)

    @property
    def lr(self) -> Schedule | None:
        """The learning-rate schedule (``None``: the config's ``lr``); assignable."""
        return self._schedule

    @lr.setter
    def lr(self, lr: LearningRate | None) -> None:
        self._schedule = as_schedule(lr)

    def _initial_state(self, p: np.ndarray, dtype: np.dtype) -> dict[str, np.ndarray]:
        state = {name: np.zeros(p.size, dtype=dtype) for name in _state_names(self.config)}
        init = getattr(self.config, "initial_accumulator", None)
        if init is not None:
            state["s"].fill(float(init))
        return state

    # -- stepping -----------------------------------------------------------------------
    def step(self, grads: Sequence[np.ndarray | None]) -> None:
        """Apply one update to every parameter whose gradient is not ``None`` (in place).

        The gradients are read, never written. Atomic (see the module docstring).
        """
        checked = self._checked(grads)
        if self.nonfinite != "propagate" and self._refuse_nonfinite(checked):
            return  # skip: nothing changes, counters included
        steps, groups, compiled_only = self._groups(checked)
        if compiled_only:  # IEEE loops: nothing raises or warns
            self._run(groups, checked)
            self.steps = steps
            return
        seen = self._run_guarded(groups, checked)
        self.steps = steps
        if seen:
            _issue(seen, self._config.name)

    def _checked(self, grads: Sequence[np.ndarray | None]) -> list[np.ndarray | None]:
        if len(grads) != len(self.params):
            raise ValueError(f"got {len(grads)} gradients for {len(self.params)} parameters")
        checked = [
            None if g is None else check_grad(i, g, p)
            for i, (g, p) in enumerate(zip(grads, self.params))
        ]
        self._memory.check_grads(checked)
        return checked

    def _refuse_nonfinite(self, checked: list[np.ndarray | None]) -> bool:
        """True to skip the step; raises under ``nonfinite="raise"``."""
        bad = self._first_nonfinite(checked)
        if bad is None:
            return False
        if self.nonfinite == "raise":
            raise FloatingPointError(
                f"grads[{bad[0]}] has a non-finite value {bad[2]!r} at flat index {bad[1]}"
            )
        return True

    def _groups(self, checked: list[np.ndarray | None]) -> tuple[list[int], list[Group], bool]:
        """The new step counters, the parameters grouped by (t, state dtype, dtype), each
        group with its plan and scalars (a schedule is asked once per t), and whether the
        compiled loop runs every group."""
        steps = list(self.steps)
        keys: dict[tuple[int, np.dtype, np.dtype], list[int]] = {}
        for i, g in enumerate(checked):
            if g is not None:
                steps[i] += 1
                keys.setdefault((steps[i], self.state_dtypes[i], self.params[i].dtype), []).append(
                    i
                )
        rates: dict[int, float | None] = {}
        groups = []
        compiled_only = True
        for (t, dt, param_dtype), members in keys.items():
            if self._schedule is not None and t not in rates:
                rates[t] = self._schedule.rate(t)
            plan = self._plans[dt]
            compiled = param_dtype == dt and dt in self._compiled
            compiled_only = compiled_only and compiled
            groups.append((plan, plan.scalars(t, rates.get(t)), members, compiled))
        return steps, groups, compiled_only

    def _run_guarded(self, groups: list[Group], checked: list[np.ndarray | None]) -> list[str]:
        """:meth:`_run` such that an error of the arithmetic leaves nothing half-written.

        Under a raising error state, with a copy to restore (:meth:`_run_restoring`);
        otherwise NumPy's ``"warn"`` becomes a collector (nothing inside raises, even for a
        warnings filter set to "error") and the kinds seen are returned, to be issued
        once the step is complete.
        """
        modes = np.geterr()
        if any(mode in _RAISING_MODES for mode in modes.values()):
            self._run_restoring(groups, checked)
            return []
        seen: list[str] = []
        if "warn" not in modes.values():
            self._run(groups, checked)
            return seen
        with np.errstate(call=lambda kind, flag: seen.append(kind), **_deferred(modes)):
            self._run(groups, checked)
        return seen

    def _run(self, groups: list[Group], checked: list[np.ndarray | None]) -> None:
        for plan, sc, members, compiled in groups:
            params = [self.params[i].reshape(-1) for i in members]
            grads = [_flat(g) for g in (checked[i] for i in members) if g is not None]
            states = [self.state[i] for i in members]
            if compiled and self._many is not None:
                self._many(plan, sc, params, grads, states)
            else:
                run_chunked_many(
                    kernel_for(plan),
                    plan,
                    sc,
                    list(zip(params, grads, states)),
                    chunk=self.chunk_size,
                    compute_dtype=plan.dtype,
                )

    def _run_restoring(self, groups: list[Group], checked: list[np.ndarray | None]) -> None:
        """:meth:`_run` with a copy of every array it writes, put back if it raises."""
        touched = [
            a
            for _, _, members, _ in groups
            for i in members
            for a in (self.params[i], *self.state[i].values())
        ]
        saved = [a.copy() for a in touched]
        try:
            self._run(groups, checked)
        except BaseException:
            for a, b in zip(touched, saved):
                np.copyto(a, b)
            raise

    def _first_nonfinite(self, grads: list) -> tuple[int, int, float] | None:
        for i, g in enumerate(grads):
            if g is None:
                continue
            c = self.chunk_size or default_chunk(g.dtype)
            flat = _flat(g)
            for start in range(0, flat.size, c):
                part = flat[start : start + c]
                ok = np.isfinite(part)
                if not ok.all():
                    j = int(np.argmin(ok))
                    return i, start + j, float(part[j])
        return None

    # -- checkpointing ------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A deep copy of everything needed to resume bit-identically (not the schedule)."""
        return {
            "config": self.config.as_dict(),
            "steps": list(self.steps),
            "state_dtypes": [dt.name for dt in self.state_dtypes],
            "state": [
                {name: arr.reshape(p.shape).copy() for name, arr in st.items()}
                for st, p in zip(self.state, self.params)
            ],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (the input is copied, never aliased).

        Everything is checked first (config, step counts: ints >= 0, state arrays: shape,
        dtype, finite, second moments >= 0); a refused checkpoint changes nothing.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(
                f"state_dict is a {type(state_dict).__name__}; expected the dict "
                "of Optimizer.state_dict()"
            )
        missing = [k for k in ("config", "steps", "state") if k not in state_dict]
        if missing:
            raise ValueError(
                f"state_dict lacks {missing}; expected the keys of Optimizer.state_dict()"
            )
        if state_dict["config"] != self.config.as_dict():
            raise ValueError(
                f"state_dict was saved for {state_dict['config']!r}, "
                f"this optimizer is {self.config.as_dict()!r}"
            )
        states = state_dict["state"]
        if not isinstance(states, (list, tuple)) or len(states) != len(self.params):
            n = len(states) if isinstance(states, (list, tuple)) else type(states).__name__
            raise ValueError(
                f"state_dict['state'] holds {n} parameters, this optimizer has {len(self.params)}"
            )
        steps = check_steps(state_dict["steps"], len(self.params))
        new_state = [self._loaded_state(i, st) for i, st in enumerate(states)]
        self.steps = steps
        self.state = new_state

    def _loaded_state(self, i: int, st: Any) -> dict[str, np.ndarray]:
        expected = _state_names(self.config)
        if not isinstance(st, dict) or set(st) != set(expected):
            shown = sorted(st) if isinstance(st, dict) else type(st).__name__
            raise ValueError(f"state_dict['state'][{i}] has {shown}, expected {sorted(expected)}")
        p, dt = self.params[i], self.state_dtypes[i]
        return {
            name: check_state_array(
                f"state_dict['state'][{i}][{name!r}]", name, st[name], p.shape, dt
            )
            for name in expected
        }

    def __deepcopy__(self, memo: dict) -> Optimizer:
        new = copy.copy(self)
        new.params = [p.copy() for p in self.params]
        new._memory = ParamMemory(new.params)
        new.state = [{k: a.copy() for k, a in st.items()} for st in self.state]
        new.steps = list(self.steps)
        return new
