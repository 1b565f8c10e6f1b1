r"""Adapter for MLX optimizers (``mlx.optimizers.Adam``, ``AdamW``, your subclass).

A target is a class called as ``target(learning_rate=α, betas=[β1, β2], eps=ε)`` (plus
``weight_decay=λ`` when its constructor takes it), with MLX's own defaults for everything
else: ``mlx.optimizers.Adam`` and ``AdamW`` default to ``bias_correction=False``, so the
built-in ``mlx`` target checks the uncorrected update θ -= α·m/(√v + ε) unless
``--option bias_correction=True`` is given. One session is::

    optimizer.init(params)                               # a dict {"p0": array, ...}
    params = optimizer.apply_gradients(grads, params)    # grads: the keys with a gradient
    mx.eval(params, optimizer.state)                     # MLX is lazy

A ``None`` gradient leaves its key out of the gradient dict: MLX then neither updates
that parameter nor its moments, but its step counter (``state["step"]``) is one per
optimizer and advances anyway. Checkpoints are ``optimizer.state`` flattened with
``mlx.utils.tree_flatten`` and copied to NumPy, restored with ``tree_unflatten`` (the
same tree MLX's ``mx.save_safetensors`` writes). All four dtypes run on the CPU stream;
MLX's GPU (Metal) backend has no float64.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...dtypes import bfloat16_dtype
from ..protocol import Hyper, TargetError, import_framework, unsupported_dtype

KIND = "mlx"

#: MLX's own classes and the variant their defaults follow (bias_correction=False,
#: one step counter per optimizer; AdamW decays θ(1 - αλ) before the step).
BUILTIN_CLAIMS: dict[str, dict[str, Any]] = {
    "Adam": dict(bias_correction=False, amsgrad=None, step_scope="optimizer"),
    "AdamW": dict(bias_correction=False, amsgrad=None, decay="decoupled", step_scope="optimizer"),
}

_DTYPES = ("float16", "bfloat16", "float32", "float64")


def _import_mlx() -> tuple[Any, Any, Any]:
    mx, optim, utils = import_framework(
        "mlx",
        "MLX",
        "pip install mlx (Linux without Apple silicon: pip install 'mlx[cpu]')",
        "mlx.core",
        "mlx.optimizers",
        "mlx.utils",
    )
    return mx, optim, utils


def accepts(obj: Any) -> bool:
    """A subclass of ``mlx.optimizers.Optimizer`` (only checked when MLX is imported)."""
    optim = sys.modules.get("mlx.optimizers")
    if optim is None or not isinstance(obj, type):
        return False
    return issubclass(obj, optim.Optimizer)


def _mx_dtype(mx: Any, dtype: np.dtype) -> Any:
    return getattr(mx, "bfloat16" if dtype == bfloat16_dtype() else dtype.name)


def _to_mx(mx: Any, arr: np.ndarray, dtype: np.dtype) -> Any:
    """An MLX array of ``dtype`` (bfloat16 through float32, which holds it exactly; the
    dtype is explicit because ``mx.array`` makes float32 from a float64 NumPy array)."""
    if dtype == bfloat16_dtype():
        return mx.array(np.asarray(arr, dtype=np.float32)).astype(mx.bfloat16)
    return mx.array(np.array(arr, dtype=dtype, copy=True), dtype=_mx_dtype(mx, dtype))


def _to_numpy(mx: Any, arr: Any, dtype: np.dtype) -> np.ndarray:
    if arr.dtype == mx.bfloat16:
        return np.array(arr.astype(mx.float32), copy=True).astype(dtype)
    return np.array(arr, copy=True)


class MlxSession:
    """One MLX optimizer over a dict of parameter arrays ``{"p0": ..., "p1": ...}``."""

    def __init__(
        self, impl: MlxImplementation, hyper: Hyper, params: list[np.ndarray], dtype: np.dtype
    ) -> None:
        self._impl = impl
        self._dtype = dtype
        mx = impl.mx
        self._keys = [f"p{i}" for i in range(len(params))]
        with mx.stream(mx.cpu):
            self._params = {k: _to_mx(mx, p, dtype) for k, p in zip(self._keys, params)}
            for k, p in self._params.items():
                if p.dtype != _mx_dtype(mx, dtype):
                    raise TypeError(f"{k}: MLX made a {p.dtype} array from {dtype.name}")
            self.optimizer = impl.optimizer(hyper)
            self.optimizer.init(self._params)
            mx.eval(self._params, self.optimizer.state)

    def step(self, grads: Sequence[np.ndarray | None]) -> None:
        if len(grads) != len(self._keys):
            raise ValueError(f"got {len(grads)} gradients for {len(self._keys)} parameters")
        mx = self._impl.mx
        with mx.stream(mx.cpu):
            given = {
                k: _to_mx(mx, g, self._dtype)
                for k, g in zip(self._keys, grads, strict=True)
                if g is not None
            }
            updated = self.optimizer.apply_gradients(given, self._params)
            self._params = {**self._params, **updated}
            mx.eval(self._params, self.optimizer.state)

    def params(self) -> list[np.ndarray]:
        mx = self._impl.mx
        return [_to_numpy(mx, self._params[k], self._dtype) for k in self._keys]

    def save(self) -> Any:
        mx, utils = self._impl.mx, self._impl.utils
        flat = utils.tree_flatten(self.optimizer.state)
        state = [
            (
                key,
                np.array(value.astype(mx.float32))
                if value.dtype == mx.bfloat16
                else np.array(value),
                str(value.dtype),
            )
            for key, value in flat
        ]
        return {"params": self.params(), "state": state}

    def restore(self, blob: Any) -> None:
        mx, utils = self._impl.mx, self._impl.utils
        with mx.stream(mx.cpu):
            self._params = {
                k: _to_mx(mx, p, self._dtype) for k, p in zip(self._keys, blob["params"])
            }
            flat = [
                (key, mx.array(np.array(value, copy=True), dtype=getattr(mx, name.split(".")[-1])))
                for key, value, name in blob["state"]
            ]
            self.optimizer.state = utils.tree_unflatten(flat)
            mx.eval(self._params, self.optimizer.state)


class MlxImplementation:
    """An MLX optimizer class as an :class:`~..protocol.Implementation`."""

    def __init__(
        self, factory: Any, name: str, claims: dict[str, Any], extra: dict[str, Any]
    ) -> None:
        self.mx, self.optim, self.utils = _import_mlx()
        self.factory = factory
        self.name = name
        self.claims = dict(claims)
        self.extra = dict(extra)
        try:
            names = set(inspect.signature(factory).parameters)
        except (TypeError, ValueError):
            names = set()
        missing = {"learning_rate", "betas", "eps"} - names
        if names and missing:
            raise TargetError(
                f"mlx target {name} does not take {sorted(missing)}; expected "
                "cls(learning_rate=, betas=[b1, b2], eps=)"
            )
        self.takes_decay = "weight_decay" in names
        features = {*_DTYPES, "skip", "checkpoint"}
        if self.takes_decay:
            features.add("weight_decay")
        self.features = frozenset(features)

    def optimizer(self, hyper: Hyper) -> Any:
        """A new optimizer for ``hyper`` (λ only where the class takes it; AdamW's default
        λ = 0.01 is overridden by λ = 0)."""
        kwargs: dict[str, Any] = dict(
            learning_rate=hyper.lr, betas=[hyper.beta1, hyper.beta2], eps=hyper.eps, **self.extra
        )
        if self.takes_decay:
            kwargs["weight_decay"] = hyper.weight_decay
        elif hyper.weight_decay != 0:
            raise ValueError(
                f"{self.name} takes no weight_decay; got "
                f"weight_decay={hyper.weight_decay!r} (allowed: 0.0)"
            )
        opt = self.factory(**kwargs)
        if not callable(getattr(opt, "apply_gradients", None)):
            raise TargetError(
                f"{self.name}(...) returned a {type(opt).__name__}, not an MLX optimizer "
                "(an object with apply_gradients(gradients, parameters))"
            )
        return opt

    def create(self, hyper: Hyper, params: list[np.ndarray], dtype: np.dtype) -> MlxSession:
        dtype = np.dtype(dtype)
        if dtype.name not in self.features:
            raise unsupported_dtype(self.name, dtype, list(_DTYPES))
        return MlxSession(self, hyper, params, dtype)


def make_implementation(
    target: Any = None,
    *,
    optimizer: str = "Adam",
    claims: dict[str, Any] | None = None,
    **optimizer_kwargs: Any,
) -> MlxImplementation:
    """The MLX adapter.

    Args:
      target: ``None`` for MLX's own ``optimizer`` (``"Adam"`` or ``"AdamW"``), or the
        user's ``mlx.optimizers.Optimizer`` subclass.
      claims: the variant the target says it follows (defaults: what MLX's defaults do).
      optimizer_kwargs: passed on every construction (e.g. ``bias_correction=True``).
    """
    mx, optim, _ = _import_mlx()
    for own in BUILTIN_CLAIMS:  # MLX's own class given as module.path:attr
        if target is not None and target is getattr(optim, own, None):
            target, optimizer = None, own
    if target is None:
        if optimizer not in BUILTIN_CLAIMS:
            raise TargetError(f"optimizer={optimizer!r} is not one of {tuple(BUILTIN_CLAIMS)}")
        known = dict(BUILTIN_CLAIMS[optimizer])
        if set(optimizer_kwargs) == {"bias_correction"}:
            known["bias_correction"] = bool(optimizer_kwargs["bias_correction"])
        elif optimizer_kwargs:
            known = {}
        name = f"mlx.optimizers.{optimizer} {mx.__version__}"
        return MlxImplementation(
            getattr(optim, optimizer),
            name,
            claims if claims is not None else known,
            optimizer_kwargs,
        )
    if not isinstance(target, type) and not callable(target):
        raise TargetError(f"mlx target {target!r} is not a class or factory")
    name = f"{getattr(target, '__module__', '?')}:{getattr(target, '__qualname__', target)!s}"
    return MlxImplementation(target, name, claims or {}, optimizer_kwargs)
