r"""Render a :class:`~adamproofs.derivations.core.Derivation` as text, Markdown or LaTeX.

All three show, for every step, its text, its statement(s) and its verdict
badge (``✔ symbolic``, ``✔ numeric at 50 digits``, ``✔ reference run``) with
the evidence (sample points, runs, digits of agreement). Markdown uses
arithmatex's generic syntax (``$...$``, ``$$...$$``) with math from
:func:`sympy.latex`. The renderers are pure functions of the derivation and
are cached.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import sympy as sp

from .core import Derivation, Step

_RELATIONS = {sp.Equality: "=", sp.Unequality: r"\neq", sp.GreaterThan: r"\geq",
              sp.StrictGreaterThan: ">", sp.LessThan: r"\leq", sp.StrictLessThan: "<"}


def _split(statement: Any, definition: bool) -> tuple[Any, str, Any] | None:
    for cls, op in _RELATIONS.items():
        if isinstance(statement, cls):
            return statement.lhs, (r"\mathrel{:=}" if definition and op == "=" else op), \
                statement.rhs
    return None


_NEGATED_FIRST = re.compile(r"\^\{- ([a-z]) \+ ([^{}]+)\}")


def _latex(expr: Any) -> str:
    r""":func:`sympy.latex` with exponents in reading order: sympy prints
    :math:`\beta^{t-i}` as ``\beta^{- i + t}``; this gives ``\beta^{t - i}``."""
    return _NEGATED_FIRST.sub(lambda m: f"^{{{m.group(2)} - {m.group(1)}}}", sp.latex(expr))


def statement_latex(step: Step) -> str:
    """The step's statement(s) as one LaTeX block (``aligned`` when there are several)."""
    parts = []
    for stmt in step.statements:
        split = _split(stmt, step.method == "definition")
        if split is None:
            parts.append((_latex(stmt), None, None))
        else:
            lhs, op, rhs = split
            parts.append((_latex(lhs), op, _latex(rhs)))
    if len(parts) == 1:
        lhs, op, rhs = parts[0]
        return lhs if op is None else f"{lhs} {op} {rhs}"
    rows = [lhs if op is None else f"{lhs} &{op} {rhs}" for lhs, op, rhs in parts]
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"


def statement_text(step: Step) -> str:
    """The step's statement(s) as Unicode pretty-printed blocks (sympy aligns the baselines)."""
    return "\n\n".join(sp.pretty(stmt, use_unicode=True, num_columns=96)
                       for stmt in step.statements)


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


def _md(text: str) -> str:
    """Escape Markdown (and arithmatex ``$``) specials in plain text; ``<`` as an entity."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("&", "&amp;").replace("<", "&lt;")


@lru_cache(maxsize=64)
def render_markdown(derivation: Derivation, level: int = 2) -> str:
    """Markdown for the docs site: a heading of ``level``, the summary, then each step with
    a ``$$...$$`` block (arithmatex generic syntax) and its verdict badge."""
    hashes = "#" * level
    out = [f"{hashes} {_md(derivation.title)}", "", _md(derivation.summary), ""]
    for n, step in enumerate(derivation.steps, start=1):
        out.append(f"**{n}.** {_md(step.text)}")
        out.append("")
        if step.statements:
            out += ["$$", statement_latex(step), "$$", ""]
        badge = step.badge()
        if badge:
            line = f"*{_md(badge)}*"
            if step.evidence:
                line += f" — {_md(step.evidence)}"
            out += [f"> {line}", ""]
        if step.detail:
            out += [f"> *Note:* {_md(step.detail)}", ""]
    out.append(f"*{_md(_summary_line(derivation))}*")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- LaTeX

_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                "^": r"\textasciicircum{}"}


def _tex(text: str) -> str:
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in text)


@lru_cache(maxsize=64)
def render_latex(derivation: Derivation) -> str:
    """A LaTeX section (needs amsmath; Unicode text needs xelatex or lualatex)."""
    out = [rf"\section*{{{_tex(derivation.title)}}}", _tex(derivation.summary), "",
           r"\begin{enumerate}"]
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
