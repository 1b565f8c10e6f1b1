"""Adapters: turn a framework's optimizer (or the user's object) into the protocol.

Each adapter module ``adamproofs.conformance.adapters.<kind>`` exposes ``KIND``,
``accepts(obj)`` and ``make_implementation(target=None, **options)`` (see
:mod:`adamproofs.conformance.protocol`). Modules are imported lazily, by name, so
that importing this package imports no framework.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..protocol import TargetError

#: kind -> adapter module (imported only when used)
ADAPTERS: dict[str, str] = {
    "plain": "adamproofs.conformance.adapters.plain",
    "torch": "adamproofs.conformance.adapters.torch",
    "optax": "adamproofs.conformance.adapters.optax",
    "keras": "adamproofs.conformance.adapters.keras",
    "mlx": "adamproofs.conformance.adapters.mlx",
    "tinygrad": "adamproofs.conformance.adapters.tinygrad",
    "tensorflow": "adamproofs.conformance.adapters.tensorflow",
    "functional": "adamproofs.conformance.adapters.functional",
}


def adapter(kind: str) -> ModuleType:
    """The adapter module for ``kind`` (a key of :data:`ADAPTERS`)."""
    if kind not in ADAPTERS:
        raise TargetError(f"--kind={kind!r} is not one of {tuple(ADAPTERS)}")
    try:
        return importlib.import_module(ADAPTERS[kind])
    except ModuleNotFoundError as err:
        if err.name == ADAPTERS[kind]:
            raise TargetError(
                f"the {kind!r} adapter is not available in this build "
                f"(module {ADAPTERS[kind]} not found)"
            ) from err
        raise
