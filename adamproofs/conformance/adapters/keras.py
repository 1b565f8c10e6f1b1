r"""Adapter for Keras 3 optimizers (``keras.optimizers.Adam``, ``AdamW``, your subclass).

A target is a class (or factory) called as
``target(learning_rate=α, beta_1=β1, beta_2=β2, epsilon=ε)`` (plus ``weight_decay=λ``
when λ > 0; Keras applies it to any optimizer as θ ← θ − αλθ before the update,
i.e. decoupled decay). One session is::

    variables = [keras.Variable(p, dtype=...) for p in params]
    optimizer.apply(grads, variables)       # None gradients are filtered out by Keras

Backend: Keras picks its backend when it is first imported. If it is not
imported yet, this adapter sets ``KERAS_BACKEND`` (unless the user already did)
to ``"jax"`` when jax is installed, else ``"torch"``; ``backend=`` chooses.
:func:`import_keras` does this; :mod:`..targets` calls it before importing a
``keras.*`` module:attr target (or any module with ``kind="keras"``).

Precision: Keras stores ``learning_rate`` as a variable of dtype
``keras.config.floatx()`` (float32 by default). With ``floatx="match"`` (default)
the optimizer of a float64 session is built under ``floatx = "float64"``, which is
what a Keras user training in float64 configures; ``floatx="keep"`` leaves the
setting alone, so α is rounded to float32 (a documented finding, not a bug of
the checker). float64 on the JAX backend runs inside ``jax.enable_x64(True)``.

Checkpoints use Keras's own ``save_own_variables``/``load_own_variables``.
Keras counts steps per optimizer (``iterations``), shared by all variables: a
variable whose gradient is ``None`` is not updated, but the counter advances.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ..protocol import FrameworkMissing, Hyper, TargetError, import_framework, takes_keywords

KIND = "keras"

#: Variant claims of Keras's own optimizers, as :class:`~adamproofs.config.Adam` axes.
#: Adam/AdamW: ε-hat (α_t = α√(1-β2^t)/(1-β1^t), θ -= α_t m/(√v + ε̂)); decay decoupled
#: before the step; amsgrad=True keeps max of the raw v; one counter per optimizer.
BUILTIN_CLAIMS: dict[str, dict[str, Any]] = {
    "Adam": dict(
        eps_placement="hat",
        bias_correction=True,
        amsgrad=None,
        decay="decoupled",
        step_scope="optimizer",
    ),
    "AdamW": dict(
        eps_placement="hat",
        bias_correction=True,
        amsgrad=None,
        decay="decoupled",
        step_scope="optimizer",
    ),
}

_BACKEND_DTYPES: dict[str, tuple[str, ...]] = {
    "jax": ("float16", "bfloat16", "float32", "float64"),
    "torch": ("float16", "bfloat16", "float32", "float64"),
}


def _choose_backend(backend: str | None) -> None:
    """Set KERAS_BACKEND before Keras is imported (a no-op once it is)."""
    if "keras" in sys.modules:
        return
    if backend is not None:
        os.environ["KERAS_BACKEND"] = backend
        return
    if os.environ.get("KERAS_BACKEND"):
        return
    for candidate in ("jax", "torch"):
        try:
            importlib.import_module(candidate)
        except ImportError:
            continue
        os.environ["KERAS_BACKEND"] = candidate
        return


def import_keras(backend: str | None = None) -> Any:
    """Keras 3, imported after choosing its backend as described in the module docstring.

    Raises :class:`~..protocol.FrameworkMissing` (naming what to install) when Keras or
    its backend cannot be imported.
    """
    _choose_backend(backend)
    (keras,) = import_framework(
        "keras", "Keras 3 and a backend", "pip install keras jax (or torch)", "keras"
    )
    if not hasattr(keras, "Variable") or not hasattr(keras, "config"):
        raise FrameworkMissing(f"keras {getattr(keras, '__version__', '?')} is not Keras 3")
    actual = keras.backend.backend()
    if backend is not None and actual != backend:
        raise TargetError(
            f"backend={backend!r} was asked for but Keras was already imported "
            f"with backend {actual!r}; set KERAS_BACKEND before importing keras"
        )
    return keras


def accepts(obj: Any) -> bool:
    """A Keras optimizer class, or a factory taking ``learning_rate``, ``beta_1``, ``beta_2``."""
    keras = sys.modules.get("keras")
    if keras is not None and isinstance(obj, type):
        try:
            if issubclass(obj, keras.optimizers.Optimizer):
                return True
        except TypeError:
            pass
    return takes_keywords(obj, {"learning_rate", "beta_1", "beta_2"})


class KerasSession:
    """One Keras optimizer over a list of ``keras.Variable``."""

    def __init__(
        self, impl: KerasImplementation, hyper: Hyper, params: list[np.ndarray], dtype: np.dtype
    ) -> None:
        self._impl = impl
        self._dtype = dtype
        keras = impl.keras
        with impl.precision(dtype):
            self._vars = [
                keras.Variable(
                    np.array(p, dtype=dtype, copy=True),
                    dtype=dtype.name,
                    name=f"param_{i}",
                    trainable=True,
                )
                for i, p in enumerate(params)
            ]
            self.optimizer = impl.optimizer(hyper)
            self.optimizer.build(self._vars)

    def step(self, grads: Sequence[np.ndarray | None]) -> None:
        if len(grads) != len(self._vars):
            raise ValueError(f"got {len(grads)} gradients for {len(self._vars)} parameters")
        ops = self._impl.keras.ops
        with self._impl.precision(self._dtype):
            tensors = [
                None
                if g is None
                else ops.convert_to_tensor(
                    np.array(g, dtype=self._dtype, copy=True), dtype=self._dtype.name
                )
                for g in grads
            ]
            with warnings.catch_warnings():  # None gradients are deliberate here
                warnings.filterwarnings("ignore", message="Gradients do not exist")
                self.optimizer.apply(tensors, self._vars)

    def params(self) -> list[np.ndarray]:
        ops = self._impl.keras.ops
        with self._impl.precision(self._dtype):
            return [
                np.array(ops.convert_to_numpy(v.value), dtype=self._dtype, copy=True)
                for v in self._vars
            ]

    def moments(self) -> list[dict[str, np.ndarray] | None] | None:
        """m and v of each variable from Keras's Adam (``_momentums``, ``_velocities``, one
        per variable in build order); None for an optimizer without them."""
        ms = getattr(self.optimizer, "_momentums", None)
        vs = getattr(self.optimizer, "_velocities", None)
        if not ms or not vs or len(ms) != len(self._vars) or len(vs) != len(self._vars):
            return None
        ops = self._impl.keras.ops
        with self._impl.precision(self._dtype):
            return [
                {
                    "m": np.array(ops.convert_to_numpy(m.value), dtype=np.float64),
                    "v": np.array(ops.convert_to_numpy(v.value), dtype=np.float64),
                }
                for m, v in zip(ms, vs, strict=True)
            ]

    def save(self) -> Any:
        store: dict[str, np.ndarray] = {}
        with self._impl.precision(self._dtype):
            self.optimizer.save_own_variables(store)
        return {
            "params": self.params(),
            "optimizer": {k: np.array(v, copy=True) for k, v in store.items()},
        }

    def restore(self, blob: Any) -> None:
        saved = blob["optimizer"]
        if len(saved) != len(self.optimizer.variables):
            raise ValueError(
                f"checkpoint has {len(saved)} optimizer variables, this optimizer "
                f"has {len(self.optimizer.variables)}"
            )
        with self._impl.precision(self._dtype):
            for var, value in zip(self._vars, blob["params"], strict=True):
                var.assign(np.array(value, dtype=self._dtype, copy=True))
            self.optimizer.load_own_variables({k: np.array(v, copy=True) for k, v in saved.items()})


class KerasImplementation:
    """A Keras optimizer class/factory as an :class:`~..protocol.Implementation`."""

    def __init__(
        self,
        factory: Callable[..., Any],
        name: str,
        claims: dict[str, Any],
        *,
        keras: Any,
        floatx: str = "match",
        extra: dict[str, Any] | None = None,
    ) -> None:
        if floatx not in ("match", "keep"):
            raise TargetError(f"floatx={floatx!r} is not one of ('match', 'keep')")
        self.keras = keras
        self.factory = factory
        self.name = name
        self.claims = dict(claims)
        self.floatx = floatx
        self.extra = dict(extra or {})
        self.backend = keras.backend.backend()
        try:
            param = inspect.signature(factory).parameters.get("weight_decay")
        except (TypeError, ValueError):
            param = None
        self.decay_default = None if param is None else param.default
        dtypes = _BACKEND_DTYPES.get(self.backend, ("float32",))
        self.features = frozenset({*dtypes, "weight_decay", "skip", "checkpoint"})

    @contextlib.contextmanager
    def precision(self, dtype: np.dtype) -> Iterator[None]:
        """float64: JAX's 64-bit mode and (with floatx="match") Keras floatx=float64."""
        stack = contextlib.ExitStack()
        with stack:
            if dtype == np.dtype(np.float64):
                if self.backend == "jax":
                    jax = importlib.import_module("jax")
                    stack.enter_context(jax.enable_x64(True))
                if self.floatx == "match":
                    previous = self.keras.config.floatx()
                    self.keras.config.set_floatx("float64")
                    stack.callback(self.keras.config.set_floatx, previous)
            yield

    def optimizer(self, hyper: Hyper) -> Any:
        """A new Keras optimizer for ``hyper``."""
        kwargs = dict(
            learning_rate=hyper.lr,
            beta_1=hyper.beta1,
            beta_2=hyper.beta2,
            epsilon=hyper.eps,
            **self.extra,
        )
        if hyper.weight_decay != 0:
            kwargs["weight_decay"] = hyper.weight_decay
        elif self.decay_default not in (None, inspect.Parameter.empty):
            kwargs["weight_decay"] = 0.0  # e.g. AdamW, whose default λ is 0.004
        opt = self.factory(**kwargs)
        if not callable(getattr(opt, "apply", None)):
            raise TargetError(
                f"{self.name}(...) returned a {type(opt).__name__}, not a Keras "
                "optimizer (an object with apply(grads, variables))"
            )
        return opt

    def create(self, hyper: Hyper, params: list[np.ndarray], dtype: np.dtype) -> KerasSession:
        dtype = np.dtype(dtype)
        if dtype.name not in self.features:
            raise TypeError(
                f"dtype={dtype.name!r} is not supported by {self.name} on the "
                f"{self.backend} backend; allowed: "
                f"{sorted(_BACKEND_DTYPES.get(self.backend, ()))}"
            )
        return KerasSession(self, hyper, params, dtype)


def make_implementation(
    target: Any = None,
    *,
    optimizer: str = "Adam",
    backend: str | None = None,
    floatx: str = "match",
    claims: dict[str, Any] | None = None,
    **optimizer_kwargs: Any,
) -> KerasImplementation:
    """The Keras adapter.

    Args:
      target: ``None`` for Keras's own ``optimizer`` (``"Adam"`` or ``"AdamW"``), or the
        user's optimizer class/factory.
      backend: ``"jax"`` or ``"torch"``; only effective before Keras is first imported.
      floatx: ``"match"`` builds float64 optimizers under ``floatx="float64"``; ``"keep"``
        leaves Keras's floatx (α then lives in a float32 variable).
      claims: the variant the target says it follows (defaults: the known one).
      optimizer_kwargs: passed on every construction (e.g. ``amsgrad=True``).
    """
    keras = import_keras(backend)
    for own in BUILTIN_CLAIMS:  # Keras's own class given as module.path:attr
        if target is not None and target is getattr(keras.optimizers, own, None):
            target, optimizer = None, own
    if target is None:
        if optimizer not in BUILTIN_CLAIMS:
            raise TargetError(f"optimizer={optimizer!r} is not one of {tuple(BUILTIN_CLAIMS)}")
        factory = getattr(keras.optimizers, optimizer)
        name = f"keras.optimizers.{optimizer} {keras.__version__} ({keras.backend.backend()})"
        known = dict(BUILTIN_CLAIMS[optimizer])
        if optimizer_kwargs.get("amsgrad"):
            known["amsgrad"] = "max_raw"
        elif optimizer_kwargs:
            known = {}
        return KerasImplementation(
            factory,
            name,
            claims if claims is not None else known,
            keras=keras,
            floatx=floatx,
            extra=optimizer_kwargs,
        )
    if not callable(target):
        raise TargetError(
            f"keras target {target!r} is not callable; expected an optimizer class "
            "taking (learning_rate=, beta_1=, beta_2=, epsilon=)"
        )
    name = f"{getattr(target, '__module__', '?')}:{getattr(target, '__qualname__', target)!s}"
    return KerasImplementation(
        target, name, claims or {}, keras=keras, floatx=floatx, extra=optimizer_kwargs
    )
