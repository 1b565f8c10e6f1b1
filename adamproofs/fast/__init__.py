"""The fast NumPy optimizers: in place over a list of arrays, or pure functional.

- :class:`Optimizer`: stateful, updates parameter arrays in place; ``lr=`` takes a
  learning-rate schedule (:mod:`adamproofs.fast._schedule`).
- :mod:`adamproofs.fast.functional`: ``init`` / ``update`` without mutation.
- :func:`set_num_threads` / :func:`get_num_threads`: threads per step for large
  arrays, on both backends (results do not depend on it).
"""

from . import functional
from ._chunked import default_chunk
from ._optimizer import DEFAULT_CHUNK_BYTES, Optimizer, resolve_state_dtype
from ._plan import Plan, compile_plan
from ._threads import get_num_threads, set_num_threads

__all__ = [
    "DEFAULT_CHUNK_BYTES",
    "Optimizer",
    "Plan",
    "compile_plan",
    "default_chunk",
    "functional",
    "get_num_threads",
    "resolve_state_dtype",
    "set_num_threads",
]
