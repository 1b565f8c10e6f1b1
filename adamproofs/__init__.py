"""adamproofs: a verified teaching-and-testing toolkit for the Adam optimizer.

- :mod:`adamproofs.config`: one validated description of Adam, its variants and
  the optimizers it came from;
- :mod:`adamproofs.reference`: the arbitrary-precision oracle;
- :mod:`adamproofs.fast`: the fast NumPy implementation;
- :mod:`adamproofs.tolerance`: the floating-point error model used by every test.
"""

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

__version__ = "0.1.0"

__all__ = [
    "SGD",
    "AdaGrad",
    "AdaMax",
    "Adam",
    "ConfigError",
    "Momentum",
    "Nesterov",
    "OptimizerConfig",
    "RMSProp",
    "__version__",
    "adamw",
    "amsgrad",
    "variant",
]
