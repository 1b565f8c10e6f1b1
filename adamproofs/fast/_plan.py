r"""An optimizer configuration compiled for one compute dtype: what the kernels read.

A config (:mod:`adamproofs.config`) is the exact specification: hyperparameters may be
decimal strings or fractions and the variant axes are enums. :func:`compile_plan` turns
it, once per compute dtype, into a :class:`Plan`: the hyperparameters as float64 (each
the correctly rounded value of the exact one), the variant axes resolved (``decay`` is
``None`` when λ = 0), and every β checked to stay below 1 once rounded to the compute
dtype (β = 1 would make :math:`1-\beta^t = 0`; a :class:`~adamproofs.errors.ConfigError`
here replaces a NaN or a ``ZeroDivisionError`` later). The NumPy kernels
(:mod:`.kernels`) and the compiled one (:mod:`.compiled`) read only the plan and the
per-step :class:`Scalars` it makes (:meth:`Plan.scalars`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

import numpy as np
from typing_extensions import assert_never

from ..config import SGD, AdaGrad, Adam, AdaMax, Momentum, Nesterov, OptimizerConfig, RMSProp
from ..dtypes import float_format
from ..errors import ConfigError
from ..variants import Amsgrad, Decay, EpsPlacement


@dataclass(frozen=True)
class Scalars:
    """Per-step scalars, already rounded to the compute dtype (0 or 1 where unused)."""

    lr: float
    b1: float = 0.0
    c1: float = 0.0  # 1 - β1
    b2: float = 0.0
    c2: float = 0.0  # 1 - β2
    eps: float = 0.0
    wd: float = 0.0
    shrink: float = 1.0  # 1 - lr*wd
    bc2: float = 1.0  # 1 - β2^t
    sqrt_bc2: float = 1.0
    step_size: float = 0.0  # lr / (1 - β1^t), or α_t for ε-hat

    def operands(self, dtype: np.dtype) -> Scalars:
        """The same values as 0-d arrays of the compute ``dtype``.

        A ufunc takes a 0-d array about twice as fast as a NumPy scalar, which matters
        when a step makes thousands of calls on cache-sized chunks. Every field is cast
        to ``dtype`` (NumPy 2 does not treat 0-d arrays as "weak" scalars, so a float64
        operand would otherwise compute a float32 chunk in float64). For scalars made by
        a plan of the same dtype the values, and so every rounding, are unchanged; an
        input already in that form is returned as is.
        """
        dt = np.dtype(dtype)
        values = self.__dict__
        if all(isinstance(v, np.ndarray) and v.dtype == dt for v in values.values()):
            return self
        arrays: dict[str, Any] = {k: np.asarray(v, dtype=dt) for k, v in values.items()}
        return Scalars(**arrays)


#: The value of each field of :class:`Scalars` that a plan does not set.
_UNUSED = {f.name: f.default for f in fields(Scalars) if f.name != "lr"}


def _below_one(name: str, value: Any, dtype: np.dtype) -> float:
    """``value`` (a β in [0, 1)) as float64, if it and its ``dtype`` rounding are below 1."""
    as_float = float(value)
    rounded = float(dtype.type(as_float))
    if as_float >= 1.0 or rounded >= 1.0:
        largest = 1.0 - 2.0 ** -float_format(dtype).p
        wider = " (or a more precise state_dtype)" if dtype.itemsize < 8 else ""
        raise ConfigError(
            f"{name}={value!r} rounds to {rounded!r} in {dtype.name} (the "
            f"compute dtype); allowed: a {name} whose {dtype.name} rounding is "
            f"below 1, at most {largest!r}{wider}"
        )
    return as_float


@dataclass(frozen=True)
class Plan:
    """A config compiled for one compute ``dtype`` (plain SGD needs nothing more).

    ``lr`` is the config's α as float64, used when the step has no schedule.
    """

    config: OptimizerConfig
    dtype: np.dtype
    lr: float
    maximize: bool

    def constants(self) -> dict[str, float]:
        """The fields of :class:`Scalars` that are the same at every step (float64)."""
        return {}

    @cached_property
    def _operands(self) -> dict[str, Any]:
        """:meth:`constants` and the unused fields, once, as 0-d arrays of :attr:`dtype`."""
        values = {**_UNUSED, **self.constants()}
        return {k: np.asarray(v, dtype=self.dtype) for k, v in values.items()}

    def _scalars(self, **per_step: float) -> Scalars:
        """:class:`Scalars` from the step's own values (rounded here) and the constants; as
        0-d arrays of :attr:`dtype`, the form :meth:`Scalars.operands` asks for."""
        dt = self.dtype
        values = dict(self._operands)
        for k, v in per_step.items():
            values[k] = np.asarray(v, dtype=dt)
        return Scalars(**values)

    def scalars(self, t: int, lr: float | None = None) -> Scalars:
        """The scalars of step ``t`` (1-based) at rate ``lr`` (default: :attr:`lr`)."""
        return self._scalars(lr=self.lr if lr is None else lr)


@dataclass(frozen=True)
class AdamPlan(Plan):
    """Adam: β1, β2, ε, λ as float64 and the resolved variant axes."""

    beta1: float
    beta2: float
    eps: float
    weight_decay: float
    eps_placement: EpsPlacement
    bias_correction: bool
    amsgrad: Amsgrad | None
    decay: Decay | None  # None: λ = 0, no decay term at all

    def scalars(self, t: int, lr: float | None = None) -> Scalars:
        r"""Computed in float64, then rounded once: :math:`1-\beta_2^t`, its root, the
        step size :math:`\alpha/(1-\beta_1^t)` (ε-hat: :math:`\alpha_t`) and
        :math:`1-\alpha\lambda`."""
        a = self.lr if lr is None else lr
        b1, b2 = self.beta1, self.beta2
        match self.bias_correction:
            case True:
                bc1, bc2 = 1.0 - b1**t, 1.0 - b2**t
            case False:
                bc1 = bc2 = 1.0
            case _:
                assert_never(self.bias_correction)
        sqrt_bc2 = math.sqrt(bc2)
        match self.eps_placement:
            case EpsPlacement.HAT:
                step_size = a * sqrt_bc2 / bc1
            case EpsPlacement.PAPER | EpsPlacement.ROOT:
                step_size = a / bc1
            case _:
                assert_never(self.eps_placement)
        return self._scalars(
            lr=a,
            shrink=1.0 - a * self.weight_decay,
            bc2=bc2,
            sqrt_bc2=sqrt_bc2,
            step_size=step_size,
        )

    def constants(self) -> dict[str, float]:
        b1, b2 = self.beta1, self.beta2
        return dict(b1=b1, c1=1.0 - b1, b2=b2, c2=1.0 - b2, eps=self.eps, wd=self.weight_decay)


@dataclass(frozen=True)
class AdaMaxPlan(Plan):
    beta1: float
    beta2: float
    eps: float

    def scalars(self, t: int, lr: float | None = None) -> Scalars:
        a = self.lr if lr is None else lr
        return self._scalars(lr=a, step_size=a / (1.0 - self.beta1**t))

    def constants(self) -> dict[str, float]:
        return dict(b1=self.beta1, c1=1.0 - self.beta1, b2=self.beta2, eps=self.eps)


@dataclass(frozen=True)
class MomentumPlan(Plan):
    """Heavy ball, or Nesterov when ``nesterov``; μ travels as ``Scalars.b1``."""

    momentum: float
    nesterov: bool

    def constants(self) -> dict[str, float]:
        return dict(b1=self.momentum)


@dataclass(frozen=True)
class AdaGradPlan(Plan):
    eps: float

    def constants(self) -> dict[str, float]:
        return dict(eps=self.eps)


@dataclass(frozen=True)
class RMSPropPlan(Plan):
    """ρ travels as ``Scalars.b2``."""

    rho: float
    eps: float

    def constants(self) -> dict[str, float]:
        return dict(b2=self.rho, c2=1.0 - self.rho, eps=self.eps)


def _adam_plan(cfg: Adam, dt: np.dtype) -> AdamPlan:
    return AdamPlan(
        cfg,
        dt,
        float(cfg.lr),
        cfg.maximize,
        beta1=_below_one("beta1", cfg.beta1, dt),
        beta2=_below_one("beta2", cfg.beta2, dt),
        eps=float(cfg.eps),
        weight_decay=float(cfg.weight_decay),
        eps_placement=cfg.eps_placement,
        bias_correction=cfg.bias_correction,
        amsgrad=cfg.amsgrad,
        decay=cfg.decay if cfg.has_decay else None,
    )


def compile_plan(config: OptimizerConfig, dtype: Any) -> Plan:
    """``config`` compiled for the compute ``dtype`` (ConfigError when a β rounds to 1)."""
    dt = np.dtype(dtype)
    match config:
        case Adam():
            return _adam_plan(config, dt)
        case AdaMax():
            return AdaMaxPlan(
                config,
                dt,
                float(config.lr),
                config.maximize,
                beta1=_below_one("beta1", config.beta1, dt),
                beta2=_below_one("beta2", config.beta2, dt),
                eps=float(config.eps),
            )
        case Momentum() | Nesterov():
            return MomentumPlan(
                config,
                dt,
                float(config.lr),
                config.maximize,
                momentum=_below_one("momentum", config.momentum, dt),
                nesterov=isinstance(config, Nesterov),
            )
        case AdaGrad():
            return AdaGradPlan(config, dt, float(config.lr), config.maximize, eps=float(config.eps))
        case RMSProp():
            return RMSPropPlan(
                config,
                dt,
                float(config.lr),
                config.maximize,
                rho=_below_one("rho", config.rho, dt),
                eps=float(config.eps),
            )
        case SGD():
            return Plan(config, dt, float(config.lr), config.maximize)
    raise TypeError(
        f"no fast kernel for {type(config).__name__}; allowed: Adam, AdaMax, "
        "SGD, Momentum, Nesterov, AdaGrad, RMSProp"
    )
