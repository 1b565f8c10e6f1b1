r"""Render a :class:`~adamproofs.derivations._core.Derivation` as text, Markdown or LaTeX.

All three show, for every step, its text, its statement(s) and its verdict
badge (``✔ symbolic``, ``✔ numeric at 50 digits``, ``✔ reference run``) with
the evidence (sample points, runs, digits of agreement). Markdown uses
arithmatex's generic syntax (``$...$``, ``$$...$$``) with math from sympy's
LaTeX printer; :func:`render_checked_steps` folds the steps into one collapsible
block for the site's pages. Sums are printed in reading order, positive terms
first (:math:`\beta_1^{t-i}`, :math:`1 - \beta_1`, not sympy's
:math:`\beta_1^{- i + t}`). The renderers are pure functions of the derivation
and are cached.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.pretty_symbology import pretty_use_unicode

from ._core import Derivation, Step

_RELATIONS = {
    sp.Equality: "=",
    sp.Unequality: r"\neq",
    sp.GreaterThan: r"\geq",
    sp.StrictGreaterThan: ">",
    sp.LessThan: r"\leq",
    sp.StrictLessThan: "<",
}


def _positive_terms_first(terms: list[Any]) -> list[Any]:
    """Terms of a sum with the positive ones first, each group in sympy's order: ``t - i``
    and ``t + 1 - i`` rather than ``- i + t`` and ``- i + t + 1``."""
    return [term for term in terms if not term.could_extract_minus_sign()] + [
        term for term in terms if term.could_extract_minus_sign()
    ]


class _Latex(LatexPrinter):
    """sympy's LaTeX printer with sums in reading order (:func:`_positive_terms_first`)."""

    def _as_ordered_terms(self, expr: Any, order: Any = None) -> list[Any]:
        terms = super()._as_ordered_terms(expr, order=order)
        return _positive_terms_first(terms) if expr.is_Add else terms


class _Pretty(PrettyPrinter):
    """sympy's Unicode pretty printer with sums in reading order."""

    def _as_ordered_terms(self, expr: Any, order: Any = None) -> list[Any]:
        terms = super()._as_ordered_terms(expr, order=order)
        return _positive_terms_first(terms) if expr.is_Add else terms


def latex(expr: Any) -> str:
    """LaTeX of a sympy expression, sums in reading order (``\\beta_{1}^{t - i}``)."""
    return _Latex().doprint(expr)


def pretty(expr: Any, num_columns: int = 96) -> str:
    """Unicode pretty-print of a sympy expression, sums in reading order."""
    printer = _Pretty({"use_unicode": True, "num_columns": num_columns})
    previous = pretty_use_unicode(True)
    try:
        return printer.doprint(expr)
    finally:
        pretty_use_unicode(previous)


def _split(statement: Any, definition: bool) -> tuple[Any, str, Any] | None:
    for cls, op in _RELATIONS.items():
        if isinstance(statement, cls):
            return (
                statement.lhs,
                (r"\mathrel{:=}" if definition and op == "=" else op),
                statement.rhs,
            )
    return None


def statement_latex(step: Step) -> str:
    """The step's statement(s) as one LaTeX block (``aligned`` when there are several)."""
    parts: list[tuple[str, str | None, str]] = []
    for stmt in step.statements:
        split = _split(stmt, step.method == "definition")
        if split is None:
            parts.append((latex(stmt), None, ""))
        else:
            parts.append((latex(split[0]), split[1], latex(split[2])))
    if len(parts) == 1:
        left, relation, right = parts[0]
        return left if relation is None else f"{left} {relation} {right}"
    rows = [left if rel is None else f"{left} &{rel} {right}" for left, rel, right in parts]
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"


def statement_text(step: Step) -> str:
    """The step's statement(s) as Unicode pretty-printed blocks (sympy aligns the baselines)."""
    return "\n\n".join(pretty(stmt) for stmt in step.statements)


def _verdict_line(step: Step) -> str:
    badge = step.badge()
    if not badge:
        return ""
    return f"{badge}: {step.evidence}" if step.evidence else badge


# --------------------------------------------------------------------------- text


@lru_cache(maxsize=64)
def render_text(derivation: Derivation) -> str:
    """Plain Unicode text for a terminal."""
    out = [derivation.title, "=" * len(derivation.title), "", derivation.summary, ""]
    for n, step in enumerate(derivation.steps, start=1):
        out.append(f"{n}. {step.text}")
        if step.statements:
            out.append("")
            out.extend(("     " + line).rstrip() for line in statement_text(step).split("\n"))
            out.append("")
        verdict = _verdict_line(step)
        if verdict:
            out.append(f"   [{verdict}]")
        if step.detail:
            out.append(f"   Note: {step.detail}")
        out.append("")
    out.append(_summary_line(derivation))
    return "\n".join(out) + "\n"


def _summary_line(derivation: Derivation) -> str:
    claims = [s for s in derivation.steps if s.is_claim]
    bad = [s for s in claims if not s.verified]
    if bad:
        return f"NOT VERIFIED: {len(bad)} of {len(claims)} claims failed their check."
    return f"All {len(claims)} claims verified."


# --------------------------------------------------------------------------- Markdown

_MD_SPECIAL = re.compile(r"([\\`*_$\[\]])")
#: ``x^(a+b)``, ``x^t`` and ``x_i``, ``x_{t−1}``, ``x_(3k+1)`` in step texts (after escaping).
_SUPERSCRIPT = re.compile(r"\^(\((?:[^()]|\([^()]*\))*\)|[0-9A-Za-zα-ω]+)")
_SUBSCRIPT = re.compile(
    r"(?<![0-9A-Za-z\\])([A-Za-zα-ωΑ-Ω][\u0302\u0304]?)\\_"
    r"(\{[^{}]*\}|\([^()]*\)|[0-9A-Za-z]+)"
)


def escape_markdown(text: str) -> str:
    """Escape Markdown (and arithmatex ``$``) specials in plain text; ``<`` as an entity."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("&", "&amp;").replace("<", "&lt;")


def _unwrap(group: str) -> str:
    return group[1:-1] if group[:1] in "({" and group[-1:] in ")}" else group


def prose_markdown(text: str) -> str:
    """:func:`escape_markdown`, then the plain-text exponents and indices of step texts
    (``β^(t−i)``, ``g_i``) as HTML superscripts and subscripts, so they read as math."""
    escaped = escape_markdown(text)
    escaped = _SUPERSCRIPT.sub(lambda m: f"<sup>{_unwrap(m.group(1))}</sup>", escaped)
    return _SUBSCRIPT.sub(lambda m: f"{m.group(1)}<sub>{_unwrap(m.group(2))}</sub>", escaped)


def _md_steps(derivation: Derivation) -> list[str]:
    """Each step: its number and text, a ``$$...$$`` block, its verdict as a quote."""
    out: list[str] = []
    for n, step in enumerate(derivation.steps, start=1):
        out += [f"**{n}.** {prose_markdown(step.text)}", ""]
        if step.statements:
            out += ["$$", statement_latex(step), "$$", ""]
        badge = step.badge()
        if badge:
            line = f"*{escape_markdown(badge)}*"
            if step.evidence:
                line += f" — {prose_markdown(step.evidence)}"
            out += [f"> {line}", ""]
        if step.detail:
            out += [f"> *Note:* {prose_markdown(step.detail)}", ""]
    return out


@lru_cache(maxsize=64)
def render_markdown(derivation: Derivation, level: int = 2) -> str:
    """Markdown: a heading of ``level``, the summary, then each step with a ``$$...$$`` block
    (arithmatex generic syntax) and its verdict badge, then the overall verdict."""
    hashes = "#" * level
    out = [
        f"{hashes} {escape_markdown(derivation.title)}",
        "",
        prose_markdown(derivation.summary),
        "",
    ]
    out += _md_steps(derivation)
    out.append(f"*{escape_markdown(_summary_line(derivation))}*")
    return "\n".join(out) + "\n"


def checked_steps_title(derivation: Derivation) -> str:
    """``Checked steps: TITLE (N steps, all K claims verified)``, or what failed."""
    claims = [s for s in derivation.steps if s.is_claim]
    bad = [s for s in claims if not s.verified]
    verdict = (
        f"NOT VERIFIED: {len(bad)} of {len(claims)} claims failed"
        if bad
        else f"all {len(claims)} claims verified"
    )
    return f"Checked steps: {derivation.title} ({len(derivation.steps)} steps, {verdict})"


@lru_cache(maxsize=64)
def render_checked_steps(derivation: Derivation, summary: bool = True) -> str:
    """The derivation as one collapsible block (pymdownx.details): closed and marked
    ``success`` when every claim verified, open and marked ``failure`` otherwise.

    The page around it tells the argument; the block holds the summary (``summary``), every
    step with its statement and verdict, and the overall verdict.
    """
    marker, kind = ("???", "success") if derivation.verified else ("???+", "failure")
    title = escape_markdown(checked_steps_title(derivation)).replace('"', "&quot;")
    body = [prose_markdown(derivation.summary), ""] if summary else []
    body += _md_steps(derivation)
    body.append(f"*{escape_markdown(_summary_line(derivation))}*")
    lines = [f'{marker} {kind} checked-steps "{title}"', ""]
    lines += [f"    {line}" if line else "" for line in "\n".join(body).splitlines()]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- LaTeX

_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def _tex(text: str) -> str:
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in text)


@lru_cache(maxsize=64)
def render_latex(derivation: Derivation) -> str:
    """A LaTeX section (needs amsmath; Unicode text needs xelatex or lualatex)."""
    out = [
        rf"\section*{{{_tex(derivation.title)}}}",
        _tex(derivation.summary),
        "",
        r"\begin{enumerate}",
    ]
    for step in derivation.steps:
        out.append(rf"\item {_tex(step.text)}")
        if step.statements:
            out += [r"\[", statement_latex(step), r"\]"]
        verdict = _verdict_line(step)
        if verdict:
            out.append(rf"\par\textit{{{_tex(verdict)}}}")
        if step.detail:
            out.append(rf"\par\textit{{Note: {_tex(step.detail)}}}")
    out += [r"\end{enumerate}", rf"\textit{{{_tex(_summary_line(derivation))}}}"]
    return "\n".join(out) + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "latex": render_latex}


def render(derivation: Derivation, fmt: str = "text") -> str:
    """Render in ``fmt``: one of ``text``, ``markdown``, ``latex``."""
    if fmt not in RENDERERS:
        raise ValueError(f"format={fmt!r} is not one of {tuple(RENDERERS)}")
    return RENDERERS[fmt](derivation)
