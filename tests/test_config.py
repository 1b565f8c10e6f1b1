"""The validated configuration: every bad value is rejected with a message naming it."""

from __future__ import annotations

from fractions import Fraction

import pytest

from adamproofs.config import (
    OPTIMIZERS,
    VARIANTS,
    AdaGrad,
    Adam,
    ConfigError,
    Momentum,
    RMSProp,
    adamw,
    amsgrad,
    exact,
    variant,
)


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("lr", -1e-3, "[0.0, inf)"),
        ("beta1", 1.0, "[0.0, 1.0)"),
        ("beta1", -0.1, "[0.0, 1.0)"),
        ("beta2", 1.5, "[0.0, 1.0)"),
        ("eps", -1e-8, "[0.0, inf)"),
        ("weight_decay", -0.1, "[0.0, inf)"),
        ("eps_placement", "inside", "'paper'"),
        ("amsgrad", "max", "'max_raw'"),
        ("decay", "adamw", "'decoupled'"),
        ("bias_correction", 1, "True or False"),
        ("lr", float("nan"), "not finite"),
        ("beta1", "zero point nine", "not a decimal"),
        ("lr", True, "bool"),
    ],
)
def test_bad_adam_values_name_the_value_and_the_allowed_range(field, value, fragment):
    with pytest.raises(ConfigError) as info:
        Adam(**{field: value})
    message = str(info.value)
    assert field in message
    assert fragment in message


def test_edges_of_the_allowed_ranges_are_accepted():
    Adam(lr=0.0, beta1=0.0, beta2=0.0, eps=0.0)
    Adam(beta1="0.9", beta2=Fraction(999, 1000), eps="1e-8")


def test_other_optimizers_validate_their_own_fields():
    with pytest.raises(ConfigError, match="momentum"):
        Momentum(momentum=1.0)
    with pytest.raises(ConfigError, match="rho"):
        RMSProp(rho=-0.5)
    with pytest.raises(ConfigError, match="initial_accumulator"):
        AdaGrad(initial_accumulator=-1)


def test_replace_validates_again():
    cfg = Adam()
    with pytest.raises(ConfigError, match="beta2"):
        cfg.replace(beta2=1.0)
    assert cfg.replace(lr=0.5).lr == 0.5 and cfg.lr == 1e-3


def test_exact_takes_floats_exactly_and_decimals_as_decimals():
    assert exact(0.1) == Fraction(3602879701896397, 36028797018963968)
    assert exact("0.1") == Fraction(1, 10)
    assert exact(3) == 3


def test_named_variants_and_helpers():
    assert set(VARIANTS) >= {"paper", "eps_hat", "eps_root", "no_bias_correction"}
    assert variant("eps_hat").eps_placement == "hat"
    assert amsgrad().amsgrad == "max_raw"
    w = adamw()
    assert w.decay == "decoupled" and w.weight_decay == 1e-2
    with pytest.raises(ConfigError, match="variant"):
        variant("nadam")
    assert set(OPTIMIZERS) == {
        "adam",
        "adamax",
        "sgd",
        "momentum",
        "nesterov",
        "adagrad",
        "rmsprop",
    }


def test_as_dict_is_json_ready():
    d = Adam(beta1=Fraction(9, 10)).as_dict()
    assert d["optimizer"] == "adam" and d["beta1"] == "9/10"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("1e-99999999999", "decimal exponent -99999999999"),
        ("1e+4001", "decimal exponent 4001"),
        ("1" * 5000, "5000 characters long"),
    ],
)
def test_validation_cost_is_bounded_for_any_string(value, fragment):
    """A huge exponent would build a Fraction with 10^N digits: refused up front instead."""
    with pytest.raises(ConfigError, match=fragment):
        Adam(eps=value)
    assert exact("1e-4000") == Fraction(1, 10**4000)


def test_validation_cost_is_bounded_for_mpmath_numbers():
    mpmath = pytest.importorskip("mpmath")
    with pytest.raises(ConfigError, match="binary exponent"):
        Adam(eps=mpmath.mpf(2) ** -100000)
