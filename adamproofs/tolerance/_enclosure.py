r"""A guaranteed enclosure of every result the error model allows, step by step (Adam).

Where the first-order model of :mod:`adamproofs.tolerance._first_order` declares itself
invalid (underflow, cancellation, half precision) or would fail a step, this decides:
for each step and coordinate it returns an interval of format values that contains
every θ_t a correct implementation can compute from the same θ_{t-1} and gradients,
in interval arithmetic rounded outward to the compute format
(:mod:`adamproofs.tolerance._intervals`), taking the hull over the allowed orders:

- coefficients: β, 1 − β, α, ε, λ rounded to the format from the exact value, and 1 − β
  also computed from the rounded β;
- moments: :math:`\beta m + (1-\beta) g` (``(1−β)·g·g`` in either order) and the lerp form
  :math:`m + (1-\beta)(g - m)`;
- per-step scalars in the scalar format: :math:`\beta^t` by ``pow`` or by repeated
  multiplication, :math:`1-\beta^t`, its square root, :math:`\alpha/(1-\beta_1^t)`,
  :math:`\alpha\sqrt{1-\beta_2^t}/(1-\beta_1^t)`, used as such or rounded to the format;
- denominator: :math:`\sqrt{v}/\sqrt{1-\beta_2^t} + \epsilon` and
  :math:`\sqrt{v/(1-\beta_2^t)} + \epsilon` (ε inside the root for ``root``, the raw
  :math:`\sqrt v + \hat\epsilon` for ``hat``);
- step: :math:`s\,(m/D)`, :math:`(s\,m)/D` and :math:`\alpha\,((m/(1-\beta_1^t))/D)`.

The state the implementation carries (m, v, max v) is itself an interval, propagated
from zero at step 1 along the implementation's own θ (L2 decay reads it). The lerp form
uses m twice; it is enclosed as the exact lerp over the interval's corners plus its
rounding (two relative roundings of :math:`(1-\beta)(g-m)` and an absolute η), so the
interval does not grow by the dependency. The exact oracle value always lies inside.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from ..config import Adam
from ..variants import Amsgrad, Decay, EpsPlacement
from ._intervals import (
    Iv,
    Outward,
    ends,
    gmpy2,
    highest,
    hull,
    lowest,
    maximum,
    outward,
    safe,
)

if sys.version_info >= (3, 11):
    from typing import assert_never
else:  # pragma: no cover - Python 3.10
    from typing_extensions import assert_never

#: Precision (bits) of the auxiliary arithmetic that encloses the lerp's exact value.
WIDE_BITS = 256


@dataclass(frozen=True)
class Scalars:
    """The per-step scalars as intervals of the compute format (hull of S and F)."""

    bc1: Iv
    bc2: Iv
    sqrt_bc2: Iv
    scale: Iv  # α/(1−β1^t), or α_t for ε-hat


@dataclass(frozen=True)
class Coefficients:
    """The hyperparameters as intervals of the compute format."""

    b1: Iv
    c1: Iv
    b2: Iv
    c2: Iv
    lr: Iv
    eps: Iv
    wd: Iv
    shrink: Iv  # 1 − αλ


def coefficients(cfg: Adam, F: Outward) -> Coefficients:
    """Each hyperparameter rounded to the format (the interval also holds the exact value);
    1 − β and 1 − αλ from the exact values or from the rounded ones."""
    one = F.point(1.0)
    b1, b2, lr, wd = (F.point(float(x)) for x in (cfg.beta1, cfg.beta2, cfg.lr, cfg.weight_decay))
    return Coefficients(
        b1=b1,
        c1=F.sub(one, b1),
        b2=b2,
        c2=F.sub(one, b2),
        lr=lr,
        eps=F.point(float(cfg.eps)),
        wd=wd,
        shrink=F.sub(one, F.mul(lr, wd)),
    )


def powers(S: Outward, beta: float, t_max: int) -> list[Iv]:
    """β^t for t = 0..t_max by repeated multiplication of the rounded β (each contains the
    exact power and any faithful ``pow``, whose result is one of its two neighbours)."""
    b = S.point(beta)
    out = [S.point(1.0), b]
    for _ in range(t_max - 1):
        out.append(S.mul(out[-1], b))
    return out


def scalars(cfg: Adam, t: int, F: Outward, S: Outward, pw: tuple[list[Iv], list[Iv]]) -> Scalars:
    """1 − β^t, √(1 − β2^t) and the step scale in the scalar format, widened to the format
    (``pw``: the powers of β1 and β2 from :func:`powers`)."""
    one = S.point(1.0)
    lr = S.point(float(cfg.lr))
    if cfg.bias_correction:
        bc1 = S.sub(one, pw[0][t])
        bc2 = S.sub(one, pw[1][t])
    else:
        bc1 = bc2 = one
    sqrt_bc2 = S.sqrt(bc2)
    placement = cfg.eps_placement
    match placement:
        case EpsPlacement.PAPER | EpsPlacement.ROOT:
            scale = S.div(lr, bc1)
        case EpsPlacement.HAT:
            scale = hull(S.div(S.mul(lr, sqrt_bc2), bc1), S.mul(lr, S.div(sqrt_bc2, bc1)))
        case _:
            assert_never(placement)
    return Scalars(
        bc1=F.widen(bc1), bc2=F.widen(bc2), sqrt_bc2=F.widen(sqrt_bc2), scale=F.widen(scale)
    )


def _lerp(F: Outward, W: Outward, x: Iv, c: Iv, target: Iv) -> Iv:
    r"""Every computed :math:`x + c\,(y - x)` for x ∈ ``x``, c ∈ ``c`` (c ≥ 0), y ∈ ``target``.

    The exact value is multilinear, so its range is spanned by the corners (each enclosed
    by directed rounding in the wide arithmetic ``W``); the two roundings inside add at
    most :math:`c\,|y-x|(2u+u^2)` plus η, and the last one is outward.
    """
    down, up = W.down, W.up
    lows, highs, spreads = [], [], [gmpy2.mpfr(0)]
    for xv in ends(x):
        for yv in ends(target):
            d_lo, d_hi = down.sub(yv, xv), up.sub(yv, xv)  # NaN for ∞ − ∞
            spreads += [abs(d_lo), abs(d_hi)]
            for cv in ends(c):
                lows.append(down.add(xv, down.mul(cv, d_lo)))
                highs.append(up.add(xv, up.mul(cv, d_hi)))
    spread = highest(spreads)
    if spread == 0:  # y = x: the product is exactly 0, nothing rounds
        return F.widen((lowest(lows), highest(highs)))
    slack = up.add(up.mul(up.mul(c[1], spread), F.lerp_rounding), F.eta)
    return F.widen(safe(down.sub(lowest(lows), slack), up.add(highest(highs), slack)))


def _both_lerps(F: Outward, W: Outward, x: Iv, c: Iv, beta: Iv, target: Iv) -> Iv:
    """x + c(y − x), and, for weights c ≥ ½, y − (1 − c)(y − x) (PyTorch's lerp there)."""
    first = _lerp(F, W, x, c, target)
    if c[1] < 0.5:
        return first
    return hull(first, _lerp(F, W, target, hull(beta, F.sub(F.point(1.0), c)), x))


def _first_moment(F: Outward, W: Outward, k: Coefficients, m: Iv, g: Iv) -> Iv:
    plain = F.add(F.mul(k.b1, m), F.mul(k.c1, g))
    return hull(plain, _both_lerps(F, W, m, k.c1, k.b1, g))


def _second_moment(F: Outward, W: Outward, k: Coefficients, v: Iv, g: Iv) -> Iv:
    square = F.mul(g, g) if g[0] >= 0 or g[1] <= 0 else (gmpy2.mpfr(0), F.mul(g, g)[1])
    new = hull(F.mul(k.c2, square), F.mul(F.mul(k.c2, g), g))
    plain = F.add(F.mul(k.b2, v), new)
    return hull(plain, _both_lerps(F, W, v, k.c2, k.b2, square))


def _moments_in_denominator(
    cfg: Adam, F: Outward, v: Iv, vmax: Iv, s: Scalars
) -> tuple[Iv, Iv, Iv]:
    """(raw v, corrected v̂, new state max) for the AMSGrad form (max unused without it)."""
    form = cfg.amsgrad
    match form:
        case None:
            return v, F.div(v, s.bc2), vmax
        case Amsgrad.MAX_RAW:
            raw = maximum(vmax, v)
            return raw, F.div(raw, s.bc2), raw
        case Amsgrad.MAX_CORRECTED:
            corrected = maximum(vmax, F.div(v, s.bc2))
            return F.mul(corrected, s.bc2), corrected, corrected
        case Amsgrad.MAX_UNCORRECTED:
            corrected = maximum(vmax, v)
            return F.mul(corrected, s.bc2), corrected, corrected
        case _:
            assert_never(form)


def _denominator(cfg: Adam, F: Outward, k: Coefficients, raw: Iv, corrected: Iv, s: Scalars) -> Iv:
    placement = cfg.eps_placement
    match placement:
        case EpsPlacement.PAPER:
            return hull(
                F.add(F.div(F.sqrt(raw), s.sqrt_bc2), k.eps), F.add(F.sqrt(corrected), k.eps)
            )
        case EpsPlacement.ROOT:
            return F.sqrt(F.add(corrected, k.eps))
        case EpsPlacement.HAT:
            return F.add(F.sqrt(raw), k.eps)
        case _:
            assert_never(placement)


def _step(cfg: Adam, F: Outward, k: Coefficients, m: Iv, den: Iv, s: Scalars) -> Iv:
    orders = [F.mul(s.scale, F.div(m, den)), F.div(F.mul(s.scale, m), den)]
    if cfg.eps_placement != EpsPlacement.HAT:
        orders.append(F.mul(k.lr, F.div(F.div(m, s.bc1), den)))
    return hull(*orders)


def _update(cfg: Adam, F: Outward, k: Coefficients, theta: Iv, delta: Iv) -> Iv:
    if not cfg.has_decay:
        return F.sub(theta, delta)
    decay = cfg.decay
    match decay:
        case Decay.L2:
            return F.sub(theta, delta)
        case Decay.DECOUPLED:
            return F.sub(F.mul(theta, k.shrink), delta)
        case Decay.DECOUPLED_AFTER:
            return F.mul(F.sub(theta, delta), k.shrink)
        case _:
            assert_never(decay)


def _gradient(cfg: Adam, F: Outward, k: Coefficients, theta: Iv, g: float) -> Iv:
    grad = F.point(-g if cfg.maximize else g)
    if cfg.has_decay and cfg.decay == Decay.L2:
        return F.add(grad, F.mul(k.wd, theta))
    return grad


@dataclass
class State:
    """The implementation's state, enclosed: one interval per coordinate."""

    m: list[Iv]
    v: list[Iv]
    vmax: list[Iv]


class Enclosure:
    """Enclosures of θ_t for each replayed step, computed per coordinate on demand.

    ``theta_before[j]`` is the θ step ``j`` starts from (the implementation's own),
    ``grads[j]`` its gradient and ``ts[j]`` its step number; the state starts at zero
    before the first row. Coordinates are independent, so each is run forward only as far
    as it is asked for. Endpoints are floats (±inf where the format may overflow or the
    denominator may round to 0).
    """

    def __init__(
        self,
        cfg: Adam,
        theta_before: np.ndarray,
        grads: np.ndarray,
        ts: list[int],
        *,
        compute_dtype: str,
        scalar_dtype: str | None = None,
        param_dtype: str | None = None,
    ) -> None:
        self.cfg = cfg
        self.theta_before = np.asarray(theta_before, dtype=np.float64)
        self.grads = np.asarray(grads, dtype=np.float64)
        self.ts = list(ts)
        self.F = outward(compute_dtype)
        self.S = outward(scalar_dtype or compute_dtype)
        self.P = outward(param_dtype) if param_dtype is not None else self.F
        self.W = _wide()
        self.k = coefficients(cfg, self.F)
        t_max = max(self.ts, default=0)
        self._pw = (
            powers(self.S, float(cfg.beta1), t_max),
            powers(self.S, float(cfg.beta2), t_max),
        )
        self._scalars: dict[int, Scalars] = {}
        self._runs: dict[int, tuple[State, list[tuple[float, float]]]] = {}

    def scalars_at(self, j: int) -> Scalars:
        if j not in self._scalars:
            self._scalars[j] = scalars(self.cfg, self.ts[j], self.F, self.S, self._pw)
        return self._scalars[j]

    def at(self, j: int, i: int) -> tuple[float, float]:
        """The enclosure of coordinate ``i`` of θ after replayed step ``j``."""
        zero = (gmpy2.mpfr(0), gmpy2.mpfr(0))
        state, boxes = self._runs.setdefault(i, (State([zero], [zero], [zero]), []))
        while len(boxes) <= j:
            k = len(boxes)
            box = self.P.widen(
                _one(
                    self.cfg,
                    self.F,
                    self.W,
                    self.k,
                    self.scalars_at(k),
                    state,
                    0,
                    float(self.theta_before[k, i]),
                    float(self.grads[k, i]),
                )
            )
            boxes.append((float(box[0]), float(box[1])))
        return boxes[j]


def enclose_steps(
    cfg: Adam,
    theta_before: np.ndarray,
    grads: np.ndarray,
    ts: list[int],
    *,
    compute_dtype: str,
    scalar_dtype: str | None = None,
    param_dtype: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Every step's enclosure ``(lo, hi)``, shape ``(S, n)`` (see :class:`Enclosure`)."""
    enc = Enclosure(
        cfg,
        theta_before,
        grads,
        ts,
        compute_dtype=compute_dtype,
        scalar_dtype=scalar_dtype,
        param_dtype=param_dtype,
    )
    shape = enc.theta_before.shape
    lo, hi = np.zeros(shape), np.zeros(shape)
    for i in range(shape[1] if len(shape) == 2 else 0):
        for j in range(shape[0]):
            lo[j, i], hi[j, i] = enc.at(j, i)
    return lo, hi


def _one(
    cfg: Adam,
    F: Outward,
    W: Outward,
    k: Coefficients,
    s: Scalars,
    state: State,
    i: int,
    theta: float,
    g: float,
) -> Iv:
    """One coordinate's step: updates ``state`` in place, returns θ_t's enclosure."""
    th = F.point(theta)
    grad = _gradient(cfg, F, k, th, g)
    m = _first_moment(F, W, k, state.m[i], grad)
    v = _second_moment(F, W, k, state.v[i], grad)
    raw, corrected, vmax = _moments_in_denominator(cfg, F, v, state.vmax[i], s)
    state.m[i], state.v[i], state.vmax[i] = m, v, vmax
    den = _denominator(cfg, F, k, raw, corrected, s)
    return _update(cfg, F, k, th, _step(cfg, F, k, m, den, s))


def _wide() -> Outward:
    """A wide auxiliary arithmetic (WIDE_BITS bits, unbounded exponents) for exact lerps."""
    common = {"precision": WIDE_BITS, "allow_complex": False}
    return Outward(
        "wide",
        gmpy2.context(round=gmpy2.RoundDown, **common),
        gmpy2.context(round=gmpy2.RoundUp, **common),
    )
