r"""The variant model: every axis on which correct Adam implementations differ.

Real frameworks agree on Adam's hyperparameters (α, β1, β2, ε, λ) and still compute
different things from them. Each way they differ is an *axis* with a small set of
values; a :class:`Variant` is one value per axis. Everything that needs an axis reads
it from here: the oracle's rules, the kernels, the error model, the checker's
fingerprint, the CLI choices and the matrix columns. Code that branches on an axis
uses an exhaustive ``match`` ending in :func:`assert_never`, so a new value is a type
error wherever it is not handled yet.

The axes:

- :class:`EpsPlacement`: where ε enters the step.
  ``paper``: :math:`\alpha\,\hat m/(\sqrt{\hat v}+\epsilon)`;
  ``hat``: :math:`\alpha_t m/(\sqrt{v}+\hat\epsilon)` with
  :math:`\alpha_t=\alpha\sqrt{1-\beta_2^t}/(1-\beta_1^t)`;
  ``root``: :math:`\alpha\,\hat m/\sqrt{\hat v+\epsilon}`.
- bias correction (``bool``): divide the moments by :math:`1-\beta^t` or not.
- :class:`Amsgrad` (or ``None``): which running maximum, if any, replaces :math:`v`.
- :class:`Decay`: how the weight decay λ enters (only when λ ≠ 0).
- :class:`StepScope`: what :math:`t` counts when a parameter misses a step.
- :class:`Precision`: the arithmetic an implementation effectively computes in,
  relative to the dtype of the parameters it is given.

``maximize`` is a hyperparameter, not an axis: every implementation that offers it
means :math:`g \leftarrow -g` before the decay term.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

if sys.version_info >= (3, 11):
    from typing import assert_never
else:  # pragma: no cover - Python 3.10
    from typing_extensions import assert_never

from .errors import ConfigError

__all__ = [
    "AXES",
    "NAMED",
    "Amsgrad",
    "Axis",
    "Decay",
    "EpsPlacement",
    "Guarantee",
    "Precision",
    "StepScope",
    "Variant",
    "assert_never",
    "guarantees",
    "named",
    "parse_variant",
]


class _AxisValue(str, enum.Enum):
    """A value of an axis: an enum that also compares equal to its string."""

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        return repr(self.value)


class EpsPlacement(_AxisValue):
    """Where ε enters the step (see the module docstring)."""

    PAPER = "paper"
    HAT = "hat"
    ROOT = "root"


class Amsgrad(_AxisValue):
    r"""The AMSGrad form (``None`` on a :class:`Variant` means plain Adam).

    ``max_raw``: keep :math:`\max v`, divide by :math:`1-\beta_2^t` of the current step
    (PyTorch, Keras, TF); ``max_corrected``: keep :math:`\max \hat v` (optax);
    ``max_uncorrected``: keep :math:`\max v` and never correct it (Reddi et al.).
    """

    MAX_RAW = "max_raw"
    MAX_CORRECTED = "max_corrected"
    MAX_UNCORRECTED = "max_uncorrected"


class Decay(_AxisValue):
    r"""How weight decay λ enters.

    ``l2``: :math:`g \leftarrow g + \lambda\theta_{t-1}`;
    ``decoupled``: :math:`\theta_t = \theta_{t-1}(1-\alpha\lambda) - \Delta_t` (AdamW);
    ``decoupled_after``: :math:`\theta_t = (\theta_{t-1}-\Delta_t)(1-\alpha\lambda)`.
    """

    L2 = "l2"
    DECOUPLED = "decoupled"
    DECOUPLED_AFTER = "decoupled_after"


class StepScope(_AxisValue):
    """What the step counter :math:`t` counts.

    ``param``: each parameter counts its own updates (PyTorch);
    ``optimizer``: one counter of ``step()`` calls shared by all parameters.
    """

    PARAM = "param"
    OPTIMIZER = "optimizer"


class Precision(_AxisValue):
    """The arithmetic an implementation effectively computes in.

    ``native``: the dtype of the parameters it is given; otherwise that format
    whatever the parameters' dtype (e.g. float64 parameters updated in float32).
    """

    NATIVE = "native"
    FLOAT64 = "float64"
    FLOAT32 = "float32"
    BFLOAT16 = "bfloat16"
    FLOAT16 = "float16"

    def compute_dtype(self, param_dtype: str) -> str:
        """The dtype the arithmetic is done in, for parameters of ``param_dtype``."""
        match self:
            case Precision.NATIVE:
                return param_dtype
            case Precision.FLOAT64 | Precision.FLOAT32 | Precision.BFLOAT16 | Precision.FLOAT16:
                return self.value
            case _:
                assert_never(self)


class Guarantee(enum.Enum):
    """A mathematical guarantee that a property of the checker relies on."""

    #: :math:`|\Delta_t| \le \alpha S(t)` for every gradient sequence (with ε ≥ 0).
    STEP_BOUND = "step_bound"


def _eps_guarantees(value: EpsPlacement) -> frozenset[Guarantee]:
    match value:
        case EpsPlacement.PAPER | EpsPlacement.HAT | EpsPlacement.ROOT:
            # every placement only enlarges the denominator √v̂ (or √v·√(1−β2^t))
            return frozenset({Guarantee.STEP_BOUND})
        case _:
            assert_never(value)


def _bias_guarantees(value: bool) -> frozenset[Guarantee]:
    match value:
        case True:
            return frozenset({Guarantee.STEP_BOUND})
        case False:  # first step (1−β1)/√(1−β2)·α: above α
            return frozenset()
        case _:
            assert_never(value)


def _amsgrad_guarantees(value: Amsgrad | None) -> frozenset[Guarantee]:
    match value:
        case None | Amsgrad.MAX_RAW | Amsgrad.MAX_CORRECTED:
            # the denominator is at least Adam's own √v̂
            return frozenset({Guarantee.STEP_BOUND})
        case Amsgrad.MAX_UNCORRECTED:  # √max v < √v̂ early on: steps above α·S(t)
            return frozenset()
        case _:
            assert_never(value)


def _decay_guarantees(value: Decay) -> frozenset[Guarantee]:
    match value:
        case Decay.L2 | Decay.DECOUPLED | Decay.DECOUPLED_AFTER:
            # the step bound is judged with λ = 0, where every form is plain Adam
            return frozenset({Guarantee.STEP_BOUND})
        case _:
            assert_never(value)


def _scope_guarantees(value: StepScope) -> frozenset[Guarantee]:
    match value:
        case StepScope.PARAM | StepScope.OPTIMIZER:
            return frozenset({Guarantee.STEP_BOUND})
        case _:
            assert_never(value)


def _precision_guarantees(value: Precision) -> frozenset[Guarantee]:
    match value:
        case (
            Precision.NATIVE
            | Precision.FLOAT64
            | Precision.FLOAT32
            | Precision.BFLOAT16
            | Precision.FLOAT16
        ):
            return frozenset({Guarantee.STEP_BOUND})
        case _:
            assert_never(value)


@dataclass(frozen=True)
class Variant:
    """One value per axis. Strings are accepted and converted (``"hat"`` → ``EpsPlacement.HAT``).

    The defaults are the paper's Algorithm 1 as PyTorch runs it.
    """

    eps_placement: EpsPlacement = EpsPlacement.PAPER
    bias_correction: bool = True
    amsgrad: Amsgrad | None = None
    decay: Decay = Decay.L2
    step_scope: StepScope = StepScope.PARAM
    precision: Precision = Precision.NATIVE

    def __post_init__(self) -> None:
        for axis in AXES.values():
            object.__setattr__(self, axis.name, axis.coerce(getattr(self, axis.name)))

    def replace(self, **changes: Any) -> Variant:
        """A copy with some axes changed."""
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values per axis (``None`` for no AMSGrad)."""
        return {k: (v.value if isinstance(v, enum.Enum) else v) for k, v in asdict(self).items()}

    def describe(self) -> str:
        """The named variant and any non-default axes, e.g. ``paper, decay=decoupled``."""
        name = named(self)
        defaults = Variant()
        main = {"eps_placement", "bias_correction", "amsgrad"}
        rest = [
            f"{k}={v}"
            for k, v in self.as_dict().items()
            if (name is None or k not in main) and v != getattr(defaults, k)
        ]
        return ", ".join(([name] if name else []) + rest) or "paper"


@dataclass(frozen=True)
class Axis:
    """One axis of :class:`Variant`: its name, its values (in report order), its parser."""

    name: str
    values: tuple[Any, ...]
    doc: str
    coerce: Callable[[Any], Any]

    def parse(self, text: str) -> Any:
        """The value spelled ``text`` on the command line (``true``/``false``, ``none``)."""
        for value in self.values:
            if spell(value) == text.strip().lower():
                return value
        raise ConfigError(
            f"{self.name}={text!r} is not one of " + ", ".join(spell(v) for v in self.values)
        )

    @property
    def choices(self) -> tuple[str, ...]:
        """The spellings of :attr:`values` (CLI choices, matrix cells)."""
        return tuple(spell(v) for v in self.values)


def spell(value: Any) -> str:
    """How an axis value is written in reports and on the command line."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _enum_coercer(name: str, cls: type[_AxisValue], optional: bool = False) -> Callable[[Any], Any]:
    allowed = tuple(m.value for m in cls)

    def coerce(value: Any) -> Any:
        if optional and value in (None, "none"):
            return None
        try:
            return cls(value)
        except ValueError:
            pass
        shown = ((None,) if optional else ()) + allowed
        raise ConfigError(f"{name}={value!r} is not one of {shown!r}")

    return coerce


def _bool_coercer(name: str) -> Callable[[Any], bool]:
    def coerce(value: Any) -> bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{name}={value!r} must be True or False")
        return value

    return coerce


#: The axes of :class:`Variant`, by field name, in report order.
AXES: dict[str, Axis] = {
    a.name: a
    for a in (
        Axis(
            "eps_placement",
            tuple(EpsPlacement),
            "where ε enters the step",
            _enum_coercer("eps_placement", EpsPlacement),
        ),
        Axis(
            "bias_correction",
            (True, False),
            "moments divided by 1−β^t",
            _bool_coercer("bias_correction"),
        ),
        Axis("amsgrad", (None, *Amsgrad), "AMSGrad form", _enum_coercer("amsgrad", Amsgrad, True)),
        Axis("decay", tuple(Decay), "weight-decay form", _enum_coercer("decay", Decay)),
        Axis(
            "step_scope",
            tuple(StepScope),
            "what the step counter counts",
            _enum_coercer("step_scope", StepScope),
        ),
        Axis(
            "precision",
            tuple(Precision),
            "effective compute precision",
            _enum_coercer("precision", Precision),
        ),
    )
}
assert tuple(AXES) == tuple(f.name for f in fields(Variant))

#: Axes that also exist on :class:`adamproofs.config.Adam` (the update's own definition).
UPDATE_AXES: tuple[str, ...] = ("eps_placement", "bias_correction", "amsgrad", "decay")

#: Named variants as real frameworks ship them (the other axes at their defaults).
NAMED: dict[str, Variant] = {
    "paper": Variant(),
    "eps_hat": Variant(eps_placement=EpsPlacement.HAT),
    "eps_root": Variant(eps_placement=EpsPlacement.ROOT),
    "no_bias_correction": Variant(bias_correction=False),
    "amsgrad_max_raw": Variant(amsgrad=Amsgrad.MAX_RAW),
    "amsgrad_max_corrected": Variant(amsgrad=Amsgrad.MAX_CORRECTED),
    "amsgrad_max_uncorrected": Variant(amsgrad=Amsgrad.MAX_UNCORRECTED),
}

#: The axes a name of :data:`NAMED` decides.
NAMED_AXES: tuple[str, ...] = ("eps_placement", "bias_correction", "amsgrad")


def named(variant: Variant) -> str | None:
    """The name in :data:`NAMED` whose ε placement, bias correction and AMSGrad match."""
    key = tuple(getattr(variant, a) for a in NAMED_AXES)
    for name, v in NAMED.items():
        if tuple(getattr(v, a) for a in NAMED_AXES) == key:
            return name
    return None


def guarantees(variant: Variant) -> frozenset[Guarantee]:
    """The guarantees ``variant`` gives: those every one of its axis values gives."""
    out = frozenset(Guarantee)
    for part in (
        _eps_guarantees(variant.eps_placement),
        _bias_guarantees(variant.bias_correction),
        _amsgrad_guarantees(variant.amsgrad),
        _decay_guarantees(variant.decay),
        _scope_guarantees(variant.step_scope),
        _precision_guarantees(variant.precision),
    ):
        out &= part
    return out


def parse_variant(spec: str) -> tuple[Variant, set[str]]:
    """``NAME[,axis=value...]`` → the :class:`Variant` and the axes the spec fixes.

    ``NAME`` is a key of :data:`NAMED`; it fixes every axis except ``precision``
    (``decay=l2`` and ``step_scope=param`` unless overridden, e.g.
    ``paper,decay=decoupled``). ``precision`` is fixed only when given.
    """
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    if not parts:
        raise ConfigError("--variant is empty; allowed: " + ", ".join(NAMED))
    name, overrides = parts[0], parts[1:]
    if name not in NAMED:
        raise ConfigError(f"--variant {name!r} is not one of {', '.join(NAMED)}")
    variant = NAMED[name]
    fixed = set(AXES) - {"precision"}
    for item in overrides:
        key, _, value = item.partition("=")
        if key not in AXES:
            raise ConfigError(
                f"--variant override {item!r}: expected one of "
                + "; ".join(f"{a.name}={'|'.join(a.choices)}" for a in AXES.values())
            )
        try:
            value_of_axis = AXES[key].parse(value)
        except ConfigError as err:
            raise ConfigError(f"--variant override {item!r}: {err}") from None
        variant = variant.replace(**{key: value_of_axis})
        fixed.add(key)
    return variant, fixed
