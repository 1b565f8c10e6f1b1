"""The guaranteed enclosure contains every result of every operation order the model allows.

Each example runs Adam in real NumPy arithmetic of the dtype (float16, bfloat16 via
ml_dtypes, float32, float64), choosing at every step one allowed order for every
operation (coefficients, moments, per-step scalars in the scalar precision, used as such
or rounded, denominator, step), and checks that each θ_t lies in the enclosure computed
from the same θ_{t-1} and gradients. The enclosure also contains the oracle's exact step.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adamproofs import reference
from adamproofs.config import Adam
from adamproofs.dtypes import as_dtype, bfloat16_dtype
from adamproofs.tolerance import _intervals as intervals
from adamproofs.tolerance._enclosure import Enclosure, enclose_steps

pytestmark = pytest.mark.skipif(not intervals.available(), reason="the enclosure needs gmpy2")

DTYPES = ["float16", "float32", "float64"] + (["bfloat16"] if bfloat16_dtype() else [])


def _scalar_dtype(dtype: str) -> str:
    return "float32" if dtype in ("float16", "bfloat16") else dtype


def _rep(x: float, dt: np.dtype, below_one: bool = False) -> float:
    r = float(np.asarray(x).astype(dt).astype(np.float64))
    return (
        float(np.nextafter(np.asarray(1.0, dt), np.asarray(0.0, dt)))
        if (below_one and r >= 1.0)
        else r
    )


class Orders:
    """One draw of every choice of order the model allows."""

    def __init__(self, draw, dtype: str):
        self.draw = draw
        self.dt = as_dtype(dtype)
        self.sd = as_dtype(_scalar_dtype(dtype))

    def pick(self, *options):
        return options[self.draw(st.integers(0, len(options) - 1))]

    def c(self, x) -> np.ndarray:
        return np.asarray(x).astype(self.dt)

    def scalar(self, value_in_s) -> np.ndarray:
        """A per-step scalar computed in the scalar precision, rounded to the dtype or kept."""
        return self.pick(lambda: self.c(value_in_s), lambda: value_in_s)()

    def op(self, f, *xs) -> np.ndarray:
        """f on operands of mixed precision (NumPy promotes), the result rounded to the dtype."""
        return self.c(f(*xs))


def _power(o: Orders, beta: float, t: int) -> np.ndarray:
    b = np.asarray(beta).astype(o.sd)
    if o.pick(True, False):
        return np.asarray(b**t).astype(o.sd)
    out = b
    for _ in range(t - 1):
        out = np.asarray(out * b).astype(o.sd)
    return out


def _coefficient_one_minus(o: Orders, beta: float) -> np.ndarray:
    return o.pick(lambda: o.c(1.0 - beta), lambda: o.c(o.c(1.0) - o.c(beta)))()


def _moment(o: Orders, x, beta: float, target) -> np.ndarray:
    b, c = o.c(beta), _coefficient_one_minus(o, beta)
    form = o.pick("plain", "lerp", "lerp_back" if float(c) >= 0.5 else "lerp")
    if form == "plain":
        return o.c(o.c(b * x) + o.c(c * target))
    if form == "lerp":
        return o.c(x + o.c(c * o.c(target - x)))
    return o.c(target - o.c(o.c(target - x) * o.c(o.c(1.0) - c)))


def _square_term(o: Orders, beta2: float, g) -> np.ndarray:
    c = _coefficient_one_minus(o, beta2)
    return o.pick(lambda: o.c(c * o.c(g * g)), lambda: o.c(o.c(c * g) * g))()


def numpy_adam_step(o: Orders, cfg: Adam, t: int, theta, g, st_: dict) -> np.ndarray:
    """One Adam step in the dtype's arithmetic, every order drawn from ``o``."""
    b1, b2, lr, eps, wd = (
        float(x) for x in (cfg.beta1, cfg.beta2, cfg.lr, cfg.eps, cfg.weight_decay)
    )
    g = o.c(-g if cfg.maximize else g)
    if cfg.has_decay and cfg.decay == "l2":
        g = o.c(g + o.c(o.c(wd) * theta))
    m = _moment(o, st_["m"], b1, g)
    v_plain = o.c(o.c(o.c(b2) * st_["v"]) + _square_term(o, b2, g))
    v = o.pick(lambda: v_plain, lambda: _moment(o, st_["v"], b2, o.c(g * g)))()
    st_["m"], st_["v"] = m, v
    one = np.asarray(1.0, o.sd)
    bc1 = np.asarray(one - _power(o, b1, t), o.sd) if cfg.bias_correction else one
    bc2 = np.asarray(one - _power(o, b2, t), o.sd) if cfg.bias_correction else one
    sqrt_bc2 = np.sqrt(bc2)
    if cfg.amsgrad == "max_raw":
        st_["vmax"] = np.maximum(st_["vmax"], v)
        raw = st_["vmax"]
        corrected = o.op(np.divide, raw, o.scalar(bc2))
    elif cfg.amsgrad == "max_corrected":
        st_["vmax"] = np.maximum(st_["vmax"], o.op(np.divide, v, o.scalar(bc2)))
        corrected = st_["vmax"]
        raw = o.op(np.multiply, corrected, o.scalar(bc2))
    else:
        raw, corrected = v, o.op(np.divide, v, o.scalar(bc2))
    e = o.c(eps)
    if cfg.eps_placement == "paper":
        den = o.pick(
            lambda: o.c(o.op(np.divide, o.c(np.sqrt(raw)), o.scalar(sqrt_bc2)) + e),
            lambda: o.c(o.c(np.sqrt(corrected)) + e),
        )()
    elif cfg.eps_placement == "root":
        den = o.c(np.sqrt(o.c(corrected + e)))
    else:
        den = o.c(o.c(np.sqrt(raw)) + e)
    if cfg.eps_placement == "hat":
        scale = o.pick(
            lambda: np.asarray(np.asarray(lr, o.sd) * sqrt_bc2 / bc1, o.sd),
            lambda: np.asarray(np.asarray(lr, o.sd) * (sqrt_bc2 / bc1), o.sd),
        )()
    else:
        scale = np.asarray(np.asarray(lr, o.sd) / bc1, o.sd)
    with np.errstate(all="ignore"):
        q = np.where(m == 0, o.c(0.0), o.c(m / den))
        orders = [
            lambda: o.op(np.multiply, o.scalar(scale), q),
            lambda: o.c(np.where(m == 0, 0.0, o.op(np.multiply, o.scalar(scale), m) / den)),
        ]
        if cfg.eps_placement != "hat":
            orders.append(
                lambda: o.op(
                    np.multiply,
                    o.c(lr),
                    np.where(m == 0, o.c(0.0), o.c(o.op(np.divide, m, o.scalar(bc1)) / den)),
                )
            )
        delta = o.c(o.pick(*orders)())
    if cfg.has_decay and cfg.decay == "decoupled":
        theta = o.c(theta * o.c(1.0 - lr * wd))
    theta = o.c(theta - delta)
    if cfg.has_decay and cfg.decay == "decoupled_after":
        theta = o.c(theta * o.c(1.0 - lr * wd))
    return theta


@st.composite
def configs(draw, dtype: str) -> Adam:
    dt = as_dtype(dtype)
    return Adam(
        lr=_rep(draw(st.sampled_from([1e-3, 1e-2, 0.1])), dt),
        beta1=_rep(draw(st.sampled_from([0.0, 0.5, 0.9])), dt, True),
        beta2=_rep(draw(st.sampled_from([0.9, 0.99, 0.999])), dt, True),
        eps=_rep(draw(st.sampled_from([0.0, 1e-8, 1e-3])), dt),
        eps_placement=draw(st.sampled_from(["paper", "hat", "root"])),
        bias_correction=draw(st.booleans()),
        amsgrad=draw(st.sampled_from([None, "max_raw", "max_corrected"])),
        weight_decay=_rep(draw(st.sampled_from([0.0, 0.1])), dt),
        decay=draw(st.sampled_from(["l2", "decoupled", "decoupled_after"])),
        maximize=draw(st.booleans()),
    )


@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_enclosure_contains_every_allowed_order(dtype, data):
    dt = as_dtype(dtype)
    cfg = data.draw(configs(dtype))
    n = data.draw(st.integers(1, 3))
    steps = data.draw(st.integers(1, 8))
    exponent = data.draw(st.floats(-4, 3))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    theta = (rng.normal(size=n) * 2).astype(dt)
    grads = (rng.normal(size=(steps, n)) * 10.0**exponent).astype(dt)
    o = Orders(data.draw, dtype)
    zero = np.zeros(n, dt)
    state = {"m": zero.copy(), "v": zero.copy(), "vmax": zero.copy()}
    before, after = [], []
    for k in range(steps):
        before.append(theta.astype(np.float64))
        with np.errstate(all="ignore"):
            theta = numpy_adam_step(o, cfg, k + 1, theta, grads[k], state)
        after.append(theta.astype(np.float64))
    lo, hi = enclose_steps(
        cfg,
        np.array(before),
        grads.astype(np.float64),
        list(range(1, steps + 1)),
        compute_dtype=dtype,
        scalar_dtype=_scalar_dtype(dtype),
    )
    got = np.array(after)
    finite = np.isfinite(got)
    assert np.all((lo <= got) | ~finite) and np.all((got <= hi) | ~finite), (
        f"{cfg} {dtype}: {got} not in [{lo}, {hi}]"
    )
    # ±inf only where the enclosure is unbounded on that side; NaN (∞ − ∞ after an
    # overflow) is no value: the replay fails it wherever the exact value is finite
    assert np.all(np.where(got == np.inf, hi == np.inf, True))
    assert np.all(np.where(got == -np.inf, lo == -np.inf, True))


@pytest.mark.parametrize("dtype", DTYPES)
def test_enclosure_contains_the_exact_step_and_is_narrow_where_first_order_applies(dtype):
    from adamproofs.tolerance import local_error_bound

    dt = as_dtype(dtype)
    rng = np.random.default_rng(7)
    cfg = Adam(
        lr=_rep(1e-2, dt),
        beta1=_rep(0.9, dt, True),
        beta2=_rep(0.999, dt, True),
        eps=_rep(1e-3, dt),
    )
    theta0 = rng.normal(size=4).astype(dt).astype(np.float64)
    grads = rng.normal(size=(12, 4)).astype(dt).astype(np.float64)
    exact = reference.run(cfg, theta0, grads).to_numpy("float64")
    sd = _scalar_dtype(dtype)
    lo, hi = enclose_steps(
        cfg, exact["theta"][:-1], grads, list(range(1, 13)), compute_dtype=dtype, scalar_dtype=sd
    )
    th = exact["theta"][1:]
    assert np.all((lo <= th) & (th <= hi))
    first = local_error_bound(cfg, exact, compute_dtype=dtype, scalar_dtype=sd)
    assert np.all(np.isfinite(first))
    # consistent: both contain the exact value; the enclosure (one ulp per operation,
    # outward) is within a small factor of the first-order bound (half an ulp each)
    half = np.maximum(hi - th, th - lo)
    assert np.all(half <= 8 * first)


def test_coordinates_are_independent_and_computed_on_demand():
    cfg = Adam(lr=0.01)
    before = np.array([[1.0, -2.0], [0.99, -1.99]])
    grads = np.array([[0.5, -0.25], [0.4, 0.1]])
    enc = Enclosure(cfg, before, grads, [1, 2], compute_dtype="float32")
    late = enc.at(1, 1)
    assert 0 not in enc._runs and len(enc._runs[1][1]) == 2
    lo, hi = enclose_steps(cfg, before, grads, [1, 2], compute_dtype="float32")
    assert (lo[1, 1], hi[1, 1]) == late
    assert all(math.isfinite(x) for x in late)
