"""adamproofs: a verified teaching-and-testing toolkit for the Adam optimizer.

The names below are the public face; everything else is reached through the public
subpackages (:mod:`adamproofs.reference`, :mod:`adamproofs.fast`,
:mod:`adamproofs.conformance`, :mod:`adamproofs.strategies`, :mod:`adamproofs.derivations`,
:mod:`adamproofs.compare`).

- configurations: :class:`Adam` (hyperparameters plus the variant axes), :func:`adamw`,
  :func:`amsgrad`, :func:`variant`, the comparison optimizers, :class:`ConfigError`;
- the variant model: :class:`Variant` and one enum per axis;
- the oracle: :func:`run`, :func:`step` (``reference.run`` / ``reference.step``);
- the error model: :func:`error_bound`, :class:`ErrorBound`;
- the conformance suite: :func:`check`, :func:`assert_conforms`, :class:`Checker`;
- the fast Adam: :class:`Optimizer`;
- Hypothesis strategies: :mod:`strategies`.

Heavy parts (the oracle, the error model, the checker, the fast Adam) load on first use,
so ``import adamproofs`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from .config import (
    SGD,
    AdaGrad,
    Adam,
    AdaMax,
    ConfigError,
    Momentum,
    Nesterov,
    OptimizerConfig,
    RMSProp,
    adamw,
    amsgrad,
    variant,
)
from .variants import Amsgrad, Decay, EpsPlacement, Precision, StepScope, Variant

__version__ = "0.1.0"

#: public name -> (module, attribute) loaded on first access
_LAZY: dict[str, tuple[str, str | None]] = {
    "run": ("adamproofs.reference", "run"),
    "step": ("adamproofs.reference", "step"),
    "reference": ("adamproofs.reference", None),
    "error_bound": ("adamproofs.tolerance", "error_bound"),
    "ErrorBound": ("adamproofs.tolerance", "ErrorBound"),
    "check": ("adamproofs.conformance", "check"),
    "assert_conforms": ("adamproofs.conformance", "assert_conforms"),
    "Checker": ("adamproofs.conformance", "Checker"),
    "Optimizer": ("adamproofs.fast", "Optimizer"),
    "fast": ("adamproofs.fast", None),
    "strategies": ("adamproofs.strategies", None),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'adamproofs' has no attribute {name!r}")
    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "SGD",
    "AdaGrad",
    "AdaMax",
    "Adam",
    "Amsgrad",
    "Checker",
    "ConfigError",
    "Decay",
    "EpsPlacement",
    "ErrorBound",
    "Momentum",
    "Nesterov",
    "Optimizer",
    "OptimizerConfig",
    "Precision",
    "RMSProp",
    "StepScope",
    "Variant",
    "__version__",
    "adamw",
    "amsgrad",
    "assert_conforms",
    "check",
    "error_bound",
    "fast",
    "reference",
    "run",
    "step",
    "strategies",
    "variant",
]
