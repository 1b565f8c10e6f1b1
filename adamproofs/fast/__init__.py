"""The fast NumPy optimizers: in place over a list of arrays, or pure functional.

- :class:`Optimizer`: stateful, updates parameter arrays in place.
- :mod:`adamproofs.fast.functional`: ``init`` / ``update`` without mutation.
- :func:`set_num_threads` / :func:`get_num_threads`: threads per step for large
  arrays, on both backends (results do not depend on it).
"""

from . import functional
from .compiled import get_num_threads, set_num_threads
from .optimizer import DEFAULT_CHUNK, Optimizer, resolve_state_dtype

__all__ = ["DEFAULT_CHUNK", "Optimizer", "functional", "get_num_threads",
           "resolve_state_dtype", "set_num_threads"]
