r"""One validated description of every optimizer this project knows.

Each optimizer is a frozen dataclass of hyperparameters plus the *variant axes*
on which real frameworks differ. The reference (:mod:`adamproofs.reference`),
the fast NumPy implementation (:mod:`adamproofs.fast`), the conformance suite,
the derivations and the docs all read these objects, so a variant is defined
here once.

Adam (Kingma & Ba, Algorithm 1), with t counted from 1:

.. math::

    m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad
    v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\quad
    \hat m_t = \frac{m_t}{1-\beta_1^t},\quad \hat v_t = \frac{v_t}{1-\beta_2^t},\quad
    \theta_t = \theta_{t-1} - \alpha \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}.

Hyperparameters may be given as ``float``, ``int``, ``str`` (a decimal such as
``"0.9"``, taken exactly by the reference) or :class:`fractions.Fraction`.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import asdict, dataclass, fields, replace
from fractions import Fraction
from typing import Any, ClassVar

from .errors import ConfigError
from .variants import AXES, NAMED, UPDATE_AXES, Amsgrad, Decay, EpsPlacement, Variant

Number = float | int | str | Fraction

#: The values of each update axis, in report order (derived from :mod:`adamproofs.variants`).
EPS_PLACEMENTS: tuple[EpsPlacement, ...] = AXES["eps_placement"].values
AMSGRAD_FORMS: tuple[Amsgrad | None, ...] = AXES["amsgrad"].values
DECAY_FORMS: tuple[Decay, ...] = AXES["decay"].values


#: Longest decimal or rational string accepted (bounds the cost of taking it exactly).
MAX_TEXT_LENGTH = 1000
#: Largest decimal exponent accepted in a string (``"1e-4000"`` is fine, ``"1e-99999999"`` not).
MAX_DECIMAL_EXPONENT = 4000
#: Largest binary exponent accepted from an mpmath number.
MAX_BINARY_EXPONENT = 4 * MAX_DECIMAL_EXPONENT

_DECIMAL_EXPONENT = re.compile(r"[eE]\s*([+-]?\d+)\s*$")


def _exact_text(value: str, name: str) -> Fraction:
    """A decimal (``"1e-8"``) or rational (``"9/10"``) string, exactly, at bounded cost."""
    if len(value) > MAX_TEXT_LENGTH:
        raise ConfigError(
            f"{name}={value[:40]!r}... is {len(value)} characters long; "
            f"allowed: at most {MAX_TEXT_LENGTH}"
        )
    power = _DECIMAL_EXPONENT.search(value)
    if power is not None and abs(int(power.group(1))) > MAX_DECIMAL_EXPONENT:
        raise ConfigError(
            f"{name}={value!r} has decimal exponent {int(power.group(1))}; "
            f"allowed: |exponent| <= {MAX_DECIMAL_EXPONENT}"
        )
    try:
        return Fraction(value.strip())
    except (ValueError, ZeroDivisionError) as err:
        raise ConfigError(f"{name}={value!r} is not a decimal or rational number") from err


def exact(value: Number, name: str = "value") -> Fraction:
    """Return ``value`` as an exact rational (a float is taken exactly: it is dyadic)."""
    if isinstance(value, bool):
        raise ConfigError(f"{name}={value!r} is a bool; expected a real number")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigError(f"{name}={value!r} is not finite; expected a finite real number")
        return Fraction(value)
    if isinstance(value, str):
        return _exact_text(value, name)
    if isinstance(value, numbers.Rational):  # e.g. sympy.Rational: exact
        return Fraction(int(value.numerator), int(value.denominator))
    mpf_value = getattr(value, "_mpf_", None)
    if mpf_value is not None:  # an mpmath number from any context: exact
        sign, man, exp, _ = mpf_value
        if man == 0 and exp != 0:
            raise ConfigError(f"{name}={value!r} is not finite; expected a finite real number")
        if abs(exp) > MAX_BINARY_EXPONENT:
            raise ConfigError(
                f"{name}={value!r} has binary exponent {exp}; allowed: "
                f"|exponent| <= {MAX_BINARY_EXPONENT}"
            )
        return (-1) ** sign * Fraction(man) * Fraction(2) ** exp
    # numpy scalars and anything else with an exact float conversion
    try:
        as_float = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        raise ConfigError(
            f"{name}={value!r} has type {type(value).__name__}; "
            "expected float, int, str or Fraction"
        ) from err
    if not math.isfinite(as_float):
        raise ConfigError(f"{name}={value!r} is not finite; expected a finite real number")
    return Fraction(as_float)


def _check_range(
    name: str,
    value: Number,
    *,
    low: float,
    high: float | None,
    low_open: bool = False,
    high_open: bool = True,
) -> None:
    x = exact(value, name)
    bad_low = x <= low if low_open else x < low
    bad_high = high is not None and (x >= high if high_open else x > high)
    if bad_low or bad_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        upper = "inf" if high is None else repr(high)
        raise ConfigError(
            f"{name}={value!r} is outside the allowed range {left}{low!r}, {upper}{right}"
        )


def _check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"{name}={value!r} must be True or False")


@dataclass(frozen=True)
class OptimizerConfig:
    """Base class: hyperparameters shared by every first-order method."""

    lr: Number = 1e-3
    maximize: bool = False

    #: Short name used by the CLI, the registry and reports.
    name: ClassVar[str] = "optimizer"
    #: Names of the per-parameter state arrays, in a fixed order.
    state_names: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        _check_range("lr", self.lr, low=0.0, high=None)
        _check_bool("maximize", self.maximize)
        self._validate()

    def _validate(self) -> None:  # overridden
        pass

    def replace(self, **changes: Any) -> OptimizerConfig:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict of the fields plus the optimizer name (for reports and JSON)."""
        out = {"optimizer": self.name}
        for key, value in asdict(self).items():
            out[key] = str(value) if isinstance(value, Fraction) else value
        return out

    def hyperparameters(self) -> dict[str, Number]:
        """The numeric fields (those the reference converts to its arithmetic)."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if isinstance(getattr(self, f.name), (int, float, str, Fraction))
            and not isinstance(getattr(self, f.name), bool)
            and f.name not in _NON_NUMERIC
        }


_NON_NUMERIC = {"eps_placement", "amsgrad", "decay"}


@dataclass(frozen=True)
class Adam(OptimizerConfig):
    r"""Adam and the variants real frameworks ship.

    Variant axes (defaults give the paper's Algorithm 1, which is also PyTorch's):

    - ``eps_placement``:
        ``"paper"``: :math:`\alpha \hat m/(\sqrt{\hat v}+\epsilon)` (PyTorch, optax);
        ``"hat"``: :math:`\alpha_t m/(\sqrt{v}+\hat\epsilon)` with
        :math:`\alpha_t = \alpha\sqrt{1-\beta_2^t}/(1-\beta_1^t)` (Keras, TF1);
        ``"root"``: :math:`\alpha \hat m/\sqrt{\hat v + \epsilon}` (optax ``eps_root``).
    - ``bias_correction``: divide by :math:`1-\beta^t` (``False`` is MLX's default).
    - ``amsgrad``: ``None``; ``"max_raw"`` keeps :math:`\max v` and divides by
      :math:`1-\beta_2^t` of the current step (PyTorch, Keras, TF);
      ``"max_corrected"`` keeps :math:`\max \hat v` (optax default);
      ``"max_uncorrected"`` keeps :math:`\max v` and never corrects it (the
      Reddi et al. paper; optax ``bias_correction_nu=False``).
    - ``weight_decay`` :math:`\lambda` with ``decay``:
        ``"l2"``: :math:`g \leftarrow g + \lambda\theta_{t-1}` (PyTorch Adam);
        ``"decoupled"``: :math:`\theta_t = \theta_{t-1}(1-\alpha\lambda) - \Delta_t` (AdamW);
        ``"decoupled_after"``: :math:`\theta_t = (\theta_{t-1}-\Delta_t)(1-\alpha\lambda)`.
    - ``maximize``: :math:`g \leftarrow -g` before the decay term.
    """

    lr: Number = 1e-3
    beta1: Number = 0.9
    beta2: Number = 0.999
    eps: Number = 1e-8
    eps_placement: EpsPlacement = EpsPlacement.PAPER
    bias_correction: bool = True
    amsgrad: Amsgrad | None = None
    weight_decay: Number = 0.0
    decay: Decay = Decay.L2
    maximize: bool = False

    name: ClassVar[str] = "adam"
    state_names: ClassVar[tuple[str, ...]] = ("m", "v", "vmax")

    def _validate(self) -> None:
        _check_range("beta1", self.beta1, low=0.0, high=1.0)
        _check_range("beta2", self.beta2, low=0.0, high=1.0)
        _check_range("eps", self.eps, low=0.0, high=None)
        _check_range("weight_decay", self.weight_decay, low=0.0, high=None)
        for name in UPDATE_AXES:  # strings become the axis enums
            object.__setattr__(self, name, AXES[name].coerce(getattr(self, name)))

    @property
    def variant(self) -> Variant:
        """The update axes of this configuration (other axes at their defaults)."""
        return Variant(**{name: getattr(self, name) for name in UPDATE_AXES})

    @property
    def active_state(self) -> tuple[str, ...]:
        """State arrays this configuration actually keeps."""
        return ("m", "v", "vmax") if self.amsgrad else ("m", "v")

    @property
    def has_decay(self) -> bool:
        return exact(self.weight_decay) != 0


@dataclass(frozen=True)
class AdaMax(OptimizerConfig):
    r"""AdaMax (Kingma & Ba, Algorithm 2): :math:`u_t = \max(\beta_2 u_{t-1}, |g_t|)`,
    :math:`\theta_t = \theta_{t-1} - \frac{\alpha}{1-\beta_1^t}\, m_t/(u_t + \epsilon)`.

    The paper has no ε (default here 0, with the convention 0/0 := 0 while all
    gradients so far are zero). :math:`u` has no bias correction.
    """

    lr: Number = 2e-3
    beta1: Number = 0.9
    beta2: Number = 0.999
    eps: Number = 0.0
    maximize: bool = False

    name: ClassVar[str] = "adamax"
    state_names: ClassVar[tuple[str, ...]] = ("m", "u")

    def _validate(self) -> None:
        _check_range("beta1", self.beta1, low=0.0, high=1.0)
        _check_range("beta2", self.beta2, low=0.0, high=1.0)
        _check_range("eps", self.eps, low=0.0, high=None)


@dataclass(frozen=True)
class SGD(OptimizerConfig):
    r"""Gradient descent: :math:`\theta_t = \theta_{t-1} - \alpha g_t`."""

    lr: Number = 1e-2
    maximize: bool = False

    name: ClassVar[str] = "sgd"
    state_names: ClassVar[tuple[str, ...]] = ()


@dataclass(frozen=True)
class Momentum(OptimizerConfig):
    r"""Heavy-ball momentum (PyTorch form, no dampening):
    :math:`b_t = \mu b_{t-1} + g_t`, :math:`\theta_t = \theta_{t-1} - \alpha b_t`."""

    lr: Number = 1e-2
    momentum: Number = 0.9
    maximize: bool = False

    name: ClassVar[str] = "momentum"
    state_names: ClassVar[tuple[str, ...]] = ("b",)

    def _validate(self) -> None:
        _check_range("momentum", self.momentum, low=0.0, high=1.0)


@dataclass(frozen=True)
class Nesterov(OptimizerConfig):
    r"""Nesterov momentum (PyTorch form): :math:`b_t = \mu b_{t-1} + g_t`,
    :math:`\theta_t = \theta_{t-1} - \alpha (g_t + \mu b_t)`."""

    lr: Number = 1e-2
    momentum: Number = 0.9
    maximize: bool = False

    name: ClassVar[str] = "nesterov"
    state_names: ClassVar[tuple[str, ...]] = ("b",)

    def _validate(self) -> None:
        _check_range("momentum", self.momentum, low=0.0, high=1.0)


@dataclass(frozen=True)
class AdaGrad(OptimizerConfig):
    r"""AdaGrad: :math:`s_t = s_{t-1} + g_t^2`,
    :math:`\theta_t = \theta_{t-1} - \alpha g_t/(\sqrt{s_t}+\epsilon)`, :math:`s_0` given."""

    lr: Number = 1e-2
    eps: Number = 1e-10
    initial_accumulator: Number = 0.0
    maximize: bool = False

    name: ClassVar[str] = "adagrad"
    state_names: ClassVar[tuple[str, ...]] = ("s",)

    def _validate(self) -> None:
        _check_range("eps", self.eps, low=0.0, high=None)
        _check_range("initial_accumulator", self.initial_accumulator, low=0.0, high=None)


@dataclass(frozen=True)
class RMSProp(OptimizerConfig):
    r"""RMSProp (Tieleman & Hinton): :math:`s_t = \rho s_{t-1} + (1-\rho) g_t^2`,
    :math:`\theta_t = \theta_{t-1} - \alpha g_t/(\sqrt{s_t}+\epsilon)` (no bias correction)."""

    lr: Number = 1e-2
    rho: Number = 0.99
    eps: Number = 1e-8
    maximize: bool = False

    name: ClassVar[str] = "rmsprop"
    state_names: ClassVar[tuple[str, ...]] = ("s",)

    def _validate(self) -> None:
        _check_range("rho", self.rho, low=0.0, high=1.0)
        _check_range("eps", self.eps, low=0.0, high=None)


#: Every optimizer class by its short name.
OPTIMIZERS: dict[str, type[OptimizerConfig]] = {
    cls.name: cls for cls in (Adam, AdaMax, SGD, Momentum, Nesterov, AdaGrad, RMSProp)
}


def amsgrad(form: Amsgrad | str = Amsgrad.MAX_RAW, **kwargs: Any) -> Adam:
    """AMSGrad (Reddi, Kale & Kumar) as an :class:`Adam` variant."""
    return Adam(amsgrad=AXES["amsgrad"].coerce(form), **kwargs)


def adamw(lr: Number = 1e-3, weight_decay: Number = 1e-2, **kwargs: Any) -> Adam:
    """AdamW (Loshchilov & Hutter): decoupled decay before the step, PyTorch defaults."""
    return Adam(lr=lr, weight_decay=weight_decay, decay=Decay.DECOUPLED, **kwargs)


#: Named Adam variants as shipped by real frameworks: the update axes of each entry of
#: :data:`adamproofs.variants.NAMED` (hyperparameters at a framework's defaults are *not*
#: part of a variant; only the axes are).
VARIANTS: dict[str, dict[str, Any]] = {
    name: {axis: getattr(v, axis) for axis in ("eps_placement", "bias_correction", "amsgrad")}
    for name, v in NAMED.items()
}


def variant(name: str, **hyper: Any) -> Adam:
    """An :class:`Adam` for a named variant of :data:`VARIANTS`."""
    if name not in VARIANTS:
        raise ConfigError(f"variant={name!r} is not one of {tuple(VARIANTS)!r}")
    return Adam(**{**VARIANTS[name], **hyper})
