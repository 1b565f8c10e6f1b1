r"""Adapter for optax gradient transformations (``optax.adam``, ``adamw``, ``amsgrad``, yours).

A target is a factory called as ``factory(learning_rate=α, b1=β1, b2=β2, eps=ε)``
(plus ``weight_decay=λ`` when its signature has that parameter) that returns an
``optax.GradientTransformation``. One session is::

    state = tx.init(params)                       # params: a list of jax arrays
    updates, state = tx.update(grads, state, params)
    params = optax.apply_updates(params, updates)  # θ_t = θ_{t-1} + u_t, cast to θ's dtype

run eagerly by default, one correctly rounded XLA operation at a time (the
arithmetic the error model describes); ``jit=True`` runs the update under
``jax.jit`` as training loops do (XLA fusion then changes the rounding of some
steps by an ulp or two, still within the error model; compiling costs a fraction
of a second per hyperparameter set). float64 sessions run inside
``jax.enable_x64(True)`` (a context, so the process-wide setting is never
changed); other dtypes run under whatever the process has configured.
Checkpoints copy the state pytree to NumPy (``jax.tree_util.tree_map``) and back.

optax keeps one step counter per transformation state, shared by the whole
parameter list, and has no notion of "no gradient for this parameter", so this
adapter does not declare the ``"skip"`` feature.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ..protocol import (
    Hyper,
    TargetError,
    import_framework,
    takes_keywords,
    unsupported_dtype,
)

KIND = "optax"

#: Variant claims of optax's own aliases (``optax.<name>``), as :class:`~adamproofs.config.Adam`
#: axes. optax.adam: Alg-1 with ε outside √v̂; adamw: decay -α(u + λθ_{t-1}), i.e. decoupled
#: before the step; amsgrad: the max is kept over v̂ (bias-corrected), not over v.
BUILTIN_CLAIMS: dict[str, dict[str, Any]] = {
    "adam": dict(eps_placement="paper", bias_correction=True, amsgrad=None, step_scope="optimizer"),
    "adamw": dict(
        eps_placement="paper",
        bias_correction=True,
        amsgrad=None,
        decay="decoupled",
        step_scope="optimizer",
    ),
    "amsgrad": dict(
        eps_placement="paper", bias_correction=True, amsgrad="max_corrected", step_scope="optimizer"
    ),
}

_DTYPES = ("float16", "bfloat16", "float32", "float64")


def _import_optax() -> tuple[Any, Any, Any]:
    jax, jnp, optax = import_framework(
        "optax", "jax and optax", "pip install jax optax", "jax", "jax.numpy", "optax"
    )
    return jax, jnp, optax


def accepts(obj: Any) -> bool:
    """An optax alias, or a factory taking ``learning_rate``, ``b1`` and ``b2``."""
    module = getattr(obj, "__module__", "") or ""
    if module.split(".")[0] == "optax" and callable(obj):
        return True
    if "optax" not in sys.modules:
        return False
    return takes_keywords(obj, {"learning_rate", "b1", "b2"})


@contextlib.contextmanager
def _precision(jax: Any, dtype: np.dtype) -> Iterator[None]:
    """float64 needs jax's 64-bit mode; enable it for this block only."""
    if dtype == np.dtype(np.float64):
        with jax.enable_x64(True):
            yield
    else:
        yield


def _adam_state(state: Any) -> Any:
    """The first node with ``mu`` and ``nu`` in a (nested tuple) optax state, or None."""
    if hasattr(state, "mu") and hasattr(state, "nu"):
        return state
    if isinstance(state, (tuple, list)):
        for part in state:
            found = _adam_state(part)
            if found is not None:
                return found
    return None


class OptaxSession:
    """One optax optimizer run over a list of parameters (a list pytree)."""

    def __init__(
        self, impl: OptaxImplementation, hyper: Hyper, params: list[np.ndarray], dtype: np.dtype
    ) -> None:
        self._impl = impl
        self._dtype = dtype
        jax, jnp, _ = impl.modules
        with _precision(jax, dtype):
            self._tx, self._update = impl.compiled(hyper, dtype)
            self._params = [jnp.array(np.array(p, dtype=dtype, copy=True)) for p in params]
            for i, p in enumerate(self._params):
                if p.dtype != dtype:
                    raise TypeError(f"params[{i}]: jax made a {p.dtype} array from {dtype.name}")
            self._state = self._tx.init(self._params)

    def step(self, grads: Sequence[np.ndarray | None]) -> None:
        if len(grads) != len(self._params):
            raise ValueError(f"got {len(grads)} gradients for {len(self._params)} parameters")
        if any(g is None for g in grads):
            raise ValueError(
                "optax has no per-parameter skip: every gradient must be an array "
                "(this adapter does not declare the 'skip' feature)"
            )
        jax, jnp, _ = self._impl.modules
        with _precision(jax, self._dtype):
            g = [jnp.array(np.array(x, dtype=self._dtype, copy=True)) for x in grads]
            self._params, self._state = self._update(g, self._state, self._params)

    def params(self) -> list[np.ndarray]:
        return [np.array(p, dtype=self._dtype, copy=True) for p in self._params]

    def moments(self) -> list[dict[str, np.ndarray] | None] | None:
        """m and v of each parameter from the first state with ``mu`` and ``nu`` (optax's
        ``ScaleByAdamState``) in the optimizer state; None when there is none."""
        found = _adam_state(self._state)
        if found is None:
            return None
        return [
            {"m": np.array(m, dtype=np.float64), "v": np.array(v, dtype=np.float64)}
            for m, v in zip(found.mu, found.nu, strict=True)
        ]

    def save(self) -> Any:
        jax = self._impl.modules[0]
        state = jax.tree_util.tree_map(lambda x: np.array(x, copy=True), self._state)
        return {"params": self.params(), "state": state}

    def restore(self, blob: Any) -> None:
        jax, jnp, _ = self._impl.modules
        with _precision(jax, self._dtype):
            self._params = [jnp.array(np.array(p, copy=True)) for p in blob["params"]]
            self._state = jax.tree_util.tree_map(
                lambda x: jnp.array(np.array(x, copy=True)), blob["state"]
            )


class OptaxImplementation:
    """An optax transformation factory as an :class:`~..protocol.Implementation`."""

    def __init__(
        self,
        factory: Callable[..., Any],
        name: str,
        claims: dict[str, Any],
        *,
        jit: bool = True,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.modules = _import_optax()
        self.factory = factory
        self.name = name
        self.claims = dict(claims)
        self.jit = jit
        self.extra = dict(extra or {})
        self._cache: dict[tuple, tuple[Any, Callable[..., Any]]] = {}
        try:
            names = set(inspect.signature(factory).parameters)
        except (TypeError, ValueError):
            names = set()
        missing = {"learning_rate", "b1", "b2", "eps"} - names
        if names and missing:
            raise TargetError(
                f"optax target {name} does not take {sorted(missing)}; expected "
                "factory(learning_rate=, b1=, b2=, eps=)"
            )
        self.takes_decay = "weight_decay" in names
        features = set(_DTYPES) | {"checkpoint"}
        if self.takes_decay:
            features.add("weight_decay")
        self.features = frozenset(features)

    def transformation(self, hyper: Hyper) -> Any:
        """The GradientTransformation for ``hyper`` (λ only where the factory takes it)."""
        kwargs = dict(
            learning_rate=hyper.lr, b1=hyper.beta1, b2=hyper.beta2, eps=hyper.eps, **self.extra
        )
        if self.takes_decay:
            kwargs["weight_decay"] = hyper.weight_decay
        elif hyper.weight_decay != 0:
            raise ValueError(
                f"{self.name} takes no weight_decay; got "
                f"weight_decay={hyper.weight_decay!r} (allowed: 0.0)"
            )
        tx = self.factory(**kwargs)
        if not (callable(getattr(tx, "init", None)) and callable(getattr(tx, "update", None))):
            raise TargetError(
                f"{self.name}(...) returned a {type(tx).__name__}, not an optax "
                "GradientTransformation (an object with init and update)"
            )
        return tx

    def compiled(self, hyper: Hyper, dtype: np.dtype) -> tuple[Any, Callable[..., Any]]:
        """The transformation for ``hyper`` and its update function ``(grads, state, params)
        -> (params, state)``, jitted when ``jit``; cached so that sessions with the same
        hyperparameters (checkpoint/resume, replays) compile once."""
        key = (tuple(sorted(hyper.as_dict().items())), dtype.name)
        if key not in self._cache:
            jax, _, optax = self.modules
            tx = self.transformation(hyper)

            def update(grads: list, state: Any, params: list) -> tuple[list, Any]:
                updates, state = tx.update(grads, state, params)
                return optax.apply_updates(params, updates), state

            if len(self._cache) >= 64:  # bounded: drop the oldest entry
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = (tx, jax.jit(update) if self.jit else update)
        return self._cache[key]

    def create(self, hyper: Hyper, params: list[np.ndarray], dtype: np.dtype) -> OptaxSession:
        dtype = np.dtype(dtype)
        if dtype.name not in self.features:
            raise unsupported_dtype(self.name, dtype, sorted(set(_DTYPES) & self.features))
        return OptaxSession(self, hyper, params, dtype)


def make_implementation(
    target: Any = None,
    *,
    alias: str = "adam",
    jit: bool = False,
    claims: dict[str, Any] | None = None,
    **factory_kwargs: Any,
) -> OptaxImplementation:
    """The optax adapter.

    Args:
      target: ``None`` for optax's own ``alias`` (``"adam"``, ``"adamw"``, ``"amsgrad"``),
        or the user's factory returning a GradientTransformation.
      alias: which optax alias when ``target`` is None.
      jit: run the update under ``jax.jit`` (how training loops use optax); default eager.
      claims: the variant the target says it follows (defaults: the alias's known one).
      factory_kwargs: passed to the factory on every call (e.g. ``eps_root``,
        ``bias_correction_nu``).
    """
    _, _, optax = _import_optax()
    for own in BUILTIN_CLAIMS:  # optax's own alias given as module.path:attr
        if target is not None and target is getattr(optax, own, None):
            target, alias = None, own
    if target is None:
        if alias not in BUILTIN_CLAIMS:
            raise TargetError(f"alias={alias!r} is not one of {tuple(BUILTIN_CLAIMS)}")
        factory = getattr(optax, alias)
        name = f"optax.{alias} {optax.__version__} ({'jit' if jit else 'eager'})"
        known = dict(BUILTIN_CLAIMS[alias])
        if factory_kwargs:
            known = {}  # changed behaviour: nothing is known about it
        return OptaxImplementation(
            factory, name, claims if claims is not None else known, jit=jit, extra=factory_kwargs
        )
    if not callable(target):
        raise TargetError(
            f"optax target {target!r} is not callable; expected a factory "
            "taking (learning_rate=, b1=, b2=, eps=)"
        )
    name = f"{getattr(target, '__module__', '?')}:{getattr(target, '__qualname__', target)!s}"
    return OptaxImplementation(target, name, claims or {}, jit=jit, extra=factory_kwargs)
