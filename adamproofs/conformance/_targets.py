"""Turn a TARGET (a built-in name or ``module.path:attr``) into an
:class:`~adamproofs.conformance.protocol.Implementation`.

Built-ins: ``numpy`` (this project's :class:`adamproofs.fast.Optimizer`, the
default), ``torch``, ``torch-foreach``, ``torch-fused`` (``torch.optim.Adam`` with
``foreach=False``, ``foreach=True``, ``fused=True``), ``optax``, ``keras``, ``mlx``
(``mlx.optimizers.Adam``), ``tinygrad`` (``tinygrad.nn.optim.Adam``), ``tensorflow``
(``tf.compat.v1.train.AdamOptimizer``); ``--option optimizer=...`` picks another of the
framework's own classes (e.g. ``AdamW``).

``module.path:attr`` is imported from the current directory or ``PYTHONPATH``; the
adapter is chosen by what ``attr`` is: an :class:`Implementation` object, a
``torch.optim.Optimizer`` subclass, a TensorFlow/tf-keras class, an optax factory, a
Keras optimizer class, an MLX or tinygrad optimizer, a functional optimizer (see
:mod:`.adapters.functional`), or a plain-protocol class/factory (see :mod:`.protocol`);
else a function is called once with small arguments and chosen by what it returns (a torch
optimizer, a Keras optimizer, an optax ``GradientTransformation``). ``kind`` forces an
adapter.

Keras picks its backend once, when first imported. Before importing a module
``keras`` or ``keras.*`` (e.g. ``keras.optimizers:AdamW``), or any module when
``kind="keras"``, Keras is imported with the backend the built-in ``keras``
target uses: the ``backend`` option if given, else ``KERAS_BACKEND`` if set, else
jax when installed, else torch. Any other module that imports Keras itself does so
with Keras's own default (``KERAS_BACKEND``, else ``~/.keras/keras.json``,
usually tensorflow); set ``KERAS_BACKEND`` or pass ``kind="keras"`` for it.
Every failure raises :class:`~.protocol.TargetError` (the CLI's exit status 2); a bad
option raises :class:`~.protocol.UsageError` (also exit status 2).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import sys
from types import ModuleType
from typing import Any

from ._options import numpy_options, refuse_inapplicable, refuse_reserved
from .adapters import ADAPTERS, adapter
from .protocol import Implementation, TargetError, UsageError

BUILTINS: tuple[str, ...] = (
    "numpy",
    "torch",
    "torch-foreach",
    "torch-fused",
    "optax",
    "keras",
    "mlx",
    "tinygrad",
    "tensorflow",
)
KINDS: tuple[str, ...] = (
    "torch",
    "optax",
    "keras",
    "mlx",
    "tinygrad",
    "tensorflow",
    "functional",
    "plain",
)


def _uses_keras(module_name: str, kind: str | None) -> bool:
    """Whether importing ``module_name`` for a ``kind`` target needs Keras's backend chosen."""
    return kind == "keras" or module_name == "keras" or module_name.startswith("keras.")


def _import_error_hint(err: ImportError) -> str:
    """What to do about ``err``; a missing TensorFlow is most likely Keras's default backend."""
    if err.name == "tensorflow" and not os.environ.get("KERAS_BACKEND"):
        return (
            "if the module imports Keras, whose default backend is tensorflow, set "
            "KERAS_BACKEND=jax (or torch) or pass --kind keras"
        )
    return "it must be importable from the current directory or PYTHONPATH"


def _import_attr(spec: str, *, kind: str | None = None, backend: str | None = None) -> Any:
    """``module.path:attr`` imported; Keras first (with ``backend``) when it will be used."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise TargetError(
            f"target {spec!r} is neither a built-in ({', '.join(BUILTINS)}) "
            "nor of the form module.path:attr"
        )
    if _uses_keras(module_name, kind):
        adapter("keras").import_keras(backend)
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise TargetError(
            f"cannot import module {module_name!r} for target {spec!r}: {err} "
            f"({_import_error_hint(err)})"
        ) from err
    except Exception as err:
        raise TargetError(f"importing {module_name!r} raised {type(err).__name__}: {err}") from err
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as err:
            raise TargetError(f"module {module_name!r} has no attribute {attr!r}") from err
    return obj


def detect_kind(obj: Any) -> str:
    """The adapter kind for a user object (one of :data:`KINDS`; the first that accepts it)."""
    if isinstance(obj, Implementation):
        return "plain"
    for kind in ("torch", "tensorflow", "keras", "optax", "mlx", "tinygrad", "functional", "plain"):
        try:
            module = adapter(kind)
        except TargetError:
            continue
        try:
            if module.accepts(obj):
                return kind
        except Exception:  # a buggy accepts() must not hide the other adapters
            continue
    made = kind_of_product(obj)
    if made is not None:
        return made
    raise TargetError(
        f"cannot tell what kind of optimizer {obj!r} is; pass --kind "
        f"{'|'.join(KINDS)} (a plain class needs the signature "
        "(params, *, lr, beta1, beta2, eps, weight_decay))"
    )


def _parameters(obj: Any) -> dict[str, inspect.Parameter] | None:
    try:
        return dict(inspect.signature(obj).parameters)
    except (TypeError, ValueError):
        return None


def kind_of_product(obj: Any) -> str | None:
    """The kind of what the function ``obj`` returns, found by calling it once with small
    arguments: a torch optimizer (``obj(params, lr=...)``), a Keras optimizer or an optax
    ``GradientTransformation`` (``obj(learning_rate=...)`` or ``obj()``); None when it
    returns none of these or raises. Runs where the target is loaded (the worker, under
    its deadline)."""
    if isinstance(obj, type) or not callable(obj):
        return None
    params = _parameters(obj)
    if params is None:
        return None
    positional = [
        p
        for p in params.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    if len(positional) == 1 and "lr" in params:
        with contextlib.suppress(Exception):  # a factory that is not torch's: try the others
            torch = importlib.import_module("torch")
            made = obj([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
            if isinstance(made, torch.optim.Optimizer):
                return "torch"
    if positional:
        return None
    keywords = {"learning_rate": 1e-3} if "learning_rate" in params else {}
    try:
        made = obj(**keywords)
    except Exception:
        return None
    keras = sys.modules.get("keras")
    if keras is not None and isinstance(made, keras.optimizers.Optimizer):
        return "keras"
    if callable(getattr(made, "init", None)) and callable(getattr(made, "update", None)):
        return "optax"
    return None


#: Options a built-in target's adapter takes besides its constructor's keywords.
_BUILTIN_EXTRA: dict[str, frozenset[str]] = {
    "optax": frozenset({"alias"}),
    "keras": frozenset({"optimizer"}),
    "mlx": frozenset({"optimizer"}),
    "tinygrad": frozenset({"optimizer"}),
    "tensorflow": frozenset({"optimizer"}),
}


def load_target(
    target: Any = "numpy", *, kind: str | None = None, device: str = "cpu", **options: Any
) -> Implementation:
    """An :class:`Implementation` for ``target`` (see the module docstring).

    Raises :class:`~.protocol.UsageError` for an option the checker sets itself or the
    target does not take (see :mod:`.options`), :class:`~.protocol.TargetError` when the
    target cannot be loaded.
    """
    if kind is not None and kind not in KINDS:
        raise TargetError(f"--kind={kind!r} is not one of {', '.join(KINDS)}")
    refuse_reserved(options)
    if not isinstance(target, str):
        if isinstance(target, Implementation):
            return _no_options(target, repr(target), options)
        return _wrap(target, kind or detect_kind(target), repr(target), device, options)
    if target in BUILTINS:
        if kind is not None:
            raise TargetError(f"--kind does not apply to the built-in target {target!r}")
        return _builtin(target, device, options)
    obj = _import_attr(target, kind=kind, backend=options.get("backend"))
    if isinstance(obj, Implementation):
        return _no_options(obj, target, options)
    impl = _wrap(obj, kind or detect_kind(obj), target, device, options)
    with contextlib.suppress(AttributeError):  # a read-only name: keep the adapter's
        impl.name = target
    return impl


def _no_options(impl: Implementation, label: str, options: dict[str, Any]) -> Implementation:
    if options:
        key = next(iter(options))
        raise UsageError(
            f"--option {key}={options[key]!r} does not apply to the target "
            f"{label!r} (an Implementation object takes no options)"
        )
    return impl


def _builtin(target: str, device: str, options: dict[str, Any]) -> Implementation:
    if target == "numpy":
        refuse_inapplicable(options, target, "numpy", None, numpy_options())
        impl: Implementation = adapter_module("numpy").make_implementation(**options)
        return impl
    if target.startswith("torch"):
        impl = adapter("torch").make_implementation(path=target, device=device, **options)
        refuse_inapplicable(options, target, "torch", getattr(impl, "factory", None))
        return impl
    impl = adapter(target).make_implementation(**options)
    refuse_inapplicable(
        options,
        target,
        target,
        getattr(impl, "factory", None),
        _BUILTIN_EXTRA.get(target, frozenset()),
    )
    return impl


def _wrap(
    obj: Any, chosen: str, label: str, device: str, options: dict[str, Any]
) -> Implementation:
    """``obj`` behind the ``chosen`` adapter, its options checked against what it takes."""
    if chosen == "plain":
        refuse_inapplicable(options, label, chosen, None)
    extra = {"device": device} if chosen == "torch" else {}
    try:
        impl: Implementation = adapter(chosen).make_implementation(obj, **extra, **options)
    except TargetError:
        raise
    except Exception as err:
        raise TargetError(
            f"the {chosen} adapter cannot use {label!r}: {type(err).__name__}: {err}"
        ) from err
    refuse_inapplicable(options, label, chosen, getattr(impl, "factory", None))
    return impl


def adapter_module(name: str) -> ModuleType:
    """Adapter modules that are not user-selectable kinds (``numpy``)."""
    if name in ADAPTERS:
        return adapter(name)
    return importlib.import_module(f"adamproofs.conformance.adapters.{name}")
