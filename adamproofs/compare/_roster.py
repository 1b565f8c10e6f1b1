"""The optimizers compared, built from :mod:`adamproofs.config` (no update rule lives here).

Every entry maps a short key to a label, a fixed colour (the same in every figure)
and a factory ``lr -> config``. Hyperparameters other than the learning rate are
the foundation's defaults (the papers' defaults): momentum μ = 0.9, RMSProp
ρ = 0.99, ε as configured, Adam β1 = 0.9, β2 = 0.999, ε = 1e-8, AdaMax
β1 = 0.9, β2 = 0.999. AMSGrad is Adam with ``amsgrad="max_raw"`` (PyTorch's form).

Learning-rate sweeps (the Adam paper picks each optimizer's best rate from a grid):
a problem names a grid of half-decades, e.g. 1e-3, 3e-3, ..., 1, per optimizer or for
all, and a three-point grid for ``--quick``. The full sweep widens a grid whose best rate
sits at an end (:mod:`.lrsearch`); ``--quick`` reports such an edge instead of widening.
Users' optimizers (``plugin:module:attr`` keys) get every rate of the problem's grids.
The best rate is the one with the lowest mean over
seeds of the loss averaged over the second half of the run (so a rate that is lucky at
the last step, or recovers only at the end, is not preferred); a run that diverges
scores +inf. Tables report the final loss (mean of the last 10 % of recorded values).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..config import SGD, AdaGrad, Adam, AdaMax, Momentum, Nesterov, OptimizerConfig, RMSProp
from ..variants import Amsgrad


@dataclass(frozen=True)
class Entry:
    """One compared optimizer: display label, colour, and ``lr -> config`` (``None`` for a
    user's optimizer, which the runner loads through the adapter protocol)."""

    key: str
    label: str
    color: str
    make: Callable[[float], OptimizerConfig] | None

    def config(self, lr: float) -> OptimizerConfig:
        """The configuration at rate ``lr`` (built-in optimizers only)."""
        if self.make is None:
            raise ValueError(f"{self.key!r} is a user's optimizer; it has no built-in config")
        return self.make(lr)


def _sgd(lr: float) -> OptimizerConfig:
    return SGD(lr=lr)


def _momentum(lr: float) -> OptimizerConfig:
    return Momentum(lr=lr, momentum=0.9)


def _nesterov(lr: float) -> OptimizerConfig:
    return Nesterov(lr=lr, momentum=0.9)


def _adagrad(lr: float) -> OptimizerConfig:
    return AdaGrad(lr=lr)


def _rmsprop(lr: float) -> OptimizerConfig:
    return RMSProp(lr=lr)


def _adam(lr: float) -> OptimizerConfig:
    return Adam(lr=lr)


def _adamax(lr: float) -> OptimizerConfig:
    return AdaMax(lr=lr)


def _amsgrad(lr: float) -> OptimizerConfig:
    return Adam(lr=lr, amsgrad=Amsgrad.MAX_RAW)


ROSTER: dict[str, Entry] = {
    e.key: e
    for e in (
        Entry("sgd", "GD / SGD", "#7f7f7f", _sgd),
        Entry("momentum", "Momentum (μ=0.9)", "#1f77b4", _momentum),
        Entry("nesterov", "Nesterov (μ=0.9)", "#17becf", _nesterov),
        Entry("adagrad", "AdaGrad", "#2ca02c", _adagrad),
        Entry("rmsprop", "RMSProp (ρ=0.99)", "#9467bd", _rmsprop),
        Entry("adam", "Adam", "#d62728", _adam),
        Entry("adamax", "AdaMax", "#ff7f0e", _adamax),
        Entry("amsgrad", "AMSGrad", "#8c564b", _amsgrad),
    )
}

#: The six drawn on the 2-D contour pictures.
CLASSIC = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
#: Everything in the roster.
ALL = tuple(ROSTER)


#: Key prefix of a user's optimizer: ``"plugin:module.path:attr"``.
PLUGIN_PREFIX = "plugin:"
PLUGIN_COLOR = "#000000"


def plugin_key(target: str) -> str:
    """The roster key of a user's optimizer ``module.path:attr`` (checked for its form)."""
    module, _, attr = target.partition(":")
    if not module or not attr:
        raise ValueError(f"--optimizer {target!r} is not of the form module.path:attr")
    return PLUGIN_PREFIX + target


def plugin_target(key: str) -> str | None:
    """``module.path:attr`` for a plugin key, ``None`` for a built-in one."""
    return key[len(PLUGIN_PREFIX) :] if key.startswith(PLUGIN_PREFIX) else None


def entry(key: str) -> Entry:
    """The roster entry for ``key`` (a clear error for an unknown one)."""
    target = plugin_target(key)
    if target is not None:
        return Entry(key, target.rsplit(":", 1)[1].rsplit(".", 1)[-1], PLUGIN_COLOR, None)
    if key not in ROSTER:
        raise KeyError(f"optimizer {key!r} is not one of {tuple(ROSTER)!r}")
    return ROSTER[key]


def half_decades(low_exp: int, high_exp: int) -> tuple[float, ...]:
    """The grid 1e{low}, 3e{low}, ..., 1e{high} (values rounded to 1 significant digit)."""
    out: list[float] = []
    for e in range(low_exp, high_exp + 1):
        out.append(float(f"1e{e}"))
        if e < high_exp:
            out.append(float(f"3e{e}"))
    return tuple(out)
