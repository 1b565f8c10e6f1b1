"""Checks on what the fast optimizer is given: parameters, gradients, checkpoints.

Every check names the offending entry and what is allowed, and runs before anything is
written, so a refused call leaves the optimizer and the arrays as they were.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..dtypes import supported_dtypes

try:  # NumPy >= 2
    from numpy.lib.array_utils import byte_bounds as _byte_bounds
except ImportError:  # pragma: no cover - NumPy 1.x
    _byte_bounds = np.byte_bounds  # type: ignore[attr-defined]

#: State arrays that hold second moments or maxima of |g| and must be >= 0.
NONNEGATIVE_STATE = frozenset({"v", "vmax", "u", "s"})


def check_param(i: int, p: Any, *, writeable: bool = True) -> np.ndarray:
    """Validate one parameter array (dtype, contiguity, writeability)."""
    if not isinstance(p, np.ndarray):
        raise TypeError(f"params[{i}] is a {type(p).__name__}; expected a numpy.ndarray")
    if p.dtype not in supported_dtypes():
        raise TypeError(
            f"params[{i}] has dtype {p.dtype.name!r}; allowed: "
            f"{[d.name for d in supported_dtypes()]}"
        )
    if writeable and not p.flags.c_contiguous:
        raise ValueError(
            f"params[{i}] is not C-contiguous; in-place updates need np.ascontiguousarray(...)"
        )
    if writeable and not p.flags.writeable:
        raise ValueError(f"params[{i}] is read-only; the optimizer updates it in place")
    return p


def check_grad(i: int, g: Any, p: np.ndarray) -> np.ndarray:
    """Validate a gradient against its parameter: same shape and same dtype."""
    if not isinstance(g, np.ndarray):
        raise TypeError(
            f"grads[{i}] is a {type(g).__name__}; expected a numpy.ndarray "
            f"of dtype {p.dtype.name} (or None to skip the parameter)"
        )
    if g.shape != p.shape:
        raise ValueError(f"grads[{i}] has shape {g.shape}; params[{i}] has shape {p.shape}")
    if g.dtype != p.dtype:
        raise TypeError(
            f"grads[{i}] has dtype {g.dtype.name!r}; params[{i}] has dtype "
            f"{p.dtype.name!r} (they must match)"
        )
    return g


def _owner(a: Any) -> Any:
    """The object at the end of ``a``'s chain of ``.base`` (the memory's owner)."""
    while True:
        base = getattr(a, "base", None)
        if base is None:
            return a
        a = base


class ParamMemory:
    """The byte ranges of C-contiguous parameters, to find what overlaps them.

    Construction refuses parameters that overlap each other (tied weights passed twice,
    or views of one array): each would be updated once per occurrence, and the threads
    of one step could write the same elements. :meth:`check_grads` refuses a gradient
    that is, or overlaps, a parameter: the step would read it while writing it. A
    gradient can only overlap a parameter whose memory has the same owner (the end of
    the ``.base`` chain), so a step looks at byte ranges only for those.
    """

    def __init__(self, params: Sequence[np.ndarray]) -> None:
        spans = sorted(
            (p.__array_interface__["data"][0], p.nbytes, i)
            for i, p in enumerate(params)
            if p.nbytes
        )
        for (start, size, i), (next_start, _, j) in itertools.pairwise(spans):
            if next_start < start + size:
                a, b = sorted((i, j))
                raise ValueError(
                    f"params[{a}] and params[{b}] share memory (the same array "
                    "twice, or views of one array); pass each parameter once"
                )
        self._params = list(params)
        self._starts = [start for start, _, _ in spans]
        self._spans = spans
        self._owners = {id(_owner(p)) for p in params if p.nbytes}

    def check_grads(self, grads: Sequence[np.ndarray | None]) -> None:
        """Refuse a gradient that is, or overlaps the memory of, a parameter."""
        owners = self._owners
        for i, g in enumerate(grads):
            if g is None:
                continue
            base = g.base  # most gradients own their memory: no call for those
            if id(g if base is None else _owner(base)) in owners and g.nbytes:
                j = self._overlapping(g)
                if j is not None:
                    raise ValueError(
                        f"grads[{i}] shares memory with params[{j}] (it is the "
                        "parameter or a view of it); the step writes the "
                        "parameters in place: pass the gradient in its own "
                        "memory, e.g. g.copy()"
                    )

    def _overlapping(self, g: np.ndarray) -> int | None:
        lo, hi = _byte_bounds(g)
        k = bisect.bisect_left(self._starts, hi) - 1  # the last parameter starting below hi
        # parameters are disjoint and sorted, so their ends are sorted too: walk back
        while k >= 0 and self._spans[k][0] + self._spans[k][1] > lo:
            j = self._spans[k][2]
            if np.shares_memory(g, self._params[j]):
                return j
            k -= 1
        return None


def check_steps(steps: Any, n: int) -> list[int]:
    """``state_dict['steps']``: ``n`` step counts, each an int >= 0."""
    if isinstance(steps, (str, bytes)) or not isinstance(steps, (Sequence, np.ndarray)):
        raise TypeError(
            f"state_dict['steps'] is a {type(steps).__name__}; allowed: a list of {n} ints >= 0"
        )
    if len(steps) != n:
        raise ValueError(
            f"state_dict['steps'] has {len(steps)} entries; this optimizer has {n} parameters"
        )
    out = []
    for i, s in enumerate(steps):
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(
                f"state_dict['steps'][{i}] is {s!r} ({type(s).__name__}); allowed: an int >= 0"
            )
        out.append(int(s))
    return out


def check_state_array(
    where: str, name: str, arr: Any, shape: tuple[int, ...], dtype: np.dtype
) -> np.ndarray:
    """One state array of a checkpoint: ``shape``, ``dtype``, finite, and >= 0 for the
    second moments (:data:`NONNEGATIVE_STATE`). Returns a flat copy."""
    a = np.asarray(arr)
    if a.shape != shape or a.dtype != dtype:
        raise ValueError(
            f"{where} has shape {a.shape} dtype {a.dtype.name}; allowed: shape "
            f"{shape} dtype {dtype.name}"
        )
    flat = a.reshape(-1)
    if flat.size == 0:
        return flat.copy()
    lo, hi = flat.min(), flat.max()  # NaN propagates through both
    nonnegative = name in NONNEGATIVE_STATE
    if np.isfinite(lo) and np.isfinite(hi) and (lo >= 0 or not nonnegative):
        return flat.copy()
    bad = ~np.isfinite(flat)
    if nonnegative:
        bad |= flat < 0
    k = int(np.argmax(bad))
    allowed = "finite values >= 0" if nonnegative else "finite values"
    raise ValueError(f"{where} holds {float(flat[k])!r} at flat index {k}; allowed: {allowed}")
