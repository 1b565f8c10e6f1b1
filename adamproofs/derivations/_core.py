"""Steps, derivations and the checkers that give each step its verdict.

A :class:`Step` pairs a short text with a sympy statement (an equation, an
inequality or a plain expression) and records *how* it was verified:

- ``"symbolic"``: sympy reduced the statement to ``True`` (for ``a = b``,
  ``a - b`` simplifies to 0; for ``a >= b``, ``a - b`` is provably >= 0 under
  the symbols' assumptions);
- ``"numeric"``: both sides were evaluated with mpmath at ``dps`` digits at the
  stated sample points and agree to ``dps - 5`` digits (or the inequality holds
  with that margin);
- ``"reference"``: the claim was cross-checked by running the reference
  optimizer (:func:`adamproofs.reference.run`);
- ``"definition"``, ``"source"`` (a fact quoted from the literature) and ``"remark"``
  (plain text, no formula) are not claims.

Verdicts are computed when the step is added, never assumed: a checker that
cannot close a statement records ``verified=False`` (and any exception raised
while checking is caught and reported as the reason).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import mpmath
import sympy as sp

METHODS = ("symbolic", "numeric", "reference", "definition", "source", "remark")

#: A statement is one sympy object, or several shown one per line.
Statement = Any


@dataclass(frozen=True)
class Step:
    """One line of a derivation and its verdict."""

    text: str
    statement: Statement | tuple[Statement, ...] | None
    method: str
    verified: bool
    #: Short label of how it was checked: "symbolic", "numeric at 50 digits", "reference run".
    label: str = ""
    #: What exactly was computed (sample points, runs, digits of agreement).
    evidence: str = ""
    detail: str = ""
    #: CPU seconds spent checking (for profiling; not part of the step's identity).
    seconds: float = field(default=0.0, compare=False)

    @property
    def is_claim(self) -> bool:
        """True for steps that assert something (not definitions or remarks)."""
        return self.method in ("symbolic", "numeric", "reference")

    @property
    def statements(self) -> tuple[Statement, ...]:
        if self.statement is None:
            return ()
        return self.statement if isinstance(self.statement, tuple) else (self.statement,)

    def badge(self) -> str:
        """A short verdict: ``"✔ symbolic"``, ``"✔ numeric at 50 digits"``, ``"✔ reference
        run"``, ``"✘ NOT VERIFIED (symbolic)"``, ``"definition"``, or ``""`` for a remark."""
        if self.method in ("definition", "source"):
            return self.label or self.method
        if self.method == "remark":
            return ""
        label = self.label or self.method
        return f"✔ {label}" if self.verified else f"✘ NOT VERIFIED ({label})"


@dataclass(frozen=True)
class Derivation:
    """A named, ordered list of checked steps."""

    name: str
    title: str
    summary: str
    steps: tuple[Step, ...]

    @property
    def verified(self) -> bool:
        """True when every claim in the derivation was verified."""
        return all(s.verified for s in self.steps)

    def failures(self) -> list[Step]:
        return [s for s in self.steps if not s.verified]


# --------------------------------------------------------------------------- symbolic checks


def is_zero(expr: Any) -> bool:
    """True only when sympy *proves* ``expr == 0`` (no numeric guessing)."""
    expr = sp.sympify(expr)
    if expr == 0:
        return True
    for transform in (sp.expand, sp.cancel, sp.simplify, _powers, sp.factor):
        try:
            expr = transform(expr)
        except Exception:  # a transform that fails only means: not this way
            continue
        if expr == 0:
            return True
    return False


def _powers(expr: Any) -> Any:
    return sp.simplify(sp.powsimp(sp.expand_power_exp(sp.expand(expr)), force=False))


def is_nonnegative(expr: Any, strict: bool = False) -> bool:
    """True only when sympy's assumption system proves ``expr >= 0`` (``> 0`` if strict)."""
    expr = sp.sympify(expr)
    candidates = [expr]
    for transform in (sp.together, sp.factor, sp.simplify, sp.expand):
        try:
            candidates.append(transform(expr))
        except Exception:  # a transform that fails only means: not this way
            continue
    for cand in candidates:
        verdict = cand.is_positive if strict else cand.is_nonnegative
        if verdict:
            return True
        num, den = sp.fraction(sp.together(cand))
        if den.is_positive and (num.is_positive if strict else num.is_nonnegative):
            return True
        if sp.expand(num) != num:
            num = sp.expand(num)
            if den.is_positive and (num.is_positive if strict else num.is_nonnegative):
                return True
    return False


def _sides(statement: Any) -> tuple[Any, Any, str]:
    """(lhs, rhs, relation) of an equation or inequality; relation in == >= > <= < !=."""
    if isinstance(statement, sp.Equality):
        return statement.lhs, statement.rhs, "=="
    if isinstance(statement, sp.Unequality):
        return statement.lhs, statement.rhs, "!="
    if isinstance(statement, sp.GreaterThan):
        return statement.lhs, statement.rhs, ">="
    if isinstance(statement, sp.StrictGreaterThan):
        return statement.lhs, statement.rhs, ">"
    if isinstance(statement, sp.LessThan):
        return statement.lhs, statement.rhs, "<="
    if isinstance(statement, sp.StrictLessThan):
        return statement.lhs, statement.rhs, "<"
    raise TypeError(f"statement {statement!r} is not an equation or inequality")


def prove(statement: Any) -> bool:
    """Symbolic verdict for one equation or inequality (unevaluated relationals welcome)."""
    if statement is sp.true or statement is True:
        return True
    if statement is sp.false or statement is False:
        return False
    lhs, rhs, rel = _sides(statement)
    lhs, rhs = sp.sympify(lhs).doit(), sp.sympify(rhs).doit()
    diff = lhs - rhs
    if rel == "==":
        return is_zero(diff)
    if rel == "!=":
        return bool(sp.simplify(diff).is_nonzero)
    if rel in (">=", ">"):
        return is_nonnegative(diff, strict=rel == ">")
    return is_nonnegative(-diff, strict=rel == "<")


# --------------------------------------------------------------------------- numeric checks


def evaluate(expr: Any, point: Mapping[Any, Any], ctx: mpmath.MPContext) -> Any:
    """``expr`` at ``point`` as an mpf of the private context ``ctx`` (sympy's evalf, with
    10 guard digits beyond ``ctx.dps``)."""
    value = sp.sympify(expr).subs(dict(point)).doit()
    num = sp.N(value, ctx.dps + 10)
    if not num.is_number:
        raise ValueError(
            f"{expr} still has free symbols {sorted(map(str, num.free_symbols))} "
            f"at the point {_fmt_point(point)}"
        )
    if num.is_real is False:
        raise ValueError(f"{expr} is not real at {_fmt_point(point)}: {num}")
    return ctx.mpf(str(num))


def holds_numerically(
    statement: Any, points: Iterable[Mapping[Any, Any]], dps: int = 50
) -> tuple[bool, str]:
    """Check a relation at every point to ``dps - 5`` digits; returns (verdict, reason)."""
    lhs, rhs, rel = _sides(statement)
    ctx = private_context(dps + 10)
    tol_digits = dps - 5
    for point in points:
        a, b = evaluate(lhs, point, ctx), evaluate(rhs, point, ctx)
        scale = max(abs(a), abs(b), ctx.mpf(1))
        tol = scale * ctx.mpf(10) ** (-tol_digits)
        diff = a - b
        ok = {
            "==": abs(diff) <= tol,
            "!=": abs(diff) > tol,
            ">=": diff >= -tol,
            ">": diff > tol,
            "<=": diff <= tol,
            "<": diff < -tol,
        }[rel]
        if not ok:
            return False, (
                f"fails at {_fmt_point(point)}: lhs = {ctx.nstr(a, 20)}, rhs = {ctx.nstr(b, 20)}"
            )
    return True, ""


def private_context(dps: int) -> mpmath.MPContext:
    """A fresh mpmath context (never touches mpmath's global precision)."""
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


def _fmt_point(point: Mapping[Any, Any]) -> str:
    """``(β₁=0.9, t=10)``: symbols pretty-printed, floats shortened (display only)."""

    def value(v: Any) -> str:
        if isinstance(v, (sp.Float, float)):
            return f"{float(v):.15g}"
        return str(v)

    return (
        "("
        + ", ".join(f"{sp.pretty(k, use_unicode=True)}={value(v)}" for k, v in point.items())
        + ")"
    )


# --------------------------------------------------------------------------- building


@dataclass
class Proof:
    """Collects the steps of one derivation, checking each as it is added."""

    name: str
    title: str
    summary: str = ""
    steps: list[Step] = field(default_factory=list)

    def define(self, text: str, statement: Statement, detail: str = "") -> None:
        """A definition (rendered with ``:=``); not a claim."""
        self.steps.append(Step(text, statement, "definition", True, "definition", "", detail))

    def source(self, text: str, statement: Statement, citation: str, detail: str = "") -> None:
        """A fact quoted from the literature (not checkable by computation); not a claim."""
        self.steps.append(Step(text, statement, "source", True, f"source: {citation}", "", detail))

    def remark(self, text: str, detail: str = "") -> None:
        """Plain text (no formula: every formula shown is a definition or a checked claim)."""
        self.steps.append(Step(text, None, "remark", True, "", "", detail))

    def symbolic(
        self,
        text: str,
        statement: Statement | tuple[Statement, ...],
        *,
        check: Callable[[], bool] | None = None,
        detail: str = "",
    ) -> bool:
        """A claim closed by sympy: ``check()`` if given (a sympy computation), else
        :func:`prove` on every statement."""
        statements = statement if isinstance(statement, tuple) else (statement,)

        def run() -> tuple[bool, str]:
            ok = check() if check is not None else all(prove(s) for s in statements)
            return bool(ok), ""

        return self._checked(text, statement, "symbolic", "symbolic", run, detail)

    def numeric(
        self,
        text: str,
        statement: Statement,
        points: Sequence[Mapping[Any, Any]],
        *,
        dps: int = 50,
        detail: str = "",
    ) -> bool:
        """A claim checked with mpmath at ``dps`` digits at each of ``points``."""
        where = "; ".join(_fmt_point(p) for p in points)

        def run() -> tuple[bool, str]:
            ok, why = holds_numerically(statement, points, dps)
            return ok, f"points {where}" + (f" ({why})" if why else "")

        return self._checked(text, statement, "numeric", f"numeric at {dps} digits", run, detail)

    def computed(
        self,
        text: str,
        statement: Statement | tuple[Statement, ...],
        check: Callable[[], tuple[bool, str]],
        *,
        dps: int,
        detail: str = "",
    ) -> bool:
        """A numeric claim over many points (e.g. every t up to 5000) computed directly with
        mpmath at ``dps`` digits; ``check`` returns ``(verdict, what was evaluated)``."""

        return self._checked(text, statement, "numeric", f"numeric at {dps} digits", check, detail)

    def reference(
        self,
        text: str,
        statement: Statement | tuple[Statement, ...],
        check: Callable[[], tuple[bool, str]],
        *,
        detail: str = "",
    ) -> bool:
        """A claim cross-checked by running the reference optimizer; ``check`` returns
        ``(verdict, what was run and how close it came)``."""

        return self._checked(text, statement, "reference", "reference run", check, detail)

    def _checked(
        self,
        text: str,
        statement: Any,
        method: str,
        label: str,
        run: Callable[[], tuple[bool, str]],
        detail: str,
    ) -> bool:
        start = time.process_time()
        try:
            ok, evidence = run()
            ok = bool(ok)
        except Exception as err:  # a checker that crashes has not verified anything
            ok, evidence = False, f"the check raised {type(err).__name__}: {err}"
        self.steps.append(
            Step(
                text,
                statement,
                method,
                ok,
                label,
                evidence,
                detail,
                seconds=time.process_time() - start,
            )
        )
        return ok

    def build(self) -> Derivation:
        return Derivation(self.name, self.title, self.summary, tuple(self.steps))


# --------------------------------------------------------------------------- helpers


def rel(kind: str, lhs: Any, rhs: Any) -> Any:
    """An *unevaluated* relation (so ``x + 1 > x`` is shown, not collapsed to ``True``)."""
    cls = {"==": sp.Eq, "!=": sp.Ne, ">=": sp.Ge, ">": sp.Gt, "<=": sp.Le, "<": sp.Lt}[kind]
    return cls(lhs, rhs, evaluate=False)


def pull_out_of_sums(expr: Any, index: sp.Symbol) -> Any:
    r"""Move factors that do not depend on ``index`` out of every ``Sum``:
    :math:`\sum_i c\, \beta^{k-i} g_i = c\,\beta^{k} \sum_i \beta^{-i} g_i`."""

    def pull(s: sp.Sum) -> Any:
        body = sp.powsimp(sp.expand_power_exp(sp.expand(s.function)))
        const, rest = body.as_independent(index, as_Add=False)
        return const * sp.Sum(rest, *s.limits)

    return expr.replace(lambda e: isinstance(e, sp.Sum), pull)


def digits_of_agreement(a: Any, b: Any, dps: int = 80) -> float:
    """Decimal digits to which two numbers agree, relative (``inf`` when equal).

    Computed in a private context of ``dps`` digits; mpf inputs are taken exactly."""
    ctx = private_context(dps)
    x = ctx.make_mpf(a._mpf_) if hasattr(a, "_mpf_") else ctx.mpf(str(a))
    y = ctx.make_mpf(b._mpf_) if hasattr(b, "_mpf_") else ctx.mpf(str(b))
    if x == y:
        return float("inf")
    return float(-ctx.log10(abs(x - y) / max(abs(x), abs(y))))


def frac(numerator: Any, denominator: Any) -> Any:
    """``numerator / denominator`` kept unevaluated, so a display shows the step taken."""
    return sp.Mul(numerator, sp.Pow(denominator, -1, evaluate=False), evaluate=False)
