r"""The conformance matrix: check every installed framework's Adam, write JSON and Markdown.

    python -m adamproofs.conformance.matrix --out DIR [--targets numpy,optax] [--seeds 3]

For each target (``numpy``, ``torch``, ``torch-foreach``, ``torch-fused``, ``optax``,
``keras`` and a few named variants such as ``optax:adamw``) it runs one check in
its own subprocess, so that process-wide framework settings (JAX's 64-bit mode,
Keras's backend) cannot leak from one target into the next, collects the JSON
reports and writes ``conformance-matrix.json`` and ``conformance-matrix.md`` into
``DIR``. A framework that is not installed is listed as ``"not installed"``.

The check is ``adamproofs check TARGET --json PATH`` when the conformance engine
is available, and otherwise this module's own probe (``--probe-one TARGET``):

- fingerprint each variant axis with a decisive probe, in float64 where the target
  supports it: ε placement and bias correction (|g| ≈ ε for 4 steps), AMSGrad
  flavour (g = 1 then 10⁻³), decay form (λ > 0, large αλ), step-counter scope
  (a parameter whose first gradient arrives at step 3). A candidate variant matches
  when every |θ_impl − θ_ref| is within the error bound of :mod:`adamproofs.tolerance`;
- agreement: seeded random problems per dtype against the reference of the
  detected variant; the worst error in ulps and the worst ratio error/bound.

Verdict: ``conforms`` when every axis matches a known variant, the detected variant
agrees with the target's claims, and every agreement run stays within its bound.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import reference
from ..config import Adam
from ..dtypes import as_dtype
from ..tolerance import error_bound, error_in_ulps
from .protocol import Hyper, Implementation, TargetError

#: Matrix schema version (bump on incompatible changes of the JSON layout).
SCHEMA_VERSION = 1

#: target -> (module that must be importable, how to build it in-process for the probe)
TARGETS: dict[str, tuple[str, tuple[str, dict[str, Any]]]] = {
    "numpy": ("numpy", ("numpy", {})),
    "torch": ("torch", ("torch", {"path": "torch"})),
    "torch-foreach": ("torch", ("torch", {"path": "torch-foreach"})),
    "torch-fused": ("torch", ("torch", {"path": "torch-fused"})),
    "torch:AdamW": ("torch", ("torch", {"path": "torch", "decoupled_weight_decay": True})),
    "torch:amsgrad": ("torch", ("torch", {"path": "torch", "amsgrad": True})),
    "optax": ("optax", ("optax", {"alias": "adam"})),
    "optax:adamw": ("optax", ("optax", {"alias": "adamw"})),
    "optax:amsgrad": ("optax", ("optax", {"alias": "amsgrad"})),
    "keras": ("keras", ("keras", {"optimizer": "Adam"})),
    "keras:AdamW": ("keras", ("keras", {"optimizer": "AdamW"})),
    "keras:amsgrad": ("keras", ("keras", {"optimizer": "Adam", "amsgrad": True})),
}
DEFAULT_TARGETS: tuple[str, ...] = tuple(TARGETS)

#: Axes reported, in order.
AXES: tuple[str, ...] = ("eps_placement", "bias_correction", "amsgrad", "decay", "step_scope")


def log(message: str) -> None:
    """Progress, on stderr."""
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# The probe (used when the conformance engine is not available)
# ---------------------------------------------------------------------------------------

def build_implementation(target: str) -> Implementation:
    """The implementation of a matrix target, built in this process by its adapter."""
    if target not in TARGETS:
        raise TargetError(f"target={target!r} is not one of {tuple(TARGETS)}")
    kind, options = TARGETS[target][1]
    module = importlib.import_module(f"{__package__}.adapters.{kind}")
    return module.make_implementation(None, **options)


def _trajectory(impl: Implementation, hyper: Hyper, theta0: list[np.ndarray],
                grads: list[list[np.ndarray | None]], dtype: np.dtype) -> list[np.ndarray]:
    """θ of every parameter after every step: a list (per parameter) of (T+1, *shape)."""
    session = impl.create(hyper, [np.array(p, dtype=dtype) for p in theta0], dtype)
    rows = [session.params()]
    for g in grads:
        session.step([None if x is None else np.array(x, dtype=dtype) for x in g])
        rows.append(session.params())
    return [np.stack([np.asarray(r[i], dtype=np.float64) for r in rows])
            for i in range(len(theta0))]


def _config(hyper: Hyper, axes: dict[str, Any]) -> Adam:
    fields = {k: v for k, v in axes.items() if k in ("eps_placement", "bias_correction",
                                                       "amsgrad", "decay")}
    return Adam(lr=hyper.lr, beta1=hyper.beta1, beta2=hyper.beta2, eps=hyper.eps,
                weight_decay=hyper.weight_decay, **fields)


def _reference(cfg: Adam, theta0: np.ndarray, grads: Sequence[np.ndarray], t0: int = 0
               ) -> dict[str, np.ndarray]:
    state0 = None
    if t0:
        state0 = {name: np.zeros(theta0.size) for name in cfg.active_state}
    traj = reference.run(cfg, theta0, list(grads), dps=40, state0=state0, t0=t0)
    return traj.to_numpy("float64")


def _within(cfg: Adam, exact: dict[str, np.ndarray], actual: np.ndarray,
            dtype: np.dtype) -> tuple[float, bool]:
    """(max |actual − exact| / bound, judged) over the trajectory; ≤ 1 is inside the model.

    The per-step scalars 1 − β^t are assumed computed at least in float32 (the error
    model is void for β^t computed in float16/bfloat16 with β near 1). ``judged`` is
    False where the error model declares its bound invalid (inf) for part of the run.
    A non-finite θ where the exact θ is finite is infinitely wrong.
    """
    scalar = dtype.name if dtype.itemsize >= 4 else "float32"
    bound = error_bound(cfg, exact, compute_dtype=dtype.name, scalar_dtype=scalar)
    finite_exact = np.isfinite(exact["theta"])
    if not np.all(np.isfinite(actual[finite_exact])):
        return math.inf, True
    valid = np.isfinite(bound.theta) & finite_exact
    ratio = bound.excess(actual, exact["theta"])[valid]
    return (float(np.max(ratio)) if ratio.size else 0.0), bool(valid.all())


def _match(candidates: dict[str, Adam], theta0: np.ndarray, grads: list[np.ndarray],
           actual: np.ndarray, dtype: np.dtype) -> tuple[str | None, dict[str, float]]:
    """The candidate whose reference trajectory bounds ``actual`` (ratios for all of them)."""
    ratios = {}
    for label, cfg in candidates.items():
        ratios[label] = _within(cfg, _reference(cfg, theta0, grads), actual, dtype)[0]
    best = min(ratios, key=lambda k: ratios[k])
    return (best if ratios[best] <= 1.0 else None), ratios


def _probe_dtype(impl: Implementation) -> np.dtype:
    return np.dtype("float64" if "float64" in impl.features else "float32")


def fingerprint(impl: Implementation) -> dict[str, dict[str, Any]]:
    """Detected variant per axis: ``{axis: {"value": ..., "ratios": {...}}}``.

    ``value`` is None when no known variant explains the behaviour, and
    ``"not tested"`` when the implementation lacks the feature the probe needs.
    """
    dtype = _probe_dtype(impl)
    out: dict[str, dict[str, Any]] = {}
    # ε placement and bias correction: |g| ≈ ε, so ε's placement decides the step.
    hyper = Hyper(lr=0.5, beta1=0.875, beta2=0.9990234375, eps=2.0**-20)
    theta0 = np.array([0.0, 0.25, -0.5])
    grads = [np.array([2.0**-20, -3 * 2.0**-21, 2.0**-19]) * (1 + k) for k in range(4)]
    actual = _trajectory(impl, hyper, [theta0], [[g] for g in grads], dtype)[0]
    eps_candidates = {
        "paper": _config(hyper, {"eps_placement": "paper"}),
        "hat": _config(hyper, {"eps_placement": "hat"}),
        "root": _config(hyper, {"eps_placement": "root"}),
        "no_bias_correction": _config(hyper, {"bias_correction": False}),
    }
    best, ratios = _match(eps_candidates, theta0, grads, actual, dtype)
    out["eps_placement"] = {"value": None if best is None else
                            ("paper" if best == "no_bias_correction" else best), "ratios": ratios}
    out["bias_correction"] = {"value": None if best is None else best != "no_bias_correction",
                              "ratios": ratios}
    base = {"eps_placement": out["eps_placement"]["value"] or "paper",
            "bias_correction": bool(out["bias_correction"]["value"] in (True, None))}
    # AMSGrad flavour: a large gradient then small ones (the max keeps the early v).
    hyper = Hyper(lr=0.125, beta1=0.875, beta2=0.9990234375, eps=2.0**-30)
    theta0 = np.array([0.0, 1.0])
    grads = [np.array([1.0, -2.0])] + [np.array([2.0**-10, -(2.0**-10)])] * 5
    actual = _trajectory(impl, hyper, [theta0], [[g] for g in grads], dtype)[0]
    ams = {str(form): _config(hyper, {**base, "amsgrad": form})
           for form in (None, "max_raw", "max_corrected", "max_uncorrected")}
    best, ratios = _match(ams, theta0, grads, actual, dtype)
    out["amsgrad"] = {"value": None if best is None else (None if best == "None" else best),
                      "matched": best is not None, "ratios": ratios}
    # Decay form: λ > 0 with a large αλ separates L2, decoupled-before and -after.
    if "weight_decay" in impl.features:
        hyper = Hyper(lr=0.125, beta1=0.875, beta2=0.9990234375, eps=2.0**-30,
                      weight_decay=0.5)
        theta0 = np.array([2.0, -1.0, 0.5])
        grads = [np.array([0.375, 0.25, -0.125])] * 3
        actual = _trajectory(impl, hyper, [theta0], [[g] for g in grads], dtype)[0]
        decays = {form: _config(hyper, {**base, "decay": form})
                  for form in ("l2", "decoupled", "decoupled_after")}
        best, ratios = _match(decays, theta0, grads, actual, dtype)
        out["decay"] = {"value": best, "ratios": ratios}
    else:
        out["decay"] = {"value": "not tested"}
    # Step-counter scope: parameter b gets its first gradient at step 3.
    if "skip" in impl.features:
        hyper = Hyper(lr=0.125, beta1=0.875, beta2=0.9990234375, eps=2.0**-30)
        a0, b0 = np.array([1.0]), np.array([-1.0, 0.5])
        ga, gb = np.array([0.5]), np.array([0.25, -0.75])
        steps = [[ga, None], [ga, None], [ga, gb], [ga, gb]]
        actual = _trajectory(impl, hyper, [a0, b0], steps, dtype)[1][2:]
        cfg = _config(hyper, base)
        per_param = _reference(cfg, b0, [gb, gb])
        shared = _reference(cfg, b0, [gb, gb], t0=2)
        ratios = {"param": _within(cfg, per_param, actual, dtype)[0],
                  "optimizer": _within(cfg, shared, actual, dtype)[0]}
        best = min(ratios, key=lambda k: ratios[k])
        out["step_scope"] = {"value": best if ratios[best] <= 1.0 else None, "ratios": ratios}
    else:
        out["step_scope"] = {"value": "not tested"}
    return out


def agreement(impl: Implementation, axes: dict[str, Any], dtype: np.dtype, seeds: Sequence[int],
              steps: int = 20) -> dict[str, Any]:
    """Random problems against the reference of ``axes``: worst ulps and worst error/bound."""
    worst_ulps, worst_ratio, failures, unjudged = 0.0, 0.0, [], 0
    decay = "weight_decay" in impl.features and axes.get("decay") is not None
    for seed in seeds:
        rng = np.random.default_rng(seed)
        hyper = Hyper(lr=float(10.0 ** rng.uniform(-3, -1)),
                      beta1=float(rng.choice([0.9, 0.5, 0.0])),
                      beta2=float(rng.choice([0.999, 0.99])),
                      eps=float(rng.choice([1e-8, 1e-6, 1e-3])),
                      weight_decay=float(rng.choice([0.0, 0.01, 0.5])) if decay else 0.0)
        cfg = _config(hyper, axes)
        shape = (5,)
        theta0 = rng.normal(size=shape).astype(dtype)
        scale = 10.0 ** rng.uniform(-4, 2, size=shape)
        grads = []
        for _ in range(steps):
            g = (rng.normal(size=shape) * scale).astype(dtype)
            g[rng.random(size=shape) < 0.1] = 0.0
            grads.append(g)
        try:
            actual = _trajectory(impl, hyper, [theta0], [[g] for g in grads], dtype)[0]
        except Exception as err:  # the implementation's failure is a finding, not a crash
            failures.append({"seed": seed, "error": f"{type(err).__name__}: {err}"})
            continue
        exact = _reference(cfg, theta0, grads)
        ratio, judged = _within(cfg, exact, actual, dtype)
        unjudged += not judged
        with np.errstate(invalid="ignore"):
            ulps = error_in_ulps(actual, exact["theta"], dtype.name)
        worst = float(np.max(np.where(np.isnan(ulps), np.inf, ulps)))
        worst_ulps, worst_ratio = max(worst_ulps, worst), max(worst_ratio, ratio)
        if ratio > 1.0:
            failures.append({"seed": seed, "hyper": hyper.as_dict(), "error_over_bound": ratio,
                             "worst_ulps": worst})
    return {"dtype": dtype.name, "runs": len(seeds), "worst_ulps": worst_ulps,
            "worst_error_over_bound": worst_ratio, "unjudged_runs": unjudged,
            "failures": failures, "verdict": "pass" if not failures else "fail"}


def hazards(impl: Implementation, dtypes: Sequence[str]) -> list[str]:
    """Low-precision hazards at the framework's usual hyperparameters (findings, not verdicts).

    - a zero first gradient with ε = 1e-8 (ε rounds to 0 in float16: 0/0 = NaN);
    - β2 = 0.999 with g = 1: a parameter that never moves (β2 rounds to 1 in bfloat16,
      so an implementation computing 1 − β2^t in bfloat16 gets a zero step size).
    """
    found = []
    for name in dtypes:
        if name not in impl.features or name in ("float32", "float64"):
            continue
        dtype = as_dtype(name)
        one = [np.ones(2, dtype=dtype)]
        try:
            zero = _trajectory(impl, Hyper(lr=1e-3, eps=1e-8), one,
                               [[np.zeros(2, dtype=dtype)]], dtype)[0][-1]
            moved = _trajectory(impl, Hyper(lr=1e-2, beta2=0.999), one,
                                [[np.ones(2, dtype=dtype)]] * 3, dtype)[0][-1]
        except Exception as err:  # reported, never a crash of the matrix
            found.append(f"{name}: raised {type(err).__name__}: {err}")
            continue
        if not np.all(np.isfinite(zero)):
            found.append(f"{name}: a zero gradient with eps=1e-8 gives θ = {zero[0]} "
                         "(ε underflows to 0 in this dtype: 0/0)")
        if np.all(moved == 1.0):
            found.append(f"{name}: with beta2=0.999 and g=1, θ never moves in 3 steps "
                         "(β2 rounds to 1 in this dtype, so 1 − β2^t = 0)")
    return found


def probe(target: str, seeds: Sequence[int], dtypes: Sequence[str]) -> dict[str, Any]:
    """The probe report of one target (same top-level keys as the engine's summary)."""
    start = time.perf_counter()
    impl = build_implementation(target)
    log(f"[{target}] {impl.name}: fingerprinting")
    fp = fingerprint(impl)
    detected = {axis: fp[axis]["value"] for axis in AXES}
    axes = {k: v for k, v in detected.items() if v not in (None, "not tested")}
    findings = []
    for axis in AXES:
        value = detected[axis]
        if value is None and not (axis == "amsgrad" and fp[axis].get("matched")):
            findings.append(f"{axis}: matches no known variant (error/bound ratios "
                            f"{ {k: round(v, 3) for k, v in fp[axis]['ratios'].items()} })")
        claimed = impl.claims.get(axis, "unclaimed")
        if claimed != "unclaimed" and value != "not tested" and claimed != value:
            findings.append(f"{axis}: claims {claimed!r} but behaves as {value!r}")
    results = []
    for name in dtypes:
        if name not in impl.features:
            results.append({"dtype": name, "verdict": "skipped", "reason": "not supported"})
            continue
        log(f"[{target}] agreement in {name} over {len(seeds)} seeds")
        res = agreement(impl, axes, as_dtype(name), seeds)
        results.append(res)
        if res["verdict"] == "fail":
            findings.append(f"{name}: {len(res['failures'])} of {len(seeds)} runs outside the "
                            f"error bound (worst error/bound {res['worst_error_over_bound']:.3g})")
    notes = hazards(impl, dtypes)
    verdict = "conforms" if not findings else "does not conform"
    return {"schema": "adamproofs-probe/1", "target": target, "implementation": impl.name,
            "claims": impl.claims, "variant": detected,
            "fingerprint": {k: v.get("ratios", {}) for k, v in fp.items()},
            "dtypes": results, "findings": findings, "hazards": notes, "verdict": verdict,
            "seconds": round(time.perf_counter() - start, 2)}
