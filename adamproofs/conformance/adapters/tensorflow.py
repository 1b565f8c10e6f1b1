r"""Adapter for TensorFlow's own optimizers: ``tf.compat.v1.train.AdamOptimizer`` and the
tf-keras (Keras 2) ``Adam`` classes.

Under TensorFlow ≥ 2.16 ``tf.keras`` is Keras 3, which the ``keras`` adapter covers
(``KERAS_BACKEND=tensorflow``). This adapter covers what is TensorFlow's alone:

- ``AdamOptimizer`` (default): ``tf.compat.v1.train.AdamOptimizer(learning_rate=α,
  beta1=β1, beta2=β2, epsilon=ε)``, the ``ApplyAdam`` kernel;
- ``legacy.Adam``: ``tf_keras.optimizers.legacy.Adam`` (the ``optimizer_v2`` class);
- ``Adam``: ``tf_keras.optimizers.Adam`` (the Keras 2.11+ class).

(tf-keras classes take ``beta_1``/``beta_2``.) Or a user's class or factory with either
spelling. One session runs eagerly::

    variables = [tf.Variable(p) for p in params]
    optimizer.apply_gradients([(tf.constant(g), v) for g, v in ... if g is not None])

tf-keras 2.11+ optimizers are first built with every variable (``optimizer.build``, as
``Model.fit`` does); otherwise they refuse a variable missing from the first call.
A ``None`` gradient leaves the pair out: the variable is not updated, while the
optimizer's step count (TF1: the running products ``beta1_power``/``beta2_power``;
tf-keras: ``iterations``) is one per optimizer and advances. Checkpoints are written
and read with ``tf.train.Checkpoint`` (its files kept in memory); a fresh optimizer
receives its slots by TensorFlow's deferred restoration when they are created.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...dtypes import bfloat16_dtype
from ..protocol import (
    FrameworkMissing,
    Hyper,
    InputMutated,
    TargetError,
    import_framework,
    takes_keywords,
    unsupported_dtype,
)

KIND = "tensorflow"

#: name -> (module, attribute) of TensorFlow's own optimizers
BUILTIN_CLASSES: dict[str, tuple[str, str]] = {
    "AdamOptimizer": ("tensorflow.compat.v1.train", "AdamOptimizer"),
    "legacy.Adam": ("tf_keras.optimizers.legacy", "Adam"),
    "Adam": ("tf_keras.optimizers", "Adam"),
}

#: The variant each follows, read from its source: ε̂ (ε added to √v, the step size
#: α√(1-β2^t)/(1-β1^t)), one counter per optimizer; tf-keras's Adam (Keras 2.11+) applies
#: ``weight_decay`` decoupled, before the step, as Keras 3 does.
BUILTIN_CLAIMS: dict[str, dict[str, Any]] = {
    "AdamOptimizer": dict(
        eps_placement="hat", bias_correction=True, amsgrad=None, step_scope="optimizer"
    ),
    "legacy.Adam": dict(
        eps_placement="hat", bias_correction=True, amsgrad=None, step_scope="optimizer"
    ),
    "Adam": dict(
        eps_placement="hat",
        bias_correction=True,
        amsgrad=None,
        decay="decoupled",
        step_scope="optimizer",
    ),
}

_DTYPES = ("float16", "bfloat16", "float32", "float64")


def _import_tf() -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    (tf,) = import_framework(
        "tensorflow", "TensorFlow", "pip install tensorflow tf_keras", "tensorflow"
    )
    return tf


def _spelling(obj: Any) -> str | None:
    """``"tf1"`` (beta1/beta2), ``"keras2"`` (beta_1/beta_2) or None."""
    if takes_keywords(obj, {"learning_rate", "beta1", "beta2", "epsilon"}):
        return "tf1"
    if takes_keywords(obj, {"learning_rate", "beta_1", "beta_2", "epsilon"}):
        return "keras2"
    return None


def accepts(obj: Any) -> bool:
    """A class from TensorFlow or tf-keras (the module is imported already), or a factory
    with TF1's spelling ``(learning_rate, beta1, beta2, epsilon)``."""
    module = (getattr(obj, "__module__", "") or "").split(".")[0]
    if module in ("tensorflow", "tf_keras") and _spelling(obj) is not None:
        return True
    return "tensorflow" in sys.modules and _spelling(obj) == "tf1"


def _to_numpy(value: Any, dtype: np.dtype) -> np.ndarray:
    """A NumPy copy of a tensor or variable (``.numpy()``: ``np.asarray`` refuses bfloat16)."""
    return np.array(value.numpy(), dtype=dtype, copy=True)


class TensorflowSession:
    """One TensorFlow optimizer over ``tf.Variable`` copies of the arrays (eager)."""

    def __init__(
        self,
        impl: TensorflowImplementation,
        hyper: Hyper,
        params: list[np.ndarray],
        dtype: np.dtype,
    ) -> None:
        tf = impl.tf
        self._impl = impl
        self._dtype = dtype
        self._vars = [
            tf.Variable(np.array(p, dtype=dtype, copy=True), name=f"p{i}")
            for i, p in enumerate(params)
        ]
        for i, v in enumerate(self._vars):
            if v.dtype.as_numpy_dtype != dtype:
                raise TypeError(f"params[{i}]: TensorFlow made a {v.dtype.name} variable")
        self.optimizer = impl.optimizer(hyper)
        if callable(getattr(self.optimizer, "build", None)):
            # tf-keras 2.11+ optimizers know only the variables they were built with (the
            # first apply_gradients' list unless built first, as Model.fit does)
            self.optimizer.build(self._vars)

    def step(self, grads: Sequence[np.ndarray | None]) -> None:
        if len(grads) != len(self._vars):
            raise ValueError(f"got {len(grads)} gradients for {len(self._vars)} parameters")
        tf = self._impl.tf
        pairs, given = [], []
        for v, g in zip(self._vars, grads, strict=True):
            if g is None:
                continue
            tensor = tf.constant(np.array(g, dtype=self._dtype, copy=True))
            pairs.append((tensor, v))
            given.append((tensor, _to_numpy(tensor, self._dtype)))
        if pairs:
            self.optimizer.apply_gradients(pairs)
        for i, (tensor, before) in enumerate(given):
            if not np.array_equal(_to_numpy(tensor, self._dtype), before, equal_nan=True):
                raise InputMutated(f"apply_gradients modified gradient {i} in place")

    def params(self) -> list[np.ndarray]:
        return [_to_numpy(v, self._dtype) for v in self._vars]

    def _checkpoint(self) -> Any:
        tracked = {f"p{i}": v for i, v in enumerate(self._vars)}
        return self._impl.tf.train.Checkpoint(optimizer=self.optimizer, **tracked)

    def save(self) -> Any:
        with tempfile.TemporaryDirectory() as tmp:
            self._checkpoint().write(os.path.join(tmp, "ckpt"))
            return {p.name: p.read_bytes() for p in Path(tmp).iterdir()}

    def restore(self, blob: Any) -> None:
        # The directory lives as long as the session: TensorFlow reads a slot's saved value
        # when the slot is created, at the first apply_gradients after the restore.
        self._restored_from = tempfile.TemporaryDirectory()
        for name, data in blob.items():
            (Path(self._restored_from.name) / name).write_bytes(data)
        status = self._checkpoint().read(os.path.join(self._restored_from.name, "ckpt"))
        with contextlib.suppress(AttributeError):
            status.expect_partial()


class TensorflowImplementation:
    """A TensorFlow optimizer class/factory as an :class:`~..protocol.Implementation`."""

    def __init__(
        self, factory: Any, name: str, claims: dict[str, Any], extra: dict[str, Any]
    ) -> None:
        self.tf = _import_tf()
        self.factory = factory
        self.name = name
        self.claims = dict(claims)
        self.extra = dict(extra)
        spelling = _spelling(factory)
        if spelling is None:
            raise TargetError(
                f"tensorflow target {name} takes neither (learning_rate, beta1, beta2, "
                "epsilon) nor (learning_rate, beta_1, beta_2, epsilon)"
            )
        self.spelling = spelling
        try:
            decay = inspect.signature(factory).parameters.get("weight_decay")
        except (TypeError, ValueError):
            decay = None
        self.takes_decay = decay is not None
        features = {*_DTYPES, "skip", "checkpoint"}
        if self.takes_decay:
            features.add("weight_decay")
        self.features = frozenset(features)

    def optimizer(self, hyper: Hyper) -> Any:
        """A new optimizer for ``hyper``."""
        b1, b2 = ("beta1", "beta2") if self.spelling == "tf1" else ("beta_1", "beta_2")
        kwargs: dict[str, Any] = {
            "learning_rate": hyper.lr,
            b1: hyper.beta1,
            b2: hyper.beta2,
            "epsilon": hyper.eps,
            **self.extra,
        }
        if self.takes_decay:
            kwargs["weight_decay"] = hyper.weight_decay or None
        elif hyper.weight_decay != 0:
            raise ValueError(
                f"{self.name} takes no weight_decay; got "
                f"weight_decay={hyper.weight_decay!r} (allowed: 0.0)"
            )
        opt = self.factory(**kwargs)
        if not callable(getattr(opt, "apply_gradients", None)):
            raise TargetError(
                f"{self.name}(...) returned a {type(opt).__name__}, not a TensorFlow "
                "optimizer (an object with apply_gradients)"
            )
        return opt

    def create(self, hyper: Hyper, params: list[np.ndarray], dtype: np.dtype) -> Any:
        dtype = np.dtype(dtype)
        if dtype.name not in self.features and dtype != bfloat16_dtype():
            raise unsupported_dtype(self.name, dtype, list(_DTYPES))
        return TensorflowSession(self, hyper, params, dtype)


def make_implementation(
    target: Any = None,
    *,
    optimizer: str = "AdamOptimizer",
    claims: dict[str, Any] | None = None,
    **optimizer_kwargs: Any,
) -> TensorflowImplementation:
    """The TensorFlow adapter.

    Args:
      target: ``None`` for one of TensorFlow's own (``optimizer``: ``"AdamOptimizer"``,
        ``"legacy.Adam"``, ``"Adam"``), or the user's class/factory.
      claims: the variant the target says it follows (defaults: the one its source follows).
      optimizer_kwargs: passed on every construction (e.g. ``amsgrad=True``).
    """
    tf = _import_tf()
    if target is None:
        if optimizer not in BUILTIN_CLASSES:
            raise TargetError(f"optimizer={optimizer!r} is not one of {tuple(BUILTIN_CLASSES)}")
        module_name, attr = BUILTIN_CLASSES[optimizer]
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except ImportError as err:
            raise FrameworkMissing(
                f"optimizer={optimizer!r} needs {module_name} ({err}); "
                "install it with: pip install tf_keras"
            ) from err
        known = {} if optimizer_kwargs else dict(BUILTIN_CLAIMS[optimizer])
        return TensorflowImplementation(
            factory,
            f"{module_name}.{attr} (tensorflow {tf.__version__})",
            claims if claims is not None else known,
            optimizer_kwargs,
        )
    if not callable(target):
        raise TargetError(f"tensorflow target {target!r} is not a class or factory")
    name = f"{getattr(target, '__module__', '?')}:{getattr(target, '__qualname__', target)!s}"
    return TensorflowImplementation(target, name, claims or {}, optimizer_kwargs)
