"""The one-screen report, reproducers that assert, --without, and function targets."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from adamproofs.conformance import Checker
from adamproofs.conformance._fingerprint import AxisResult, Fingerprint
from adamproofs.conformance._notes import NOTES
from adamproofs.conformance._report import Report
from adamproofs.conformance._summary import variant_name
from adamproofs.conformance.diagnosis import Diagnosis
from adamproofs.conformance.protocol import UsageError
from adamproofs.variants import Amsgrad, EpsPlacement, Variant
from tests.conformance import mutants

ROOT = Path(__file__).resolve().parents[2]
SINGLE_DEFECTS = ["mhat_uses_beta2", "wrong_sign", "hardcoded_eps"]
_REPORTS: dict[str, Report] = {}


def _report(name: str) -> Report:
    """The quick float32 check of the NumPy mutant ``name`` (run once per session)."""
    if name not in _REPORTS:
        checker = Checker(
            mutants.NUMPY_MUTANTS[name], profile="quick", dtypes=["float32"], isolation=None
        )
        _REPORTS[name] = checker.run(progress=None)
    return _REPORTS[name]


@pytest.mark.parametrize("name", SINGLE_DEFECTS)
def test_single_defect_report_fits_one_screen(name):
    report = _report(name)
    assert not report.conforms
    text = report.summary()
    lines = text.splitlines()
    assert len(lines) <= 40, text
    assert lines[0].startswith("DOES NOT CONFORM: "), text
    assert text.count("\nmain(") == 1, text  # one reproducer
    code_start = next(i for i, line in enumerate(lines) if line.startswith("reproducer ("))
    assert all(len(line) <= 100 for line in lines[:code_start]), text
    failing = {r.name for r in report.failures if r.name != "variant"}
    assert {line.split()[1] for line in lines if line.startswith("FAIL ")} == failing
    verbose = report.table()
    assert verbose.count("\nmain(") == sum(1 for r in report.failures if r.reproducer)


def test_no_axis_matched_is_no_known_variant_never_paper():
    report = _report("mhat_uses_beta2")
    assert report.fingerprint is not None and not report.fingerprint.known
    text = report.summary()
    assert "variant: no known variant" in text and "variant: paper" not in text
    assert "detected variant: no known variant" in report.table()
    assert "eps_placement, bias_correction, precision: no known form" in text


def test_the_reproducer_shown_is_the_smallest():
    report = _report("mhat_uses_beta2")
    from adamproofs.conformance._summary import case_size, smallest_failure

    shown = smallest_failure(report)
    assert shown is not None
    assert all(case_size(shown) <= case_size(r) for r in report.failures if r.reproducer)


def _fp(variant: Variant, known: bool = True) -> Fingerprint:
    axes = {
        a: AxisResult(a, [getattr(variant, a)] if known else [], [], detail=f"{a}: probe")
        for a in ("eps_placement", "bias_correction", "amsgrad", "decay")
    }
    return Fingerprint("float32", axes=axes, variant=variant)


def test_a_variant_without_a_name_of_its_own_is_named_from_two():
    keras_amsgrad = Variant(eps_placement=EpsPlacement.HAT, amsgrad=Amsgrad.MAX_RAW)
    assert variant_name(_fp(keras_amsgrad)) == "eps_hat + amsgrad_max_raw"
    assert variant_name(_fp(Variant(amsgrad=Amsgrad.MAX_RAW))) == "amsgrad_max_raw"
    assert variant_name(_fp(Variant(), known=False)) is None


def _bare(diagnosis: Diagnosis | None) -> Report:
    report = Report("x:Adam", None, "quick", 0, ["float32"], None, diagnosis=diagnosis)
    report.fingerprint = _fp(Variant())
    return report


def test_the_diagnosis_is_shown_when_present_and_nothing_when_absent():
    d = Diagnosis(
        "explained",
        "float32",
        "m̂ is divided by 1-β2^t instead of 1-β1^t",
        details=("fits every step within the bound", "runner-up: eps_hat, off at step 1"),
        model=("mhat_uses_beta2",),
    )
    text = _bare(d).summary()
    assert "diagnosis (explained, float32): m̂ is divided by 1-β2^t instead of 1-β1^t" in text
    assert "  runner-up: eps_hat, off at step 1" in text
    assert "diagnosis" not in _bare(None).summary()
    assert "diagnosis" not in _bare(None).table()


def test_fail_fast_still_shows_the_evidence_and_a_reproducer():
    report = Checker(
        mutants.NUMPY_MUTANTS["mhat_uses_beta2"],
        profile="quick",
        dtypes=["float32"],
        fail_fast=True,
        isolation=None,
    ).run(progress=None)
    text = report.summary()
    assert not report.conforms
    assert "no known form" in text and text.count("\nmain(") == 1, text
    assert [r.name for r in report.failures][:2] == ["variant", "first_step"]


# --- reproducers that assert ---------------------------------------------------------------

_SLIP = "mhat = m / (1 - self.beta2**self.t)"
_FIXED = "mhat = m / (1 - self.beta1**self.t)"
_ADAM = """
import numpy as np

class Adam:
    adamproofs_features = {"float32", "float64"}

    def __init__(self, params, *, lr, beta1, beta2, eps, weight_decay):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.params = params
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        for p, m, v, g in zip(self.params, self.m, self.v, grads):
            if g is None:
                continue
            m[...] = self.beta1 * m + (1 - self.beta1) * g
            v[...] = self.beta2 * v + (1 - self.beta2) * g * g
            {mhat}
            vhat = v / (1 - self.beta2**self.t)
            p -= (self.lr * mhat / (np.sqrt(vhat) + self.eps)).astype(p.dtype)
"""


def test_reproducer_exits_1_with_the_defect_0_once_fixed_from_any_folder(tmp_path, monkeypatch):
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    module = project / "slipped_adam.py"
    module.write_text(_ADAM.replace("{mhat}", _SLIP))
    monkeypatch.chdir(project)
    report = Checker(
        "slipped_adam:Adam",
        profile="quick",
        dtypes=["float32"],
        properties=["first_step"],
        isolation=None,
    ).run(progress=None)
    code = report.failures[-1].reproducer
    assert code is not None
    assert f"PYTHONPATH={project}" in code  # says how to make the target importable
    script = elsewhere / "repro.py"
    script.write_text(code)

    def run(pythonpath: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "PYTHONPATH": pythonpath}
        return subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    path = os.pathsep.join([str(project), str(ROOT)])
    broken = run(path)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "FAILS: 'first_step'" in broken.stdout
    module.write_text(_ADAM.replace("{mhat}", _FIXED))
    fixed = run(path)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    missing = run(str(ROOT))
    assert missing.returncode == 2
    assert "cannot load the target 'slipped_adam:Adam'" in missing.stdout
    assert "PYTHONPATH" in missing.stdout and "Traceback" not in missing.stderr


# --- a missing feature does not fail everything --------------------------------------------

_NO_SCALARS = """
import numpy as np

class Adam:
    adamproofs_features = {"float32", "float64", "weight_decay"}

    def __init__(self, params, *, lr, beta1, beta2, eps, weight_decay):
        if any(np.ndim(p) == 0 for p in params):
            raise ValueError("0-d parameters are not supported")
        self.lr, self.b1, self.b2, self.eps, self.wd = lr, beta1, beta2, eps, weight_decay
        self.params = params
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        for p, m, v, g in zip(self.params, self.m, self.v, grads):
            if g is None:
                continue
            g = g + self.wd * p
            m[...] = self.b1 * m + (1 - self.b1) * g
            v[...] = self.b2 * v + (1 - self.b2) * g * g
            mhat = m / (1 - self.b1**self.t)
            vhat = v / (1 - self.b2**self.t)
            p -= (self.lr * mhat / (np.sqrt(vhat) + self.eps)).astype(p.dtype)
"""

_FEATURE_ROWS = ["first_step", "agreement", "eps_zero", "beta1_zero"]


def _no_scalars(tmp_path, monkeypatch, **settings) -> Report:
    (tmp_path / "no_scalars.py").write_text(_NO_SCALARS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return Checker(
        "no_scalars:Adam",
        profile="quick",
        dtypes=["float32"],
        properties=_FEATURE_ROWS,
        isolation=None,
        **settings,
    ).run(progress=None)


def test_a_feature_most_failures_share_is_named_once_and_the_rest_judged_without_it(
    tmp_path, monkeypatch
):
    report = _no_scalars(tmp_path, monkeypatch)
    assert not report.conforms  # the missing feature is still a failure
    assert "most failures involve 0-d parameters" in report.common_feature
    assert "--without scalar_params" in report.common_feature
    text = report.summary()
    assert text.count("most failures involve") == 1
    rows = [r for r in report.results if r.name != "variant"]
    rejudged = [r for r in rows if "judged without scalar_params" in r.note]
    assert rejudged and all(r.verdict == "pass" for r in rejudged)
    assert report.as_dict()["common_feature"] == report.common_feature


def test_without_leaves_the_feature_out(tmp_path, monkeypatch):
    report = _no_scalars(tmp_path, monkeypatch, without=["scalar_params"])
    assert report.conforms, report.table()
    assert not report.common_feature


def test_without_an_unknown_feature_is_a_usage_error_listing_the_allowed():
    with pytest.raises(UsageError, match=r"--without 'scalars' is not a feature; allowed: .*"):
        Checker("numpy", without="weight_decay,scalars")
    out = subprocess.run(
        [sys.executable, "-m", "adamproofs", "check", "--without", "nope"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert out.returncode == 2 and "scalar_params" in out.stderr


def test_without_a_declared_feature_skips_the_properties_that_need_it():
    report = Checker(
        "numpy",
        profile="quick",
        dtypes=["float32"],
        properties=["checkpoint", "first_step"],
        without=["checkpoint"],
    ).run(progress=None)
    rows = {r.name: r for r in report.results}
    assert (
        rows["checkpoint"].verdict == "skip" and "--without checkpoint" in rows["checkpoint"].note
    )
    assert rows["first_step"].verdict == "pass"


# --- function targets ----------------------------------------------------------------------

_FACTORIES = """
def make_torch(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    import torch
    return torch.optim.Adam(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

def make_optax():
    import optax
    return optax.adam(1e-3)

def make_keras(learning_rate=1e-3):
    import keras
    return keras.optimizers.Adam(learning_rate=learning_rate)
"""


@pytest.mark.parametrize(
    ("function", "kind", "framework"),
    [
        ("make_torch", "torch", "torch"),
        ("make_optax", "optax", "optax"),
        ("make_keras", "keras", "keras"),
    ],
)
def test_a_function_returning_an_optimizer_is_detected_by_what_it_returns(
    tmp_path, monkeypatch, function, kind, framework
):
    pytest.importorskip(framework)
    if framework == "keras":
        monkeypatch.setenv("KERAS_BACKEND", "jax")
        pytest.importorskip("jax")
        import keras  # noqa: F401  (its backend is chosen on first import)
    from adamproofs.conformance._targets import detect_kind, kind_of_product

    (tmp_path / "factories.py").write_text(textwrap.dedent(_FACTORIES))
    monkeypatch.syspath_prepend(str(tmp_path))
    import factories

    assert kind_of_product(getattr(factories, function)) == kind
    assert detect_kind(getattr(factories, function)) == kind


def test_a_torch_factory_function_is_checked_without_kind(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    (tmp_path / "torch_factory.py").write_text(textwrap.dedent(_FACTORIES))
    monkeypatch.chdir(tmp_path)
    report = Checker(
        "torch_factory:make_torch", profile="quick", properties=["first_step"], dtypes=["float32"]
    ).run(progress=None)
    assert report.conforms, report.table()


def test_every_note_is_documented():
    page = (ROOT / "docs" / "validate.md").read_text()
    for key, text in NOTES.items():
        for fragment in re.split(r"\{[^}]*\}", text):
            fragment = fragment.strip(" ():")
            if len(fragment) >= 4:
                assert fragment in page, f"note {key!r} ({fragment!r}) is not on validate.md"


def test_a_finding_most_failing_properties_share_is_said_once():
    from adamproofs.conformance._model import Finding
    from adamproofs.conformance._report import PropertyResult

    report = _bare(None)
    mutated = Finding("inputs mutated: the gradient of params[0] given at step 1 was written")
    report.results = [
        PropertyResult(name, "float32", "fail", finding=mutated)
        for name in ("first_step", "agreement", "sparsity")
    ] + [PropertyResult("eps_zero", "float32", "fail", finding=Finding("wrong", step=1))]
    text = report.summary()
    assert text.count("3 of 4 failing properties fail the same way: inputs mutated") == 1, text
    report.results = report.results[2:]
    assert "fail the same way" not in report.summary()
