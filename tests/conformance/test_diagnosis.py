"""The diagnosis names the planted defect, is never confident and wrong, and never explains
a correct implementation.

The default run diagnoses a few mutants of each kind of change (a stage, a hyperparameter,
the step counter, a skip, a precision, a legitimate variant) in their NumPy form and three
in their torch form; the whole corpus in both forms and both dtypes is ``slow``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from adamproofs.conformance import Checker
from adamproofs.conformance._drive import drive
from adamproofs.conformance._targets import load_target
from adamproofs.conformance.diagnosis import CATALOGUE, Diagnosis, diagnose
from adamproofs.conformance.diagnosis import _search as search_module
from adamproofs.conformance.diagnosis._candidates import AxisChange, Candidate
from adamproofs.conformance.diagnosis._replay import Recorded, evaluate
from adamproofs.conformance.diagnosis._search import _record
from adamproofs.conformance.protocol import PlainImplementation
from adamproofs.reference.rules import AdamStages
from adamproofs.variants import AXES, NAMED, Decay, Variant
from tests.conformance import mutants

DTYPES = ("float32", "float64")


def _base(name: str) -> Variant:
    return Variant(amsgrad="max_raw") if name in mutants.AMSGRAD_MUTANTS else Variant()


def _expected(name: str, dtype: str) -> tuple[str, ...] | None:
    """The model the diagnosis must name, or None where no deviation shows in ``dtype``."""
    if name in mutants.NOT_UPDATE_RULE:
        return None
    if dtype != "float64" and name in mutants.FLOAT64_ONLY:
        return None
    return mutants.DIAGNOSED_AS[name]


def _assert_diagnosed(d: Diagnosis, name: str, dtype: str) -> None:
    want = _expected(name, dtype)
    if want is None:  # nothing to name: never a confident answer
        assert d.status == "unexplained", d.summary
        return
    assert d.status == "explained", f"{name} in {dtype}: {d.summary}\n" + "\n".join(d.details)
    assert set(d.model) == set(want), d.summary
    assert d.dtype == dtype


# --- the catalogue ---------------------------------------------------------------------------


def test_the_catalogue_has_at_least_25_defects_each_one_change_with_words():
    assert len(CATALOGUE) >= 25
    stages = {f.name for f in dataclasses.fields(AdamStages)}
    for name, d in CATALOGUE.items():
        assert d.name == name and name.isidentifier()
        assert d.maths and d.algorithm and d.code, name
        kinds = [
            d.stage is not None,
            d.hyper is not None,
            d.counter is not None,
            d.skip is not None,
            d.first_step,
            d.precision is not None,
            d.same_as is not None,
        ]
        assert sum(kinds) == 1, f"{name} changes {sum(kinds)} things"
        if d.stage is not None:
            assert d.stage in stages and d.patch is not None, name
        if d.same_as is not None:
            axis, _, value = d.same_as.partition("=")
            assert value in AXES[axis].choices, d.same_as


def test_every_update_rule_mutant_is_labelled_with_known_models():
    every = {*mutants.MUTANTS, *mutants.AMSGRAD_MUTANTS}
    assert set(mutants.DIAGNOSED_AS) == every - mutants.NOT_UPDATE_RULE
    assert len(mutants.DIAGNOSED_AS) >= 25
    for label in mutants.DIAGNOSED_AS.values():
        for part in label:
            axis, eq, value = part.partition("=")
            if eq:
                assert value in AXES[axis].choices, part
            else:
                assert part in CATALOGUE, part


def test_every_catalogued_defect_is_planted_in_a_mutant():
    labels = {part for label in mutants.DIAGNOSED_AS.values() for part in label}
    for d in CATALOGUE.values():
        assert (d.same_as or d.name) in labels, f"{d.name} has no mutant"


def test_the_docs_page_lists_every_catalogued_defect():
    from pathlib import Path

    from docs_build import sources  # noqa: F401  (registers the generators)
    from docs_build.directives import Context, expand

    root = Path(__file__).resolve().parents[2]
    page = expand((root / "docs" / "defects.md").read_text(), Context(root=root, page="defects.md"))
    for d in CATALOGUE.values():
        row = next(line for line in page.splitlines() if line.startswith(f"| `{d.name}` |"))
        assert d.maths.replace("|", "\\|") in row and d.algorithm in row


# --- the models agree with the mutants' own code ------------------------------------------


def _records(impl, dtype: str) -> list[Recorded]:
    return _record(impl, dtype)


@pytest.mark.parametrize(
    "name", ["mhat_uses_beta2", "shared_counter", "lazy_zero", "stale_v", "decoupled_no_lr"]
)
def test_the_labelled_model_replays_the_mutant_within_the_bound(name):
    records = _records(PlainImplementation(mutants.NUMPY_MUTANTS[name]), "float64")
    changes = []
    for part in mutants.DIAGNOSED_AS[name]:
        axis, eq, value = part.partition("=")
        changes.append(AxisChange(axis, AXES[axis].parse(value)) if eq else CATALOGUE[part])
    variant = Variant()
    for c in changes:
        for axis, value in getattr(c, "implies", ()):
            variant = variant.replace(**{axis: value})
    fit = evaluate(Candidate(variant, tuple(changes)), records, "float64")
    assert fit.tightest() == 0, fit.worst_at
    assert fit.judged > 200
    plain = evaluate(Candidate(Variant()), records, "float64")
    assert plain.tightest() is None  # and Algorithm 1 itself does not explain it


# --- the planted defects are named -----------------------------------------------------------

FAST_NUMPY = [
    ("mhat_uses_beta2", "float32"),
    ("global_t", "float32"),
    ("decoupled", "float64"),
    ("clamp_update", "float32"),
    ("zero_grad_return", "float32"),
    ("fp32_state", "float64"),
    ("t_starts_at_0", "float64"),
    ("amsgrad_max_corrected", "float32"),
    ("state_not_saved", "float32"),
]


@pytest.mark.parametrize("name, dtype", FAST_NUMPY)
def test_numpy_mutant_is_diagnosed(name, dtype):
    impl = PlainImplementation(mutants.NUMPY_MUTANTS[name])
    _assert_diagnosed(diagnose(impl, dtype, base=_base(name)), name, dtype)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["vhat_uses_beta1", "maximize_ignored", "lerp_swapped"])
def test_torch_mutant_is_diagnosed(name):
    pytest.importorskip("torch")
    impl = load_target(mutants.TORCH_MUTANTS[name])
    _assert_diagnosed(diagnose(impl, "float32", base=_base(name)), name, "float32")


@pytest.mark.slow
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(mutants.NUMPY_MUTANTS))
def test_every_numpy_mutant_is_diagnosed(name, dtype):
    impl = PlainImplementation(mutants.NUMPY_MUTANTS[name])
    _assert_diagnosed(diagnose(impl, dtype, base=_base(name)), name, dtype)


@pytest.mark.slow
@pytest.mark.torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted({*mutants.MUTANTS, *mutants.AMSGRAD_MUTANTS}))
def test_every_torch_mutant_is_diagnosed(name, dtype):
    pytest.importorskip("torch")
    impl = load_target(mutants.TORCH_MUTANTS[name])
    _assert_diagnosed(diagnose(impl, dtype, base=_base(name)), name, dtype)


NUMPY_PAIR = mutants._numpy_class("PAIR", frozenset({"mhat_uses_beta2", "decoupled"}))


def test_two_defects_are_diagnosed_as_a_pair():
    d = diagnose(PlainImplementation(NUMPY_PAIR), "float64")
    assert d.status == "explained", d.summary
    assert set(d.model) == {"mhat_uses_beta2", "decay=decoupled"}


# --- never confident on a correct implementation -------------------------------------------


def _assert_base_fits(d: Diagnosis) -> None:
    """Not explained, because the implementation's own variant fits every judged step."""
    assert d.status == "unexplained" and not d.model, d.summary
    assert "your steps match Adam (" in d.summary, d.summary


def _fast_variants() -> list[Variant]:
    return [v.replace(decay=decay) for v in NAMED.values() for decay in Decay]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "variant",
    [
        Variant(),
        Variant(eps_placement="hat", decay="decoupled"),
        Variant(amsgrad="max_uncorrected"),
    ],
    ids=lambda v: v.describe(),
)
def test_a_correct_variant_is_not_diagnosed(variant, dtype):
    axes = {
        a: getattr(variant, a) for a in ("eps_placement", "bias_correction", "amsgrad", "decay")
    }
    d = diagnose(load_target("numpy", **axes), dtype, base=variant)
    _assert_base_fits(d)


@pytest.mark.slow
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", _fast_variants(), ids=lambda v: v.describe())
def test_no_correct_variant_is_diagnosed(variant, dtype):
    axes = {
        a: getattr(variant, a) for a in ("eps_placement", "bias_correction", "amsgrad", "decay")
    }
    d = diagnose(load_target("numpy", **axes), dtype, base=variant)
    _assert_base_fits(d)


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_plain_numpy_adams_are_not_diagnosed(dtype):
    for cls, base in ((mutants.NUMPY_CORRECT, Variant()), (mutants.NUMPY_CORRECT_AMSGRAD, None)):
        d = diagnose(PlainImplementation(cls), dtype, base=base or Variant(amsgrad="max_raw"))
        _assert_base_fits(d)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_adam_and_adamw_are_not_diagnosed(dtype):
    torch = pytest.importorskip("torch")
    for cls, variant in ((torch.optim.Adam, Variant()), (torch.optim.AdamW, None)):
        base = variant or Variant(decay="decoupled")
        d = diagnose(load_target(cls), dtype, base=base)
        _assert_base_fits(d)


@pytest.mark.torch
def test_adamw_checked_against_l2_is_named_a_legitimate_variant():
    torch = pytest.importorskip("torch")
    d = diagnose(load_target(torch.optim.AdamW), "float32")
    assert d.status == "explained" and d.model == ("decay=decoupled",), d.summary
    assert "legitimate variant" in d.summary


# --- unexplained: the first quantity that departs ------------------------------------------


class DoubledSecondMoment:
    """v accumulates 2g² (not in the catalogue), with the optional ``moments()`` hook."""

    def __init__(self, params, *, lr, beta1, beta2, eps, weight_decay):
        self.params, self.h = params, (lr, beta1, beta2, eps, weight_decay)
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = [0] * len(params)

    def step(self, grads):
        lr, b1, b2, eps, wd = self.h
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if g is None:
                continue
            g = g + wd * p
            self.t[i] += 1
            self.m[i] = b1 * self.m[i] + (1 - b1) * g
            self.v[i] = b2 * self.v[i] + (1 - b2) * 2 * g * g
            mhat = self.m[i] / (1 - b1 ** self.t[i])
            vhat = self.v[i] / (1 - b2 ** self.t[i])
            p -= (lr * mhat / (np.sqrt(vhat) + eps)).astype(p.dtype)

    def moments(self):
        return [{"m": m, "v": v} for m, v in zip(self.m, self.v)]


class DoubledSecondMomentHidden(DoubledSecondMoment):
    moments = None  # type: ignore[assignment]


def test_an_unknown_defect_is_unexplained_and_names_v_through_the_state_hook():
    d = diagnose(PlainImplementation(DoubledSecondMoment), "float64")
    assert d.status == "unexplained" and not d.model
    assert "v departs first, at step 1" in d.summary, d.summary


def test_without_the_state_hook_the_diagnosis_names_theta():
    d = diagnose(PlainImplementation(DoubledSecondMomentHidden), "float64")
    assert d.status == "unexplained"
    assert "θ departs first, at step 1" in d.summary and "v departs" not in d.summary


def test_the_isolated_worker_forwards_the_state_hook():
    from adamproofs.conformance._isolation import IsolatedImplementation, isolate

    with isolate(DoubledSecondMoment) as impl:
        assert isinstance(impl, IsolatedImplementation)
        d = diagnose(impl, "float64")
    assert "v departs first, at step 1" in d.summary, d.summary


@pytest.mark.torch
def test_the_torch_state_is_read():
    pytest.importorskip("torch")
    impl = load_target(mutants.TORCH_CORRECT)
    case = (
        __import__("adamproofs.conformance.diagnosis._trajectories", fromlist=["x"])
        .diagnostic_trajectories(frozenset(), "float64")[0]
        .case
    )
    session = impl.create(case.hyper, case.params, np.dtype("float64"))
    session.step(case.grads[0])
    moments = session.moments()
    g = case.grads[0][0]
    np.testing.assert_allclose(moments[0]["m"], (1 - case.hyper.beta1) * g)
    np.testing.assert_allclose(moments[0]["v"], (1 - case.hyper.beta2) * g * g)


@pytest.mark.parametrize("name", ["optax", "keras"])
def test_the_optax_and_keras_state_is_read(name):
    from adamproofs.conformance.protocol import FrameworkMissing, Hyper

    try:
        impl = load_target(name)
    except FrameworkMissing as err:
        pytest.skip(str(err))
    hyper = Hyper(lr=0.01, beta1=0.5, beta2=0.75, eps=1e-3)
    session = impl.create(hyper, [np.array([1.0, 2.0], dtype=np.float32)], np.dtype("float32"))
    g = np.array([0.5, -2.0], dtype=np.float32)
    session.step([g])
    (moments,) = session.moments()
    np.testing.assert_allclose(moments["m"], (1 - hyper.beta1) * g)
    np.testing.assert_allclose(moments["v"], (1 - hyper.beta2) * g * g)


# --- the checker -----------------------------------------------------------------------------


def _check(target, **settings):
    return Checker(
        target, profile="quick", fail_fast=True, shrink=False, isolation=None, **settings
    ).run(progress=None)


def test_a_failing_check_carries_the_diagnosis():
    report = _check(mutants.NUMPY_MUTANTS["mhat_uses_beta2"], variant="paper")
    assert not report.conforms
    assert report.diagnosis is not None and report.diagnosis.model == ("mhat_uses_beta2",)
    assert report.as_dict()["diagnosis"]["model"] == ["mhat_uses_beta2"]


def test_a_passing_check_and_diagnose_false_carry_none():
    passing = _check(mutants.NUMPY_CORRECT, variant="paper", properties=["first_step"])
    assert passing.conforms and passing.diagnosis is None
    report = _check(mutants.NUMPY_MUTANTS["mhat_uses_beta2"], variant="paper", diagnose=False)
    assert not report.conforms and report.diagnosis is None


def test_an_error_of_the_diagnosis_never_changes_the_verdict(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("planted")

    monkeypatch.setattr(search_module, "diagnose", broken)
    report = _check(mutants.NUMPY_MUTANTS["mhat_uses_beta2"], variant="paper")
    assert not report.conforms
    assert report.diagnosis is not None and report.diagnosis.status == "unexplained"
    assert "RuntimeError: planted" in report.diagnosis.summary


def test_the_diagnostic_trajectories_run_through_drive():
    from adamproofs.conformance.diagnosis._trajectories import diagnostic_trajectories

    impl = PlainImplementation(mutants.NUMPY_CORRECT)
    trajs = diagnostic_trajectories(impl.features, "float32")
    assert {t.name for t in trajs} == {"moments", "decay", "tiny_eps"}
    for traj in trajs:
        run = drive(impl, traj.case)
        assert run.error is None and len(run.thetas) == traj.case.n_steps + 1


class _HandWrittenSlip:
    """A typical first Adam: m̂ divided by 1−β2^t, ``weight_decay`` accepted and never used,
    one step counter for the whole optimizer (a legitimate variant)."""

    def __init__(self, params, lr, beta1, beta2, eps, weight_decay=0.0):
        self.params, self.lr, self.b1, self.b2, self.eps = params, lr, beta1, beta2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if g is None:
                continue
            self.m[i] = self.b1 * self.m[i] + (1 - self.b1) * g
            self.v[i] = self.b2 * self.v[i] + (1 - self.b2) * g * g
            m_hat = self.m[i] / (1 - self.b2**self.t)
            v_hat = self.v[i] / (1 - self.b2**self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_slip_beside_a_missing_decay_and_an_optimizer_wide_counter_is_named(dtype):
    """The search repeats from the other step scope, so the slip is still named (with the
    ignored weight decay), and the details say which step scope explained the steps."""
    d = diagnose(PlainImplementation(_HandWrittenSlip), dtype)
    assert d.status == "explained", d.summary
    assert set(d.model) == {"mhat_uses_beta2", "weight_decay_ignored"}, d.model
    assert d.details[0].startswith("step_scope=optimizer")
