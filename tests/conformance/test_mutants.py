"""Power, measured: every deliberately wrong Adam is caught, the correct ones are not.

Each mutant runs with ``--variant paper`` (AMSGrad mutants: ``amsgrad_max_raw``) on
the quick profile, stopping at the first failure. The correct implementations run
the whole quick profile; across 20 seeds on the default profile (``slow``).
"""

from __future__ import annotations

import pytest

from adamproofs.conformance import check
from tests.conformance import mutants


def _variant(name: str) -> str:
    """The variant each mutant slips from, computed in the parameters' own precision (a
    variant's name alone leaves the precision open: float32 arithmetic on float64
    parameters is then reported as a fact, not a failure)."""
    base = "amsgrad_max_raw" if name in mutants.AMSGRAD_MUTANTS else "paper"
    return f"{base},precision=native"


def _caught(target, name: str):
    report = check(
        target, variant=_variant(name), profile="quick", fail_fast=True, shrink=False, progress=None
    )
    return report


# The NumPy corpus is the one that runs where PyTorch is absent; with PyTorch installed
# the torch corpus (the same mistakes) runs by default and this one is marked slow.
_NUMPY_MARKS = [pytest.mark.slow] if mutants.torch is not None else []


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=_NUMPY_MARKS) for n in sorted(mutants.NUMPY_MUTANTS)]
)
def test_numpy_mutant_is_caught(name):
    report = _caught(mutants.NUMPY_MUTANTS[name], name)
    assert not report.conforms, f"{name} ({mutants.MUTANTS.get(name)}) was not caught"


@pytest.mark.parametrize("name", sorted({*mutants.MUTANTS, *mutants.AMSGRAD_MUTANTS}))
def test_torch_mutant_is_caught(name):
    pytest.importorskip("torch")
    report = _caught(mutants.TORCH_MUTANTS[name], name)
    assert not report.conforms, f"{name} ({mutants.MUTANTS.get(name)}) was not caught"


def test_the_corpus_covers_every_mistake_in_both_forms():
    assert set(mutants.NUMPY_MUTANTS) == (
        {*mutants.MUTANTS, *mutants.AMSGRAD_MUTANTS} - mutants.NUMPY_ONLY_SKIP
    )
    if mutants.torch is not None:
        assert set(mutants.TORCH_MUTANTS) == {*mutants.MUTANTS, *mutants.AMSGRAD_MUTANTS}


def _correct_targets():
    out = [
        pytest.param("numpy", "paper", id="numpy"),
        pytest.param(mutants.NUMPY_CORRECT, "paper", id="plain-numpy"),
        pytest.param(mutants.NUMPY_CORRECT_AMSGRAD, "amsgrad_max_raw", id="plain-numpy-amsgrad"),
    ]
    torch_marks = [pytest.mark.torch]
    for name in ("torch", "torch-foreach", "torch-fused"):
        out.append(pytest.param(name, "paper", id=name, marks=torch_marks))
    out.append(pytest.param("TORCH_CORRECT", "paper", id="plain-torch", marks=torch_marks))
    return out


def _resolve(target):
    if target == "TORCH_CORRECT":
        pytest.importorskip("torch")
        return mutants.TORCH_CORRECT
    if isinstance(target, str) and target.startswith("torch"):
        pytest.importorskip("torch")
    return target


@pytest.mark.parametrize("target, variant", _correct_targets())
def test_correct_implementation_conforms(target, variant):
    report = check(_resolve(target), variant=variant, profile="quick", seed=0, progress=None)
    assert report.conforms, report.table()


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("target, variant", _correct_targets())
def test_no_false_positive_across_seeds(target, variant, seed):
    report = check(_resolve(target), variant=variant, profile="default", seed=seed, progress=None)
    assert report.conforms, report.table()
