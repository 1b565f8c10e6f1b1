r"""Adapter for functional optimizers: no object holds the state, the caller threads it.

Two conventions are recognised.

**Triples** (``jax.example_libraries.optimizers``): ``factory(step_size, b1=β1, b2=β2,
eps=ε)`` (plus ``weight_decay=λ`` when it takes it) returns ``(opt_init, opt_update,
get_params)``::

    state = opt_init(params)                 # params: a list of arrays
    state = opt_update(i, grads, state)      # i = 0, 1, 2, ...: the 0-based step index
    params = get_params(state)

**Step functions**: ``factory(*, lr, beta1, beta2, eps, weight_decay)`` returns
``(init, step)`` with ::

    state = init(params)                          # params: a list of NumPy arrays
    params, state = step(i, params, grads, state)  # i = 0, 1, 2, ...; nothing mutated

``step`` returns new arrays (the ones passed in are the caller's and must not change).
``factory.adamproofs_features`` may declare what the checker exercises (see
:mod:`..protocol`; e.g. ``"skip"`` when ``step`` accepts ``None`` gradients); the
default is every dtype, weight decay and checkpoints.

The index ``i`` counts the steps taken so far, one counter for the whole parameter list
(it is the caller's, so it is shared by every parameter). A checkpoint is the
parameters, the state and ``i``: the state is copied leaf by leaf to NumPy
(``jax.tree_util.tree_map``) when jax is imported, else deep-copied.

When jax is imported (a jax triple, or a step function built on ``jax.numpy``), arrays
cross as ``jax.numpy`` arrays and float64 sessions run inside ``jax.enable_x64(True)``
(a context: the process-wide flag is not changed); ``jit=True`` runs ``opt_update`` /
``step`` under ``jax.jit`` with ``i`` traced.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import inspect
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ..protocol import FEATURES, Hyper, TargetError, takes_keywords, unsupported_dtype

KIND = "functional"

_DTYPES = ("float16", "bfloat16", "float32", "float64")

#: The variant of ``jax.example_libraries.optimizers.adam`` (read from its source): Alg-1
#: (ε outside √v̂, bias correction with t = i + 1), the step index shared by all
#: parameters, no weight decay.
JAX_ADAM_CLAIMS: dict[str, Any] = dict(
    eps_placement="paper", bias_correction=True, amsgrad=None, step_scope="optimizer"
)


def _parameters(obj: Any) -> dict[str, inspect.Parameter] | None:
    try:
        return dict(inspect.signature(obj).parameters)
    except (TypeError, ValueError):
        return None


def is_triple_factory(obj: Any) -> bool:
    """A factory taking ``step_size``, ``b1``, ``b2`` (``jax.example_libraries`` style)."""
    return not isinstance(obj, type) and takes_keywords(obj, {"step_size", "b1", "b2"})


def is_step_factory(obj: Any) -> bool:
    """A function (not a class) taking ``lr``, ``beta1``, ``beta2`` and no ``params``
    (a plain-protocol factory takes ``params``; a class is always plain)."""
    if isinstance(obj, type) or not callable(obj):
        return False
    names = _parameters(obj)
    if names is None or not {"lr", "beta1", "beta2"} <= set(names):
        return False
    return "params" not in names and not any(
        p.default is inspect.Parameter.empty
        and p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        and p.name not in {"lr", "beta1", "beta2", "eps", "weight_decay"}
        for p in names.values()
    )


def accepts(obj: Any) -> bool:
    """A triple factory or a step-function factory (see the module docstring)."""
    return is_triple_factory(obj) or is_step_factory(obj)


def _jax() -> Any | None:
    """jax, when the target's module (or anything before it) imported it."""
    if "jax" not in sys.modules:
        return None
    return importlib.import_module("jax")


class FunctionalSession:
    """One run: the adapter threads ``(params, state, i)`` through the target's functions."""

    def __init__(
        self,
        impl: FunctionalImplementation,
        hyper: Hyper,
        params: list[np.ndarray],
        dtype: np.dtype,
    ) -> None:
        self._impl = impl
        self._dtype = dtype
        self._i = 0
        with impl.precision(dtype):
            self._fns = impl.functions(hyper)
            given = [impl.to_array(p, dtype) for p in params]
            self._count = len(given)
            if impl.triple:
                self._state = self._fns[0](given)
                self._params: list[Any] = []
            else:
                self._params = given
                self._state = self._fns[0](given)

    def step(self, grads: Sequence[np.ndarray | None]) -> None:
        if len(grads) != self._count:
            raise ValueError(f"got {len(grads)} gradients for {self._count} parameters")
        if "skip" not in self._impl.features and any(g is None for g in grads):
            raise ValueError(
                "this functional optimizer does not declare the 'skip' feature: every "
                "gradient must be an array"
            )
        impl = self._impl
        with impl.precision(self._dtype):
            g = [None if x is None else impl.to_array(x, self._dtype) for x in grads]
            if impl.triple:
                self._state = self._fns[1](self._i, g, self._state)
            else:
                self._params, self._state = self._fns[1](self._i, self._params, g, self._state)
        self._i += 1

    def _current(self) -> list[Any]:
        if self._impl.triple:
            with self._impl.precision(self._dtype):
                return list(self._fns[2](self._state))
        return list(self._params)

    def params(self) -> list[np.ndarray]:
        return [np.array(p, dtype=self._dtype, copy=True) for p in self._current()]

    def save(self) -> Any:
        jax = _jax()
        if jax is not None:
            state = jax.tree_util.tree_map(lambda x: np.array(x, copy=True), self._state)
        else:
            state = copy.deepcopy(self._state)
        return {"params": self.params(), "state": state, "i": self._i}

    def restore(self, blob: Any) -> None:
        jax = _jax()
        impl = self._impl
        with impl.precision(self._dtype):
            if jax is not None:
                self._state = jax.tree_util.tree_map(
                    lambda x: impl.to_array(np.array(x, copy=True), np.asarray(x).dtype),
                    blob["state"],
                )
            else:
                self._state = copy.deepcopy(blob["state"])
            if not impl.triple:
                self._params = [impl.to_array(p, self._dtype) for p in blob["params"]]
        self._i = int(blob["i"])


class FunctionalImplementation:
    """A triple factory or step-function factory as an :class:`~..protocol.Implementation`."""

    def __init__(
        self,
        factory: Callable[..., Any],
        name: str,
        claims: dict[str, Any],
        *,
        jit: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> None:
        if not callable(factory):
            raise TargetError(f"functional target {name} is not callable")
        self.factory = factory
        self.name = name
        self.claims = dict(claims)
        self.jit = jit
        self.extra = dict(extra or {})
        self.triple = is_triple_factory(factory)
        names = set(_parameters(factory) or {})
        self.takes_decay = "weight_decay" in names
        declared = getattr(factory, "adamproofs_features", None)
        if declared is not None:
            unknown = set(declared) - FEATURES
            if unknown:
                raise TargetError(
                    f"adamproofs_features has unknown names {sorted(unknown)}; "
                    f"allowed: {sorted(FEATURES)}"
                )
            self.features = frozenset(declared)
        else:
            features = {*_DTYPES, "checkpoint"}
            if self.takes_decay or not self.triple:
                features.add("weight_decay")
            self.features = frozenset(features)
        if jit and _jax() is None:
            raise TargetError("jit=True needs jax (the target does not use it)")

    @contextlib.contextmanager
    def precision(self, dtype: np.dtype) -> Iterator[None]:
        """float64 with jax: ``jax.enable_x64(True)`` for this block only."""
        jax = _jax()
        if jax is not None and dtype == np.dtype(np.float64):
            with jax.enable_x64(True):
                yield
        else:
            yield

    def to_array(self, arr: np.ndarray, dtype: np.dtype) -> Any:
        """A copy of ``arr`` as the target's array type (jax arrays when jax is in use)."""
        copied = np.array(arr, dtype=dtype, copy=True)
        jax = _jax()
        if jax is None:
            return copied
        out = jax.numpy.asarray(copied)
        if out.dtype != copied.dtype:
            raise TypeError(f"jax made a {out.dtype} array from {copied.dtype.name}")
        return out

    def functions(self, hyper: Hyper) -> tuple[Callable[..., Any], ...]:
        """The target's functions for ``hyper``: ``(init, update, get_params)`` or
        ``(init, step)``, the stepping one under ``jax.jit`` when ``jit``."""
        if self.triple:
            kwargs: dict[str, Any] = dict(b1=hyper.beta1, b2=hyper.beta2, eps=hyper.eps)
            if self.takes_decay:
                kwargs["weight_decay"] = hyper.weight_decay
            elif hyper.weight_decay != 0:
                raise ValueError(
                    f"{self.name} takes no weight_decay; got "
                    f"weight_decay={hyper.weight_decay!r} (allowed: 0.0)"
                )
            made = self.factory(hyper.lr, **kwargs, **self.extra)
            expected, shape = 3, "(init, update, get_params)"
        else:
            made = self.factory(**hyper.as_dict(), **self.extra)
            expected, shape = 2, "(init, step)"
        if not (isinstance(made, tuple) and len(made) == expected and all(map(callable, made))):
            raise TargetError(f"{self.name}(...) returned {made!r}, not a tuple {shape}")
        if self.jit:
            jax = _jax()
            assert jax is not None
            stepping = jax.jit(made[1])
            made = (made[0], stepping, *made[2:])
        return tuple(made)

    def create(self, hyper: Hyper, params: list[np.ndarray], dtype: np.dtype) -> FunctionalSession:
        dtype = np.dtype(dtype)
        if dtype.name not in self.features:
            raise unsupported_dtype(self.name, dtype, sorted(set(_DTYPES) & self.features))
        return FunctionalSession(self, hyper, params, dtype)


def make_implementation(
    target: Any = None,
    *,
    jit: bool = False,
    claims: dict[str, Any] | None = None,
    **factory_kwargs: Any,
) -> FunctionalImplementation:
    """The functional adapter for ``target`` (a triple or step-function factory).

    Args:
      target: the factory (see the module docstring).
      jit: run the stepping function under ``jax.jit``.
      claims: the variant the target says it follows (``jax.example_libraries.optimizers
        .adam``: the variant read from its source).
      factory_kwargs: passed to the factory on every call.
    """
    if target is None:
        raise TargetError(
            "the functional adapter needs a target (module.path:attr), e.g. "
            "jax.example_libraries.optimizers:adam"
        )
    if not accepts(target):
        raise TargetError(
            f"functional target {target!r} takes neither (step_size, b1, b2, eps) nor "
            "keyword-only (lr, beta1, beta2, eps, weight_decay)"
        )
    module = getattr(target, "__module__", "") or ""
    name = f"{module}:{getattr(target, '__qualname__', target)!s}"
    known: dict[str, Any] = {}
    if module == "jax.example_libraries.optimizers" and target.__name__ == "adam":
        known = dict(JAX_ADAM_CLAIMS)
    return FunctionalImplementation(
        target,
        name,
        claims if claims is not None else known,
        jit=jit,
        extra=factory_kwargs,
    )
