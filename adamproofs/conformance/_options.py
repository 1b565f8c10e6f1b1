"""Target options (``--option KEY=VALUE``): which apply, and the claims they make.

An option is passed to the target's adapter or constructor. Three kinds of key are
refused before anything runs (:class:`~.protocol.UsageError`): the hyperparameters the
checker itself sets for every case (``eps``, ``lr``, ``betas``, ...), the loader's own
keywords (``device``, ``kind``, ...), and keys the target does not take.

An option that names a variant axis (``amsgrad=True``, ``decay=decoupled``,
``decoupled_weight_decay=True`` for PyTorch, ``eps_root=1e-8`` for optax, ...) is also a
:class:`Claim` on that axis: the fingerprint must detect a value the claim allows, so an
implementation that silently ignores the option fails.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..config import Adam
from ..errors import ConfigError
from ..variants import AXES, Amsgrad, Decay, EpsPlacement, spell
from .protocol import UsageError

#: Keywords the checker sets on every construction (each case's hyperparameters and
#: parameters), in every framework's spelling.
CHECKER_KEYWORDS: frozenset[str] = frozenset(
    {
        "params",
        "lr",
        "learning_rate",
        "beta1",
        "beta2",
        "betas",
        "b1",
        "b2",
        "beta_1",
        "beta_2",
        "eps",
        "epsilon",
        "weight_decay",
        "maximize",
    }
)

#: Keywords of the loader itself, with the command-line flag that sets them.
LOADER_KEYWORDS: dict[str, str] = {
    "target": "TARGET",
    "kind": "--kind",
    "device": "--device",
    "path": "TARGET (torch, torch-foreach, torch-fused)",
}

#: Options each adapter takes itself (besides the constructor's keywords).
ADAPTER_OPTIONS: dict[str, frozenset[str]] = {
    "numpy": frozenset({"backend"}),
    "torch": frozenset(),
    "optax": frozenset({"jit", "claims"}),
    "keras": frozenset({"backend", "floatx", "claims"}),
    "plain": frozenset({"name", "features", "claims"}),
    "mlx": frozenset({"claims"}),
    "tinygrad": frozenset({"claims", "tinygrad_device"}),
    "tensorflow": frozenset({"claims"}),
    "functional": frozenset({"jit", "claims"}),
}


def _shown(options: Mapping[str, Any], key: str) -> str:
    return f"--option {key}={options[key]!r}"


def refuse_reserved(options: Mapping[str, Any]) -> None:
    """Raise :class:`UsageError` for a key the checker or the loader sets itself."""
    for key in options:
        if key in CHECKER_KEYWORDS:
            raise UsageError(
                f"{_shown(options, key)}: {key} is set by the checker for every "
                "case (the case's hyperparameters); it cannot be an option"
            )
        if key in LOADER_KEYWORDS:
            raise UsageError(
                f"{_shown(options, key)}: {key} is not an option; use {LOADER_KEYWORDS[key]}"
            )


def keywords(factory: Callable[..., Any]) -> frozenset[str] | None:
    """The keyword parameters of ``factory`` (None: it takes ``**kwargs``, so any)."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return frozenset(
        p.name
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    )


def numpy_options() -> frozenset[str]:
    """What the built-in ``numpy`` target takes: the variant flags of
    :class:`~adamproofs.config.Adam` and ``backend``."""
    return frozenset(f.name for f in dataclasses.fields(Adam)) - CHECKER_KEYWORDS


def refuse_inapplicable(
    options: Mapping[str, Any],
    target: str,
    kind: str,
    factory: Callable[..., Any] | None,
    extra: frozenset[str] = frozenset(),
) -> None:
    """Raise :class:`UsageError` for an option neither the adapter of ``kind`` nor
    ``factory`` (the constructor it calls, if any) takes."""
    taken = keywords(factory) if factory is not None and kind != "plain" else frozenset()
    if taken is None:
        return  # the constructor takes **kwargs
    allowed = (ADAPTER_OPTIONS[kind] | extra | taken) - CHECKER_KEYWORDS
    for key in options:
        if key not in allowed:
            raise UsageError(
                f"{_shown(options, key)} does not apply to the target {target!r}; "
                "allowed: " + (", ".join(sorted(allowed)) or "no options")
            )


@dataclass(frozen=True)
class Claim:
    """An option's claim: the detected value on ``axis`` must be one of ``allowed``."""

    axis: str
    allowed: frozenset[Any]
    option: str

    def problem(self, detected: list[Any], skipped: str | None) -> str | None:
        """Why the fingerprint contradicts the claim (None: it agrees)."""
        want = ", ".join(sorted(spell(v) for v in self.allowed))
        if skipped:
            return (
                f"{self.axis}: {self.option} claims {want}, but the axis could not be "
                f"probed ({skipped})"
            )
        if detected and not self.allowed & set(detected):
            return f"{self.axis}: {self.option} claims {want}, detected {spell(detected[0])}"
        return None


def _axis_value(axis: str, value: Any) -> frozenset[Any]:
    try:
        return frozenset({AXES[axis].coerce(value)})
    except ConfigError as err:
        raise UsageError(f"--option {axis}={value!r}: {err}") from None


def _amsgrad(value: Any) -> frozenset[Any]:
    if isinstance(value, bool):  # PyTorch's and Keras's spelling: some AMSGrad form, or none
        return frozenset(Amsgrad) if value else frozenset({None})
    return _axis_value("amsgrad", value)


def _flag(true: Any, false: Any) -> Callable[[Any], frozenset[Any]]:
    def parse(value: Any) -> frozenset[Any]:
        return frozenset({true if value else false})

    return parse


#: Option keys that name a variant axis: key -> (axis, the values the option's value allows).
CLAIMING: dict[str, tuple[str, Callable[[Any], frozenset[Any]]]] = {
    "eps_placement": ("eps_placement", lambda v: _axis_value("eps_placement", v)),
    "bias_correction": ("bias_correction", lambda v: _axis_value("bias_correction", v)),
    "amsgrad": ("amsgrad", _amsgrad),
    "decay": ("decay", lambda v: _axis_value("decay", v)),
    "step_scope": ("step_scope", lambda v: _axis_value("step_scope", v)),
    "decoupled_weight_decay": ("decay", _flag(Decay.DECOUPLED, Decay.L2)),
    "eps_root": ("eps_placement", _flag(EpsPlacement.ROOT, EpsPlacement.PAPER)),
}


def claims_of(options: Mapping[str, Any]) -> tuple[Claim, ...]:
    """The claims the options make (see the module docstring)."""
    out = []
    for key, value in options.items():
        if key in CLAIMING:
            axis, parse = CLAIMING[key]
            out.append(Claim(axis, parse(value), _shown(options, key)))
    return tuple(out)
