"""The derivations: every step verifies, the checker can fail, renderers and CLI work."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp
from sympy.logic.boolalg import BooleanAtom

from adamproofs import reference
from adamproofs.cli import main
from adamproofs.config import Adam
from adamproofs.derivations import (
    DERIVATIONS,
    Entry,
    Proof,
    derive,
    render_latex,
    render_markdown,
    render_text,
)
from adamproofs.derivations._core import METHODS, prove, rel
from adamproofs.derivations._symbols import beta1, g, i, t, unrolled
from adamproofs.derivations._tactics import induction_step_holds

NAMES = list(DERIVATIONS)
x = sp.Symbol("x", positive=True)


# --------------------------------------------------------------------------- every derivation


@pytest.mark.parametrize("name", NAMES)
def test_every_step_of_every_derivation_verifies(name: str) -> None:
    d = derive(name)
    failures = [(s.text, s.label, s.evidence) for s in d.failures()]
    assert failures == []
    assert d.verified
    assert sum(s.is_claim for s in d.steps) >= 3
    assert {s.method for s in d.steps} <= set(METHODS)


@pytest.mark.parametrize("name", NAMES)
def test_statements_are_not_collapsed_to_booleans(name: str) -> None:
    # an evaluated relation (e.g. x + 1 > x -> True) would show "True" to the reader
    for step in derive(name).steps:
        for stmt in step.statements:
            assert not isinstance(stmt, BooleanAtom), step.text


def test_the_ten_derivations_of_the_issue_are_registered() -> None:
    assert NAMES == [
        "unrolled-moments",
        "geometric-series",
        "bias-correction",
        "first-step",
        "step-bounds",
        "scale-invariance",
        "eps-hat",
        "adamax",
        "non-convergence",
        "errata",
    ]


@pytest.mark.parametrize(
    "name",
    [
        "unrolled-moments",
        "first-step",
        "step-bounds",
        "scale-invariance",
        "eps-hat",
        "adamax",
        "non-convergence",
    ],
)
def test_claims_about_runs_are_cross_checked_by_the_reference(name: str) -> None:
    refs = [s for s in derive(name).steps if s.method == "reference"]
    assert refs and all(s.verified for s in refs)


def test_worst_case_cross_check_reports_at_least_40_digits() -> None:
    step = next(
        s
        for s in derive("step-bounds").steps
        if s.method == "reference" and "(β₂/β₁)^i" in s.evidence
    )
    assert step.verified
    assert "t in (1, 2, 10, 100, 1000)" in step.evidence
    digits = float(step.evidence.split("worst agreement ")[1].split(" digits")[0])
    assert digits >= 40


def test_worst_case_sequence_independently() -> None:
    """Independent of the derivation code: the oracle fed g_i = (β2/β1)^i at the defaults
    gives the step ratio S(t) computed here from the formula, and the values published in
    the project's math notes (adam-math.md §4.3, computed separately at 60 digits)."""
    ctx = mpmath.MPContext()
    ctx.dps = 70
    b1, b2 = ctx.mpf("0.9"), ctx.mpf("0.999")
    rho = b1**2 / b2

    def s_of(n: int):
        return (
            (1 - b1)
            / (1 - b1**n)
            * ctx.sqrt((1 - b2**n) / (1 - b2))
            * ctx.sqrt((1 - rho**n) / (1 - rho))
        )

    grads = [[mpmath.libmp.to_str(((b2 / b1) ** n)._mpf_, 65)] for n in range(1, 101)]
    traj = reference.run(Adam(lr=1, beta1="0.9", beta2="0.999", eps=0), [0], grads, dps=50)
    th = [ctx.make_mpf(row[0]._mpf_) for row in traj.thetas]
    for n in (1, 2, 10, 100):
        delta = th[n - 1] - th[n]
        assert abs(delta - s_of(n)) <= ctx.mpf(10) ** -40 * s_of(n)
    published = {2: "1.0013579", 10: "1.0431077", 100: "2.2433641"}
    for n, text in published.items():
        assert abs(s_of(n) - ctx.mpf(text)) < ctx.mpf("1e-7")


# --------------------------------------------------------------------------- the checker can fail


def test_prove_rejects_false_statements() -> None:
    assert prove(rel("==", x + 1, x + 1))
    assert not prove(rel("==", x + 1, x))
    assert prove(rel(">", x + 1, x))
    assert not prove(rel(">", x, x + 1))
    assert not prove(rel("<=", x, 1))  # undecidable without more information: not verified


def test_false_steps_are_reported_unverified() -> None:
    p = Proof("broken", "Broken")
    p.symbolic("true", rel("==", (x + 1) ** 2, x**2 + 2 * x + 1))
    p.symbolic("false", rel("==", (x + 1) ** 2, x**2 + 1))
    p.numeric(
        "false numerically", rel("==", sp.sqrt(2), sp.Rational(141421356237, 10**11)), [{}], dps=50
    )
    p.reference("crashing check", rel("==", x, x), lambda: 1 / 0)
    d = p.build()
    assert [s.verified for s in d.steps] == [True, False, False, False]
    assert not d.verified
    assert "ZeroDivisionError" in d.steps[3].evidence
    for rendered in (render_text(d), render_markdown(d), render_latex(d)):
        assert "NOT VERIFIED" in rendered


def test_numeric_check_passes_at_sample_points() -> None:
    p = Proof("n", "N")
    p.numeric(
        "AM-GM at two points",
        rel(">=", (x + 1) / 2, sp.sqrt(x)),
        [{x: sp.Rational(3)}, {x: sp.Rational(1, 7)}],
        dps=50,
    )
    step = p.build().steps[0]
    assert step.verified
    assert step.label == "numeric at 50 digits"
    assert "x=3" in step.evidence


def test_wrong_exponent_fails_the_induction_step() -> None:
    right = unrolled(beta1, lambda j: g[j])
    wrong = (1 - beta1) * sp.Sum(beta1 ** (t - 1) * g[i], (i, 1, t))

    def recursion(e: sp.Expr) -> sp.Expr:
        return beta1 * e + (1 - beta1) * g[t + 1]

    assert induction_step_holds(right, recursion, t, i)
    assert not induction_step_holds(wrong, recursion, t, i)


# --------------------------------------------------------------------------- renderers


def test_markdown_has_math_blocks_and_a_badge_per_claim() -> None:
    d = derive("first-step")
    md = render_markdown(d)
    assert md.startswith("## The first step")
    assert md.count("$$") % 2 == 0 and md.count("$$") >= 2 * len(d.steps) - 2
    claims = [s for s in d.steps if s.is_claim]
    assert md.count("✔") == len(claims)
    assert "✔ reference run" in md and "✔ symbolic" in md
    assert render_markdown(d) is md  # cached, no side effects


def test_markdown_numeric_badge_names_precision() -> None:
    md = render_markdown(derive("step-bounds"))
    assert "✔ numeric at 40 digits" in md


def test_latex_and_text_renderers() -> None:
    d = derive("geometric-series")
    tex = render_latex(d)
    assert tex.startswith(r"\section*{")
    assert r"\begin{enumerate}" in tex and tex.count(r"\[") == tex.count(r"\]")
    text = render_text(d)
    assert text.startswith(d.title) and "[✔ symbolic]" in text
    assert "claims verified" in text


# --------------------------------------------------------------------------- CLI


def test_cli_lists_derivations(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["derive"]) == 0
    out = capsys.readouterr().out
    for name, entry in DERIVATIONS.items():
        assert name in out and entry.title in out


@pytest.mark.parametrize(
    "fmt, marker", [("text", "[✔ symbolic]"), ("markdown", "$$"), ("latex", r"\begin{enumerate}")]
)
def test_cli_prints_in_each_format(
    fmt: str, marker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["derive", "first-step", "geometric-series", "--format", fmt]) == 0
    captured = capsys.readouterr()
    assert marker in captured.out
    assert "The first step" in captured.out and "geometric series" in captured.out
    assert "checking first-step" in captured.err  # progress goes to stderr


def test_cli_unknown_name_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["derive", "first-step", "no-such-thing"]) == 2
    err = capsys.readouterr().err
    assert "'no-such-thing'" in err and "first-step" in err


def test_unknown_name_in_the_api_is_a_clear_error() -> None:
    from adamproofs.derivations import UnknownDerivation

    with pytest.raises(UnknownDerivation, match=r"'nope'.*known: unrolled-moments"):
        derive("nope")


def test_remarks_carry_no_formula_and_definitions_are_not_claims() -> None:
    for name in ("step-bounds", "unrolled-moments"):
        for step in derive(name).steps:
            if step.method == "remark":
                assert step.statement is None
            if step.method == "definition":
                assert not step.is_claim and step.badge() == "definition"


def test_cli_bad_format_exits_2() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["derive", "first-step", "--format", "pdf"])
    assert exc.value.code == 2


def test_cli_exits_1_when_a_step_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(p: Proof) -> None:
        p.symbolic("a false claim", rel("==", x, x + 1))

    monkeypatch.setitem(DERIVATIONS, "broken-demo", Entry("broken-demo", "Broken", "", broken))
    assert main(["derive", "broken-demo", "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "NOT VERIFIED" in captured.out and "broken-demo" in captured.err
