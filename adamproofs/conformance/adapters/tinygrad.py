r"""Adapter for tinygrad optimizers (``tinygrad.nn.optim.Adam``, ``AdamW``, yours).

A target is a factory called as ``target(params, lr=α, b1=β1, b2=β2, eps=ε)`` (plus
``weight_decay=λ`` when it takes it; ``AdamW``'s default λ = 0.01 is overridden)
returning a ``tinygrad.nn.optim.Optimizer``. One session is::

    params = [Tensor(p, device=DEVICE) for p in arrays]   # tinygrad Tensors are params
    optimizer = target(params, lr=..., ...)
    p.grad = Tensor(g, device=DEVICE)                     # for every parameter
    with Context(TRAINING=1):                             # tinygrad refuses to step otherwise
        optimizer.step()                                  # realizes the new values

tinygrad's ``Optimizer.step`` reads every parameter's ``.grad`` (a missing one raises),
so the adapter does not declare ``"skip"``; its step counter (the running products
``b1_t``, ``b2_t``) is one per optimizer. Checkpoints are
``tinygrad.nn.state.get_state_dict(optimizer)`` copied to NumPy and loaded back with
``load_state_dict``.

Device: tinygrad's default (``DEV`` environment variable, else the first that works) or
``tinygrad_device=``. tinygrad's ``CPU`` device compiles its kernels with ``clang``
(also for ``CPU:LLVM``); when no device is usable the adapter uses ``PYTHON``, tinygrad's
reference interpreter (slow, but the same kernels and dtypes), and names it in the
implementation's name.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...dtypes import bfloat16_dtype
from ..protocol import (
    Hyper,
    InputMutated,
    TargetError,
    import_framework,
    unsupported_dtype,
)

KIND = "tinygrad"

#: tinygrad's own factories and the variant their source follows: ε outside √v̂ with bias
#: correction by running products b^t (one per optimizer); AdamW adds λθ to the update
#: before scaling by α (decoupled decay, θ_{t-1} used).
BUILTIN_CLAIMS: dict[str, dict[str, Any]] = {
    "Adam": dict(eps_placement="paper", bias_correction=True, amsgrad=None, step_scope="optimizer"),
    "AdamW": dict(
        eps_placement="paper",
        bias_correction=True,
        amsgrad=None,
        decay="decoupled",
        step_scope="optimizer",
    ),
}

_DTYPES = ("float16", "bfloat16", "float32", "float64")


def _import_tinygrad() -> Any:
    (tinygrad,) = import_framework("tinygrad", "tinygrad", "pip install tinygrad", "tinygrad")
    return tinygrad


def choose_device(requested: str | None = None) -> str:
    """``requested``, else tinygrad's default device, else ``"PYTHON"`` when none is usable
    (e.g. the CPU device without ``clang``)."""
    tinygrad = _import_tinygrad()
    if requested is not None:
        return requested
    try:
        return str(tinygrad.Device.DEFAULT)
    except RuntimeError:
        return "PYTHON"


def accepts(obj: Any) -> bool:
    """A factory from ``tinygrad.nn.optim`` or a subclass of its ``Optimizer`` (only checked
    when tinygrad is already imported)."""
    optim = sys.modules.get("tinygrad.nn.optim")
    if optim is None:
        return False
    if isinstance(obj, type):
        return issubclass(obj, optim.Optimizer)
    return callable(obj) and getattr(obj, "__module__", "") == "tinygrad.nn.optim"


def _tg_dtype(tinygrad: Any, dtype: np.dtype) -> Any:
    names = {"float16": "half", "float32": "float", "float64": "double"}
    if dtype == bfloat16_dtype():
        return tinygrad.dtypes.bfloat16
    return getattr(tinygrad.dtypes, names[dtype.name])


def _to_tensor(tinygrad: Any, arr: np.ndarray, dtype: np.dtype, device: str) -> Any:
    """A tensor on ``device`` holding a copy of ``arr``.

    tinygrad turns a 0-d array into a device-less constant whose read-back is compiled for
    the ``CPU`` device whatever the default is; a 0-d value is therefore made from a
    1-element buffer on ``device``, reshaped to ``()`` and realized there."""
    source = np.asarray(arr, dtype=np.float32 if dtype == bfloat16_dtype() else dtype)
    tensor = tinygrad.Tensor(np.array(source.reshape(-1), copy=True), device=device)
    if dtype == bfloat16_dtype():
        tensor = tensor.cast(tinygrad.dtypes.bfloat16)
    if source.ndim == 0:
        return tensor.reshape(()).contiguous().realize()
    return tensor.reshape(source.shape)


def _to_numpy(tinygrad: Any, tensor: Any, dtype: np.dtype) -> np.ndarray:
    if tensor.dtype == tinygrad.dtypes.bfloat16:
        return np.array(tensor.cast(tinygrad.dtypes.float32).numpy(), copy=True).astype(dtype)
    return np.array(tensor.numpy(), copy=True)


class TinygradSession:
    """One tinygrad optimizer over Tensors on the implementation's device."""

    def __init__(
        self, impl: TinygradImplementation, hyper: Hyper, params: list[np.ndarray], dtype: np.dtype
    ) -> None:
        tg = impl.tinygrad
        self._impl = impl
        self._dtype = dtype
        with impl.on_device():
            self._params = [_to_tensor(tg, p, dtype, impl.device) for p in params]
            for i, p in enumerate(self._params):
                if p.dtype != _tg_dtype(tg, dtype):
                    raise TypeError(
                        f"params[{i}]: tinygrad made a {p.dtype} tensor from {dtype.name}"
                    )
            self.optimizer = impl.optimizer(self._params, hyper)

    def step(self, grads: Sequence[np.ndarray | None]) -> None:
        if len(grads) != len(self._params):
            raise ValueError(f"got {len(grads)} gradients for {len(self._params)} parameters")
        arrays = [g for g in grads if g is not None]
        if len(arrays) != len(grads):
            raise ValueError(
                "tinygrad's Optimizer.step needs every .grad: every gradient must be an "
                "array (this adapter does not declare the 'skip' feature)"
            )
        tg = self._impl.tinygrad
        with self._impl.on_device():
            given = []
            for p, g in zip(self._params, arrays, strict=True):
                p.grad = _to_tensor(tg, g, self._dtype, self._impl.device)
                given.append(_to_numpy(tg, p.grad, self._dtype))
            with tg.helpers.Context(TRAINING=1):
                self.optimizer.step()
            for i, (p, g) in enumerate(zip(self._params, given, strict=True)):
                after = _to_numpy(tg, p.grad, self._dtype)
                if not np.array_equal(after, g, equal_nan=True):
                    raise InputMutated(f"optimizer.step() modified params[{i}].grad in place")

    def params(self) -> list[np.ndarray]:
        with self._impl.on_device():
            return [_to_numpy(self._impl.tinygrad, p, self._dtype) for p in self._params]

    def save(self) -> Any:
        with self._impl.on_device():
            return self._save()

    def _save(self) -> Any:
        tg = self._impl.tinygrad
        state = tg.nn.state.get_state_dict(self.optimizer)
        return {
            key: (_to_numpy(tg, t, np.dtype(np.float32)), str(t.dtype))
            if t.dtype == tg.dtypes.bfloat16
            else (np.array(t.numpy(), copy=True), None)
            for key, t in state.items()
        }

    def restore(self, blob: Any) -> None:
        with self._impl.on_device():
            self._restore(blob)

    def _restore(self, blob: Any) -> None:
        tg = self._impl.tinygrad
        state = {}
        for key, (value, bf16) in blob.items():
            tensor = tg.Tensor(np.array(value, copy=True), device=self._impl.device)
            state[key] = tensor.cast(tg.dtypes.bfloat16) if bf16 else tensor
        tg.nn.state.load_state_dict(self.optimizer, state, verbose=False)


class TinygradImplementation:
    """A tinygrad optimizer factory as an :class:`~..protocol.Implementation`."""

    def __init__(
        self,
        factory: Any,
        name: str,
        claims: dict[str, Any],
        *,
        device: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.tinygrad = _import_tinygrad()
        importlib.import_module("tinygrad.nn.state")
        self.factory = factory
        self.device = choose_device(device)
        self.name = f"{name} ({self.device} device)"
        self.claims = dict(claims)
        self.extra = dict(extra or {})
        try:
            names = set(inspect.signature(factory).parameters)
        except (TypeError, ValueError):
            names = set()
        missing = {"lr", "b1", "b2", "eps"} - names
        if names and missing:
            raise TargetError(
                f"tinygrad target {name} does not take {sorted(missing)}; expected "
                "factory(params, lr=, b1=, b2=, eps=)"
            )
        self.takes_decay = "weight_decay" in names
        features = {*_DTYPES, "checkpoint"}
        if self.takes_decay:
            features.add("weight_decay")
        self.features = frozenset(features)

    def on_device(self) -> Any:
        """A context in which tinygrad's default device is this implementation's
        (tensors tinygrad makes without a device, e.g. constants, go there too)."""
        return self.tinygrad.helpers.Context(DEV=self.device)

    def optimizer(self, params: list[Any], hyper: Hyper) -> Any:
        """A new optimizer over ``params`` for ``hyper``."""
        kwargs: dict[str, Any] = dict(
            lr=hyper.lr, b1=hyper.beta1, b2=hyper.beta2, eps=hyper.eps, **self.extra
        )
        if self.takes_decay:
            kwargs["weight_decay"] = hyper.weight_decay
        elif hyper.weight_decay != 0:
            raise ValueError(
                f"{self.name} takes no weight_decay; got "
                f"weight_decay={hyper.weight_decay!r} (allowed: 0.0)"
            )
        opt = self.factory(params, **kwargs)
        if not callable(getattr(opt, "step", None)):
            raise TargetError(
                f"{self.name}(...) returned a {type(opt).__name__}, not a tinygrad optimizer"
            )
        return opt

    def create(self, hyper: Hyper, params: list[np.ndarray], dtype: np.dtype) -> TinygradSession:
        dtype = np.dtype(dtype)
        if dtype.name not in self.features:
            raise unsupported_dtype(self.name, dtype, list(_DTYPES))
        return TinygradSession(self, hyper, params, dtype)


def make_implementation(
    target: Any = None,
    *,
    optimizer: str = "Adam",
    tinygrad_device: str | None = None,
    claims: dict[str, Any] | None = None,
    **optimizer_kwargs: Any,
) -> TinygradImplementation:
    """The tinygrad adapter.

    Args:
      target: ``None`` for tinygrad's own ``optimizer`` (``"Adam"`` or ``"AdamW"``), or the
        user's factory/class.
      tinygrad_device: e.g. ``"CPU"``, ``"PYTHON"`` (default: see the module docstring).
      claims: the variant the target says it follows (defaults: the one its source follows).
      optimizer_kwargs: passed on every construction.
    """
    tinygrad = _import_tinygrad()
    optim = importlib.import_module("tinygrad.nn.optim")
    for own in BUILTIN_CLAIMS:
        if target is not None and target is getattr(optim, own, None):
            target, optimizer = None, own
    if target is None:
        if optimizer not in BUILTIN_CLAIMS:
            raise TargetError(f"optimizer={optimizer!r} is not one of {tuple(BUILTIN_CLAIMS)}")
        version = getattr(tinygrad, "__version__", "")
        return TinygradImplementation(
            getattr(optim, optimizer),
            f"tinygrad.nn.optim.{optimizer} {version}".strip(),
            claims
            if claims is not None
            else ({} if optimizer_kwargs else BUILTIN_CLAIMS[optimizer]),
            device=tinygrad_device,
            extra=optimizer_kwargs,
        )
    if not callable(target):
        raise TargetError(f"tinygrad target {target!r} is not a class or factory")
    name = f"{getattr(target, '__module__', '?')}:{getattr(target, '__qualname__', target)!s}"
    return TinygradImplementation(
        target, name, claims or {}, device=tinygrad_device, extra=optimizer_kwargs
    )
