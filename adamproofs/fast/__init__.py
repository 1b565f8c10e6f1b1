"""The fast NumPy optimizers: in place over a list of arrays, or pure functional.

- :class:`Optimizer`: stateful, updates parameter arrays in place.
- :mod:`adamproofs.fast.functional`: ``init`` / ``update`` without mutation.
"""

from . import functional
from .optimizer import DEFAULT_CHUNK, Optimizer, resolve_state_dtype

__all__ = ["DEFAULT_CHUNK", "Optimizer", "functional", "resolve_state_dtype"]
