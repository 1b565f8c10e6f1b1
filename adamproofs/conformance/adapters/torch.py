"""Adapter for PyTorch optimizers: ``torch.optim.Adam`` (three CPU/GPU code paths) or a user's
``torch.optim.Optimizer`` subclass constructed as ``cls(params, lr=, betas=(b1, b2), eps=,
weight_decay=)`` (plus ``maximize=`` when its constructor accepts it).

Parameters are ``torch.nn.Parameter`` tensors of the dtype under test; gradients
are assigned to ``.grad`` (``None`` skips the parameter, PyTorch's own semantics);
saving is ``torch.save(optimizer.state_dict())`` into a buffer and loading it back
into a fresh optimizer with ``load_state_dict``. PyTorch is imported only when
this adapter is used.
"""

from __future__ import annotations

import inspect
import io
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...dtypes import bfloat16_dtype
from ..protocol import Hyper, InputMutated, TargetError, import_framework

KIND = "torch"

#: built-in target name -> torch.optim.Adam keyword arguments
PATHS: dict[str, dict[str, Any]] = {
    "torch": {"foreach": False},
    "torch-foreach": {"foreach": True},
    "torch-fused": {"fused": True},
}


def _torch() -> Any:
    (torch,) = import_framework("torch", "PyTorch", "pip install torch", "torch")
    return torch


def accepts(obj: Any) -> bool:
    """A ``torch.optim.Optimizer`` subclass (only checked when torch is already imported)."""
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(obj, type):
        return False
    return issubclass(obj, torch.optim.Optimizer)


def _to_tensor(torch: Any, arr: np.ndarray, dtype: np.dtype, device: str) -> Any:
    if np.dtype(dtype) == bfloat16_dtype():
        return torch.tensor(np.asarray(arr, dtype=np.float32), device=device).to(torch.bfloat16)
    return torch.tensor(np.array(arr, copy=True), device=device)


def _to_numpy(tensor: Any, dtype: np.dtype) -> np.ndarray:
    t = tensor.detach().cpu()
    if np.dtype(dtype) == bfloat16_dtype():
        return t.float().numpy().astype(dtype)
    return t.numpy().copy()


class TorchSession:
    """One optimizer over ``torch.nn.Parameter`` copies of the arrays."""

    def __init__(
        self,
        impl: TorchImplementation,
        groups: list[tuple[Hyper, list[np.ndarray]]],
        dtype: np.dtype,
    ) -> None:
        torch = _torch()
        self._torch = torch
        self._dtype = np.dtype(dtype)
        self._device = impl.device
        self._params: list[Any] = []
        torch_groups = []
        for hyper, params in groups:
            tensors = [torch.nn.Parameter(_to_tensor(torch, p, dtype, impl.device)) for p in params]
            self._params.extend(tensors)
            torch_groups.append({"params": tensors, **impl.kwargs(hyper)})
        first = groups[0][0]
        if len(torch_groups) == 1:
            self.optimizer = impl.factory(self._params, **impl.kwargs(first))
        else:
            self.optimizer = impl.factory(torch_groups, **impl.kwargs(first))

    def step(self, grads: Sequence[np.ndarray | None]) -> None:
        if len(grads) != len(self._params):
            raise ValueError(f"got {len(grads)} gradients for {len(self._params)} parameters")
        given: list[Any] = []  # torch tensors, or None
        for p, g in zip(self._params, grads, strict=True):
            if g is None:
                p.grad = None
                given.append(None)
            else:
                p.grad = _to_tensor(self._torch, g, self._dtype, self._device)
                given.append(p.grad.detach().clone())
        self.optimizer.step()
        for i, (p, g) in enumerate(zip(self._params, given, strict=True)):
            if g is None:
                continue
            if p.grad is None or not self._torch.equal(p.grad.detach(), g):
                if (
                    p.grad is not None
                    and self._torch.isnan(g).any()
                    and self._torch.equal(self._torch.isnan(p.grad), self._torch.isnan(g))
                ):
                    same = self._torch.equal(p.grad.nan_to_num(0.0), g.nan_to_num(0.0))
                    if same:
                        continue
                raise InputMutated(f"optimizer.step() modified params[{i}].grad in place")

    def params(self) -> list[np.ndarray]:
        return [_to_numpy(p, self._dtype) for p in self._params]

    def moments(self) -> list[dict[str, np.ndarray] | None]:
        """m and v of each parameter from ``optimizer.state`` (``exp_avg``/``exp_avg_sq``,
        or ``m``/``v``), None where the state has neither."""
        out: list[dict[str, np.ndarray] | None] = []
        for p in self._params:
            state = self.optimizer.state.get(p, {})
            found = {}
            for name, keys in (("m", ("exp_avg", "m")), ("v", ("exp_avg_sq", "v"))):
                for key in keys:
                    value = state.get(key)
                    if value is not None and hasattr(value, "detach"):
                        found[name] = value.detach().cpu().double().numpy().copy()
                        break
            out.append(found or None)
        return out

    def save(self) -> Any:
        buffer = io.BytesIO()
        self._torch.save(
            {
                "params": [p.detach().clone() for p in self._params],
                "optimizer": self.optimizer.state_dict(),
            },
            buffer,
        )
        return buffer.getvalue()

    def restore(self, blob: Any) -> None:
        saved = self._torch.load(io.BytesIO(blob), weights_only=False)
        with self._torch.no_grad():
            for p, value in zip(self._params, saved["params"], strict=True):
                p.copy_(value)
        self.optimizer.load_state_dict(saved["optimizer"])


class TorchImplementation:
    """A torch optimizer class (or factory) behind the conformance protocol."""

    def __init__(
        self,
        factory: Callable[..., Any],
        name: str,
        *,
        device: str = "cpu",
        extra: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
    ) -> None:
        torch = _torch()
        if device != "cpu" and not (device.startswith("cuda") and torch.cuda.is_available()):
            raise TargetError(
                f"--device={device!r} is not available; allowed: 'cpu'"
                + (", 'cuda'" if torch.cuda.is_available() else "")
            )
        self.factory = factory
        self.name = name
        self.device = device
        self.extra = dict(extra or {})
        try:
            sig_params: set[str] = set(inspect.signature(factory).parameters)
        except (TypeError, ValueError):
            sig_params = set()
        self.accepts_maximize = "maximize" in sig_params
        features = {
            "float16",
            "bfloat16",
            "float32",
            "float64",
            "weight_decay",
            "skip",
            "groups",
            "checkpoint",
        }
        if self.accepts_maximize:
            features.add("maximize")
        self.features = frozenset(features)
        self.claims = dict(claims or {})

    def kwargs(self, hyper: Hyper) -> dict[str, Any]:
        kw: dict[str, Any] = {
            "lr": hyper.lr,
            "betas": (hyper.beta1, hyper.beta2),
            "eps": hyper.eps,
            "weight_decay": hyper.weight_decay,
        }
        if self.accepts_maximize and hyper.maximize:
            kw["maximize"] = True
        kw.update(self.extra)
        return kw

    def create(self, hyper: Hyper, params: list[np.ndarray], dtype: np.dtype) -> TorchSession:
        return TorchSession(self, [(hyper, params)], dtype)

    def create_groups(
        self, groups: list[tuple[Hyper, list[np.ndarray]]], dtype: np.dtype
    ) -> TorchSession:
        return TorchSession(self, list(groups), dtype)


def make_implementation(
    target: Any = None, *, path: str = "torch", device: str = "cpu", **options: Any
) -> TorchImplementation:
    """``torch.optim.Adam`` on code path ``path`` (``torch``, ``torch-foreach``,
    ``torch-fused``) when ``target`` is None, else the user's optimizer class or factory.
    Other ``options`` (e.g. ``amsgrad=True``) are passed to the constructor."""
    torch = _torch()
    if target is None:
        if path not in PATHS:
            raise TargetError(f"torch path {path!r} is not one of {tuple(PATHS)}")
        claims = {
            "eps_placement": "paper",
            "bias_correction": True,
            "amsgrad": "max_raw" if options.get("amsgrad") else None,
            "decay": "decoupled" if options.get("decoupled_weight_decay") else "l2",
            "step_scope": "param",
        }
        return TorchImplementation(
            torch.optim.Adam, path, device=device, extra={**PATHS[path], **options}, claims=claims
        )
    if not callable(target):
        raise TargetError(f"torch target {target!r} is not a class or factory")
    name = f"{getattr(target, '__module__', '?')}:{getattr(target, '__qualname__', target)}"
    return TorchImplementation(target, name, device=device, extra=options)
