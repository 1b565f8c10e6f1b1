"""Adapter for plain Python/NumPy optimizers (see :mod:`..protocol` for the protocol)."""

from __future__ import annotations

from typing import Any

from ..protocol import Implementation, PlainImplementation, TargetError, takes_keywords

KIND = "plain"


def accepts(obj: Any) -> bool:
    """A class or factory whose signature takes ``params`` plus ``lr``/``beta1``/``beta2``."""
    if isinstance(obj, Implementation):
        return True
    return takes_keywords(obj, {"lr", "beta1", "beta2"})


def make_implementation(target: Any = None, **options: Any) -> Implementation:
    """Wrap a plain-protocol class/factory (or pass an :class:`Implementation` through)."""
    if target is None:
        raise TargetError("the plain adapter needs a target (module.path:attr)")
    if isinstance(target, Implementation):
        return target
    return PlainImplementation(target, **options)
