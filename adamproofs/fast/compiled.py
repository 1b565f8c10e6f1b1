"""Optional compiled kernels (numba). The package works without numba installed.

:func:`select_backend` returns a callable ``kernel(config, scalars, p, g, state)``
that updates whole flat arrays in place with the same operation order as
:mod:`adamproofs.fast.kernels`, or ``None`` to use the chunked NumPy kernels.
"""

from __future__ import annotations

from collections.abc import Callable

from ..config import OptimizerConfig

CompiledKernel = Callable[..., None]


def numba_available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def select_backend(name: str, config: OptimizerConfig) -> CompiledKernel | None:
    """``"numpy"``: None; ``"auto"``: compiled if available; ``"numba"``: compiled or error."""
    if name not in ("auto", "numpy", "numba"):
        raise ValueError(f"backend={name!r} is not one of ('auto', 'numpy', 'numba')")
    if name == "numpy":
        return None
    if not numba_available():
        if name == "numba":
            raise ImportError("backend='numba' needs numba (pip install 'adamproofs[speed]')")
        return None
    return None  # compiled kernels: see adamproofs.fast.compiled (performance issue)
