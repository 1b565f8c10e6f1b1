"""The variant model: axes, parsing, named variants, and the guarantees each value declares."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given

from adamproofs import reference
from adamproofs import strategies as aps
from adamproofs.config import VARIANTS, Adam, ConfigError
from adamproofs.conformance._cases import exact_step_bound, maximizing_sequence
from adamproofs.variants import (
    AXES,
    NAMED,
    UPDATE_AXES,
    Amsgrad,
    Decay,
    EpsPlacement,
    Guarantee,
    Precision,
    StepScope,
    Variant,
    guarantees,
    named,
    parse_variant,
)

UPDATE_VARIANTS = [
    Variant(**dict(zip(UPDATE_AXES, values, strict=True)))
    for values in itertools.product(*(AXES[a].values for a in UPDATE_AXES))
]


def test_every_axis_value_round_trips_through_its_spelling():
    for axis in AXES.values():
        for value in axis.values:
            assert axis.parse(axis.choices[axis.values.index(value)]) == value
        with pytest.raises(ConfigError, match=axis.name):
            axis.parse("no-such-value")


def test_variant_takes_strings_and_rejects_unknown_values_by_name():
    v = Variant(
        eps_placement="hat",
        amsgrad="max_raw",
        decay="decoupled",
        step_scope="optimizer",
        precision="float32",
    )
    assert v.eps_placement is EpsPlacement.HAT and v.amsgrad is Amsgrad.MAX_RAW
    assert v.decay is Decay.DECOUPLED and v.step_scope is StepScope.OPTIMIZER
    assert v.precision is Precision.FLOAT32
    with pytest.raises(ConfigError, match=r"eps_placement='inside' is not one of"):
        Variant(eps_placement="inside")
    with pytest.raises(ConfigError, match=r"bias_correction=1 must be True or False"):
        Variant(bias_correction=1)  # type: ignore[arg-type]


def test_adam_config_exposes_its_update_axes_as_a_variant():
    cfg = Adam(eps_placement="root", amsgrad="max_corrected", decay="decoupled_after")
    assert cfg.variant == Variant(
        eps_placement="root", amsgrad="max_corrected", decay="decoupled_after"
    )
    assert cfg.eps_placement is EpsPlacement.ROOT


def test_named_variants_are_distinct_and_found_again():
    keys = {(v.eps_placement, v.bias_correction, v.amsgrad) for v in NAMED.values()}
    assert len(keys) == len(NAMED)
    for name, v in NAMED.items():
        assert named(v) == name
        assert VARIANTS[name] == {a: getattr(v, a) for a in VARIANTS[name]}
    assert named(Variant(eps_placement="hat", bias_correction=False)) is None


def test_parse_variant_fixes_axes_and_names_bad_overrides():
    v, fixed = parse_variant("eps_hat,decay=decoupled,precision=float32")
    assert v == Variant(eps_placement="hat", decay="decoupled", precision="float32")
    assert fixed == set(AXES)
    assert "precision" not in parse_variant("paper")[1]
    with pytest.raises(ConfigError, match="override 'precision=float8'"):
        parse_variant("paper,precision=float8")
    with pytest.raises(ConfigError, match="'adamw' is not one of"):
        parse_variant("adamw")


def test_precision_names_the_compute_dtype():
    assert Precision.NATIVE.compute_dtype("float16") == "float16"
    assert Precision.FLOAT32.compute_dtype("float64") == "float32"


def _steps(variant: Variant, grads: np.ndarray, beta1: float, beta2: float) -> np.ndarray:
    cfg = Adam(
        lr=1.0, beta1=beta1, beta2=beta2, eps=0.0, **{a: getattr(variant, a) for a in UPDATE_AXES}
    )
    theta = reference.run(cfg, np.zeros(1), grads.reshape(-1, 1), dps=40).to_numpy("float64")[
        "theta"
    ][:, 0]
    return np.abs(np.diff(theta))


@pytest.mark.parametrize("variant", UPDATE_VARIANTS, ids=lambda v: v.describe())
def test_the_step_bound_guarantee_is_true_exactly_where_it_is_declared(variant):
    """Where a variant declares |Δ_t| ≤ α·S(t), the oracle stays below it on the sequence
    that attains S(t); where it does not, the oracle's first step already exceeds α."""
    beta1, beta2, steps = 0.9, 0.999, 30
    if Guarantee.STEP_BOUND in guarantees(variant):
        g = maximizing_sequence(beta1, beta2, steps, 1.0, "float64")
        delta = _steps(variant, g, beta1, beta2)
        bound = np.array([exact_step_bound(beta1, beta2, t) for t in range(1, steps + 1)])
        assert np.all(delta <= bound * (1 + 1e-12))
    else:
        delta = _steps(variant, np.ones(1), beta1, beta2)
        assert delta[0] > 1.0 + 1e-3, delta


def test_guarantees_cover_every_axis_value():
    """Each axis value answers (no value falls through): the product of all axes is accepted."""
    for values in itertools.product(*(axis.values for axis in AXES.values())):
        v = Variant(**dict(zip(AXES, values, strict=True)))
        assert guarantees(v) <= frozenset(Guarantee)
    assert math.prod(len(a.values) for a in AXES.values()) == 3 * 2 * 4 * 3 * 2 * 5


@given(v=aps.variants(precision="native"))
def test_the_variants_strategy_draws_valid_variants(v):
    assert v.precision is Precision.NATIVE
    assert all(getattr(v, name) in axis.values for name, axis in AXES.items())


def test_the_variants_strategy_names_unknown_axes():
    with pytest.raises(ValueError, match="unknown axes"):
        aps.variants(flavour="x")
