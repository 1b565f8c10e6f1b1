"""Turn a TARGET (a built-in name or ``module.path:attr``) into an
:class:`~adamproofs.conformance.protocol.Implementation`.

Built-ins: ``numpy`` (this project's :class:`adamproofs.fast.Optimizer`, the
default), ``torch``, ``torch-foreach``, ``torch-fused`` (``torch.optim.Adam`` with
``foreach=False``, ``foreach=True``, ``fused=True``), ``optax``, ``keras``.

``module.path:attr`` is imported from the current directory or ``PYTHONPATH``; the
adapter is chosen by what ``attr`` is: an :class:`Implementation` object, a
``torch.optim.Optimizer`` subclass, an optax factory, a Keras optimizer class, or
a plain-protocol class/factory (see :mod:`.protocol`). ``kind`` forces an adapter.
Every failure raises :class:`~.protocol.TargetError` (the CLI's exit status 2).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from typing import Any

from .adapters import ADAPTERS, adapter
from .protocol import Implementation, TargetError

BUILTINS: tuple[str, ...] = ("numpy", "torch", "torch-foreach", "torch-fused", "optax", "keras")
KINDS: tuple[str, ...] = ("torch", "optax", "keras", "plain")


def _import_attr(spec: str) -> Any:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise TargetError(f"target {spec!r} is neither a built-in ({', '.join(BUILTINS)}) "
                          "nor of the form module.path:attr")
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise TargetError(f"cannot import module {module_name!r} for target {spec!r}: {err} "
                          "(it must be importable from the current directory or PYTHONPATH)"
                          ) from err
    except Exception as err:
        raise TargetError(f"importing {module_name!r} raised {type(err).__name__}: {err}"
                          ) from err
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as err:
            raise TargetError(f"module {module_name!r} has no attribute {attr!r}") from err
    return obj


def detect_kind(obj: Any) -> str:
    """The adapter kind for a user object (``torch``, ``optax``, ``keras``, ``plain``)."""
    if isinstance(obj, Implementation):
        return "plain"
    for kind in ("torch", "keras", "optax", "plain"):
        try:
            module = adapter(kind)
        except TargetError:
            continue
        try:
            if module.accepts(obj):
                return kind
        except Exception:  # a buggy accepts() must not hide the other adapters
            continue
    raise TargetError(f"cannot tell what kind of optimizer {obj!r} is; pass --kind "
                      f"{'|'.join(KINDS)} (a plain class needs the signature "
                      "(params, *, lr, beta1, beta2, eps, weight_decay))")


def load_target(target: Any = "numpy", *, kind: str | None = None, device: str = "cpu",
                **options: Any) -> Implementation:
    """An :class:`Implementation` for ``target`` (see the module docstring)."""
    if kind is not None and kind not in KINDS:
        raise TargetError(f"--kind={kind!r} is not one of {', '.join(KINDS)}")
    if not isinstance(target, str):
        if isinstance(target, Implementation):
            return target
        chosen = kind or detect_kind(target)
        return adapter(chosen).make_implementation(target, **options)
    if target in BUILTINS:
        if kind is not None:
            raise TargetError(f"--kind does not apply to the built-in target {target!r}")
        if target == "numpy":
            return adapter_module("numpy").make_implementation(**options)
        if target.startswith("torch"):
            return adapter("torch").make_implementation(path=target, device=device, **options)
        return adapter(target).make_implementation(**options)
    obj = _import_attr(target)
    if isinstance(obj, Implementation):
        return obj
    chosen = kind or detect_kind(obj)
    extra = {"device": device} if chosen == "torch" else {}
    try:
        impl = adapter(chosen).make_implementation(obj, **extra, **options)
    except TargetError:
        raise
    except Exception as err:
        raise TargetError(f"the {chosen} adapter cannot use {target!r}: "
                          f"{type(err).__name__}: {err}") from err
    with contextlib.suppress(AttributeError):  # a read-only name: keep the adapter's
        impl.name = target
    return impl


def adapter_module(name: str) -> Any:
    """Adapter modules that are not user-selectable kinds (``numpy``)."""
    if name in ADAPTERS:
        return adapter(name)
    return importlib.import_module(f"adamproofs.conformance.adapters.{name}")
