r"""The adapter protocol: every implementation under test is turned into this.

The conformance suite never talks to PyTorch, optax, Keras or your code directly.
It talks to an :class:`Implementation` (a factory of optimizer runs) and the
:class:`Session` objects it creates (one run of one optimizer over a list of
parameter arrays). Adapters (:mod:`adamproofs.conformance.adapters`) build these
for each framework; the checker only calls the methods below.

Data model
----------
- Parameters and gradients cross the protocol as NumPy arrays in the dtype under
  test (``numpy.float16``, ``float32``, ``float64`` or ml_dtypes ``bfloat16``).
  The adapter converts to and from its framework (torch tensors, jax arrays, ...).
- :class:`Hyper` holds the hyperparameters as Python floats:
  ``lr`` (α), ``beta1`` (β1), ``beta2`` (β2), ``eps`` (ε, in whatever placement the
  implementation uses: the checker finds out which) and ``weight_decay`` (λ); plus
  ``maximize`` (bool; only set when the implementation declares ``"maximize"``).
  The checker picks values exactly representable in the dtype under test, so an
  implementation may cast them to that dtype without changing them.
- ``Session.step(grads)``: one optimizer step. ``grads[i]`` has the shape and dtype
  of parameter ``i``, or is ``None``: that parameter is skipped this step (not
  updated, its step counter not advanced, as ``.grad is None`` in PyTorch). The
  checker keeps its own copies and verifies that the adapter and the
  implementation never write into the arrays it passes in.
- ``Session.params()``: *copies* of the current parameter values, as NumPy arrays in
  the dtype under test, in the order given to ``create``.
- ``Session.save()`` returns an opaque blob made with the framework's own state
  saving (``optimizer.state_dict()``, a pytree, ``get_config``/variables, ...) plus
  the parameter values; ``Session.restore(blob)`` is called on a *fresh* session
  (same hyperparameters and shapes, possibly different initial values) and must
  make it continue exactly where the saved one was. Only required when
  ``"checkpoint"`` is in ``features``.
- ``Session.moments()`` (optional): the optimizer's state after the last step, one entry
  per parameter: ``{"m": m_t, "v": v_t}`` (Algorithm 1's moments before bias correction,
  NumPy arrays of the parameter's shape) or ``None`` where it has none. The checker reads
  it only to say which quantity departs first when no known defect explains a failure;
  without it, θ alone is compared. The torch, optax and Keras adapters read it from the
  framework's state (``exp_avg``/``exp_avg_sq``, ``ScaleByAdamState.mu``/``nu``, Keras's
  momentum and velocity variables); a plain-protocol optimizer may define ``moments()``
  returning the same list.
- ``Implementation.create_groups(groups, dtype)``: optional, only when ``"groups"`` is
  in ``features``. ``groups`` is a list of ``(Hyper, params)``; the session's
  ``step``/``params`` use the concatenation of all groups' parameters, in order.

Anything an implementation raises inside these methods is caught by the checker
and reported as a failure of the implementation (never a crash of the checker).

Features
--------
``features`` is a set of strings from :data:`FEATURES` saying what the checker may
exercise: the dtypes it supports (``"float16"``, ``"bfloat16"``, ``"float32"``,
``"float64"``), ``"weight_decay"`` (honours ``Hyper.weight_decay``), ``"maximize"``
(honours ``Hyper.maximize``: ascend, i.e. use -g),
``"skip"`` (``None`` gradients), ``"groups"``, ``"checkpoint"``. Properties that
need a missing feature are reported as ``skipped``, not failed.

``claims`` optionally states the variant the implementation *says* it follows,
as axes of :class:`adamproofs.config.Adam` (e.g. ``{"eps_placement": "hat"}``);
the checker fingerprints the actual behaviour either way.

Plain Python/NumPy code: ten lines to adopt
-------------------------------------------
For your own NumPy Adam you do not need to write an adapter. Give the checker a
class (or factory) with this constructor and a ``step`` method; it updates the
arrays in ``params`` in place::

    import numpy as np

    class MyAdam:
        def __init__(self, params, *, lr, beta1, beta2, eps, weight_decay):
            self.params, self.h = params, (lr, beta1, beta2, eps, weight_decay)
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
            self.t = [0] * len(params)

        def step(self, grads):              # grads[i] is an array or None
            lr, b1, b2, eps, wd = self.h
            for i, (p, g) in enumerate(zip(self.params, grads)):
                if g is None:
                    continue
                g = g + wd * p              # L2 weight decay, as torch.optim.Adam
                self.t[i] += 1
                self.m[i] = b1 * self.m[i] + (1 - b1) * g
                self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
                mhat = self.m[i] / (1 - b1 ** self.t[i])
                vhat = self.v[i] / (1 - b2 ** self.t[i])
                p -= (lr * mhat / (np.sqrt(vhat) + eps)).astype(p.dtype)

        # optional, enables the checkpoint property:
        def state_dict(self): ...
        def load_state_dict(self, state): ...

        # optional: m and v per parameter, read when the checker diagnoses a failure:
        def moments(self):
            return [{"m": m, "v": v} for m, v in zip(self.m, self.v)]

        # optional: what the checker may exercise (default: every dtype, weight decay,
        # None gradients, and checkpoints when the two methods above exist)
        adamproofs_features = {"float32", "float64", "weight_decay", "skip"}

and run ``adamproofs check mymodule:MyAdam`` (``--kind plain`` forces this
reading). :class:`PlainImplementation` is the adapter that does this. You may
also hand the checker any object implementing :class:`Implementation` directly.

Adapter modules
---------------
Each module ``adamproofs.conformance.adapters.<kind>`` exposes

- ``KIND: str``: its name (``"torch"``, ``"optax"``, ``"keras"``, ``"plain"``);
- ``accepts(obj) -> bool``: whether a user object (class, factory, instance) is of
  this kind; cheap, and must not import a framework that is not already imported;
- ``make_implementation(target=None, **options) -> Implementation``: with
  ``target=None`` the framework's own Adam; otherwise wrap the user's object.
  Raises :class:`FrameworkMissing` when the framework is not installed and
  :class:`TargetError` when ``target`` cannot be used.
"""

from __future__ import annotations

import copy
import importlib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeGuard, runtime_checkable

import numpy as np

#: The feature names an implementation may declare.
FEATURES: frozenset[str] = frozenset(
    {
        "float16",
        "bfloat16",
        "float32",
        "float64",
        "weight_decay",
        "maximize",
        "skip",
        "groups",
        "checkpoint",
    }
)


class UsageError(ValueError):
    """A bad setting of the checker (the CLI exits with status 2, naming it)."""


class TargetError(Exception):
    """The target cannot be loaded or used (the CLI exits with status 2)."""


class FrameworkMissing(TargetError):
    """The framework a target needs is not installed."""


def import_framework(adapter: str, needs: str, install: str, *modules: str) -> list[Any]:
    """``modules``, imported, for the ``adapter`` adapter; :class:`FrameworkMissing` names
    what it ``needs`` and the command that installs it when one cannot be imported."""
    try:
        return [importlib.import_module(name) for name in modules]
    except ImportError as err:
        raise FrameworkMissing(
            f"the {adapter} adapter needs {needs} ({err}); install it with: {install}"
        ) from err


class InputMutated(Exception):
    """An implementation wrote into an array the caller owns (a gradient or initial value).

    Adapters that must copy the caller's arrays into framework tensors raise this
    from ``Session.step`` when the implementation changed those tensors in place.
    """


@dataclass(frozen=True)
class Hyper:
    """Hyperparameters handed to an implementation, as Python floats.

    ``lr`` α, ``beta1`` β1, ``beta2`` β2, ``eps`` ε, ``weight_decay`` λ.
    """

    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    maximize: bool = False

    def __post_init__(self) -> None:
        for name in ("lr", "beta1", "beta2", "eps", "weight_decay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"Hyper.{name}={value!r} must be a Python float")
            object.__setattr__(self, name, float(value))
        if not isinstance(self.maximize, bool):
            raise TypeError(f"Hyper.maximize={self.maximize!r} must be True or False")

    def replace(self, **changes: Any) -> Hyper:
        """A copy with some fields changed."""
        return Hyper(**{**self.as_dict(), "maximize": self.maximize, **changes})

    def as_dict(self) -> dict[str, float]:
        """The five numeric hyperparameters (``maximize`` is not included)."""
        return {
            "lr": self.lr,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
        }


@runtime_checkable
class Session(Protocol):
    """One run of an optimizer over a fixed list of parameter arrays."""

    def step(self, grads: Sequence[np.ndarray | None]) -> None:
        """One update; ``grads[i] is None`` skips parameter ``i`` (counter not advanced)."""

    def params(self) -> list[np.ndarray]:
        """Copies of the current parameters, NumPy arrays in the dtype under test."""

    def save(self) -> Any:
        """The framework's own saved state (plus parameters), as an opaque blob."""

    def restore(self, blob: Any) -> None:
        """Load a blob from :meth:`save` into this (fresh) session."""


@runtime_checkable
class Implementation(Protocol):
    """A factory of :class:`Session` objects for one optimizer implementation."""

    name: str
    features: frozenset[str]
    claims: dict[str, Any]

    def create(self, hyper: Hyper, params: list[np.ndarray], dtype: np.dtype) -> Session:
        """A new session over copies of ``params`` (already of ``dtype``)."""


@runtime_checkable
class GroupedImplementation(Implementation, Protocol):
    """An :class:`Implementation` that also takes parameter groups (feature ``"groups"``)."""

    def create_groups(
        self, groups: list[tuple[Hyper, list[np.ndarray]]], dtype: np.dtype
    ) -> Session:
        """A new session over the concatenation of the groups' parameters, in order."""


def takes_keywords(obj: Any, names: set[str]) -> bool:
    """True when ``obj`` is callable and its signature has every parameter in ``names``."""
    if not callable(obj):
        return False
    try:
        params = set(inspect.signature(obj).parameters)
    except (TypeError, ValueError):
        return False
    return names <= params


def unsupported_dtype(name: str, dtype: np.dtype, allowed: Sequence[str]) -> TypeError:
    """The error an adapter's ``create`` raises for a ``dtype`` it does not support."""
    return TypeError(f"dtype={dtype.name!r} is not supported by {name}; allowed: {list(allowed)}")


def supports(impl: Implementation, feature: str) -> bool:
    """Whether ``impl`` declares ``feature`` (``groups`` also needs ``create_groups``)."""
    feats: frozenset[str] = getattr(impl, "features", frozenset())
    if feature == "groups":
        return feature in feats and takes_groups(impl)
    return feature in feats


def takes_groups(impl: Implementation) -> TypeGuard[GroupedImplementation]:
    """Whether ``impl`` has ``create_groups`` (see :class:`GroupedImplementation`)."""
    return callable(getattr(impl, "create_groups", None))


# ---------------------------------------------------------------------------------------
# The plain Python/NumPy adapter (the "ten lines to adopt" protocol above).
# ---------------------------------------------------------------------------------------


class PlainSession:
    """A :class:`Session` over a user object with ``step(grads)`` updating arrays in place."""

    def __init__(self, factory: Callable[..., Any], hyper: Hyper, params: list[np.ndarray]) -> None:
        self._params = [np.array(p, copy=True, order="C") for p in params]
        self._factory = factory
        self._hyper = hyper
        self.optimizer = factory(self._params, **hyper.as_dict())

    def step(self, grads: Sequence[np.ndarray | None]) -> None:
        self.optimizer.step(list(grads))

    def params(self) -> list[np.ndarray]:
        return [np.array(p, copy=True) for p in self._params]

    def moments(self) -> list[dict[str, np.ndarray] | None] | None:
        """The optimizer's own ``moments()`` (see the module doc), or None without one."""
        reader = getattr(self.optimizer, "moments", None)
        return None if reader is None else reader()

    def save(self) -> Any:
        state_dict = getattr(self.optimizer, "state_dict", None)
        if state_dict is None:
            raise NotImplementedError("the optimizer has no state_dict() method")
        return copy.deepcopy((self.params(), state_dict()))

    def restore(self, blob: Any) -> None:
        params, state = copy.deepcopy(blob)
        for mine, saved in zip(self._params, params, strict=True):
            mine[...] = saved
        self.optimizer.load_state_dict(state)


def _plain_features(factory: Callable[..., Any]) -> set[str]:
    """``factory.adamproofs_features`` if declared, else every dtype (bfloat16 with
    ml_dtypes), weight decay, None gradients, and checkpoints when the class has
    ``state_dict``/``load_state_dict``."""
    declared = getattr(factory, "adamproofs_features", None)
    if declared is not None:
        unknown = set(declared) - FEATURES
        if unknown:
            raise TargetError(
                f"adamproofs_features has unknown names {sorted(unknown)}; "
                f"allowed: {sorted(FEATURES)}"
            )
        return set(declared)
    features = {"float16", "float32", "float64", "weight_decay", "skip"}
    try:
        import ml_dtypes  # noqa: F401

        features.add("bfloat16")
    except ImportError:
        pass
    if (
        isinstance(factory, type)
        and callable(getattr(factory, "state_dict", None))
        and callable(getattr(factory, "load_state_dict", None))
    ):
        features.add("checkpoint")
    return features


class PlainImplementation:
    """Adapter for the plain protocol: ``factory(params, *, lr, beta1, beta2, eps,
    weight_decay)`` returning an object with ``step(grads)`` (in place) and, optionally,
    ``state_dict()``/``load_state_dict()``."""

    def __init__(
        self,
        factory: Callable[..., Any],
        name: str | None = None,
        *,
        features: Sequence[str] | None = None,
        claims: dict[str, Any] | None = None,
    ) -> None:
        if not callable(factory):
            raise TargetError(
                f"plain target {factory!r} is not callable; expected a class or "
                "factory taking (params, *, lr, beta1, beta2, eps, weight_decay)"
            )
        self.factory = factory
        self.name: str = name or str(getattr(factory, "__qualname__", repr(factory)))
        self.features = frozenset(_plain_features(factory) if features is None else features)
        self.claims = dict(claims or {})

    def create(self, hyper: Hyper, params: list[np.ndarray], dtype: np.dtype) -> PlainSession:
        return PlainSession(self.factory, hyper, [np.asarray(p, dtype=dtype) for p in params])
