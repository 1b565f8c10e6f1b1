r"""Algorithm 1 of Kingma & Ba beside the reference code that implements each line.

The code column is read from :mod:`adamproofs.reference.rules` at build time: every row names
a fragment that must occur on exactly one line of the rule's source, so the page can never show
code that the oracle does not run (the build fails with :class:`AlgorithmSourceError` if a
fragment disappears or becomes ambiguous).
"""

from __future__ import annotations

import html
import inspect
from dataclasses import dataclass

from adamproofs.reference import rules


class AlgorithmSourceError(RuntimeError):
    """A fragment of the annotated algorithm no longer matches the reference source."""


@dataclass(frozen=True)
class Row:
    """One line of the paper (LaTeX) and the code fragments that implement it."""

    math: str
    fragments: tuple[str, ...]
    note: str = ""


#: Algorithm 1 (Kingma & Ba 2015), line by line.
ALGORITHM_1: tuple[Row, ...] = (
    Row(
        r"m_0 \leftarrow 0,\; v_0 \leftarrow 0",
        ("state: State = {name: [zero] * size",),
        "the state before step 1 (`initial_state`)",
    ),
    Row(
        r"t \leftarrow t + 1",
        ("stages.bias_corrections(cfg.bias_correction, h, t, one)",),
        "the caller passes the 1-based step number of this update",
    ),
    Row(
        r"g_t \leftarrow \nabla_\theta f_t(\theta_{t-1})",
        ("g = [-gi for gi in grad] if cfg.maximize else grad",),
        "the gradient is an input; `maximize` negates it",
    ),
    Row(
        r"m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t",
        ("c1 = one - b1  # 1 - β1", "return [b1 * mi + c1 * gi for mi, gi in zip(m, g)]"),
    ),
    Row(
        r"v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2",
        ("c2 = one - b2  # 1 - β2", "return [b2 * vi + c2 * gi * gi for vi, gi in zip(v, g)]"),
    ),
    Row(
        r"\hat m_t \leftarrow m_t / (1-\beta_1^t)",
        ("bc1 = one - b1**t",),
        "the division happens inside the update (`mi / bc1`)",
    ),
    Row(
        r"\hat v_t \leftarrow v_t / (1-\beta_2^t)",
        ("bc2 = one - b2**t", "hat = [vi / bc2 for vi in v]"),
    ),
    Row(
        r"\theta_t \leftarrow \theta_{t-1} - \alpha\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)",
        (
            "return [lr * A.quotient(mi / bc1, A.sqrt(vi) + eps)",
            "return [th - d for th, d in zip(theta, deltas)]",
        ),
        "`A.quotient` defines 0/0 as 0 (ε = 0 and all gradients zero)",
    ),
)

#: The variants the same rule implements (see the configuration flags).
VARIANTS: tuple[Row, ...] = (
    Row(
        r"\alpha_t = \alpha \sqrt{1-\beta_2^t}/(1-\beta_1^t),\;"
        r"\theta_t \leftarrow \theta_{t-1} - \alpha_t\, m_t/(\sqrt{v_t} + \hat\epsilon)",
        ("lr_t = lr * A.sqrt(bc2) / bc1", "return [lr_t * A.quotient(mi, A.sqrt(vi) + eps)"),
        '`eps_placement="hat"`: the paper\'s "efficient" form (Keras, TF1)',
    ),
    Row(
        r"\theta_t \leftarrow \theta_{t-1} - \alpha\, \hat m_t/\sqrt{\hat v_t + \epsilon}",
        ("return [lr * A.quotient(mi / bc1, A.sqrt(vi + eps))",),
        '`eps_placement="root"` (optax `eps_root`)',
    ),
    Row(
        r"g_t \leftarrow g_t + \lambda \theta_{t-1}",
        ("return [gi + wd * th",),
        '`decay="l2"`: weight decay as an L2 penalty in the gradient',
    ),
    Row(
        r"\theta \leftarrow \theta (1 - \alpha\lambda)",
        ("return [th * shrink - d",),
        '`decay="decoupled"` (AdamW, before the step) or `"decoupled_after"`',
    ),
    Row(
        r"\hat v^{\max}_t = \max(\hat v^{\max}_{t-1}, \hat v_t)",
        ("hat = [A.maximum(a, vi / bc2)",),
        '`amsgrad="max_corrected"` (one of three AMSGrad definitions)',
    ),
)


def _source() -> tuple[list[str], int]:
    """Lines of ``rules.py`` from ``initial_state`` to the end of ``adam_step``, first line no."""
    lines, _ = inspect.getsourcelines(rules)
    first = next(i for i, ln in enumerate(lines) if ln.startswith("def initial_state"))
    end = next(i for i, ln in enumerate(lines) if ln.startswith("def adamax_step"))
    return lines[first:end], first + 1


def find_line(fragment: str) -> tuple[int, str]:
    """The line number in ``rules.py`` and the stripped line containing ``fragment``."""
    lines, first = _source()
    hits = [(first + i, ln.strip()) for i, ln in enumerate(lines) if fragment in ln]
    if len(hits) != 1:
        raise AlgorithmSourceError(
            f"annotated algorithm: fragment {fragment!r} occurs {len(hits)} times in "
            f"adamproofs/reference/rules.py (expected exactly once); update "
            f"docs_build/algorithm.py to match the reference code"
        )
    return hits[0]


def _code_cell(fragments: tuple[str, ...]) -> str:
    parts = []
    for fragment in fragments:
        lineno, line = find_line(fragment)
        code = line.split("  # ", 1)[0]  # the comment restates the math column
        parts.append(f"<code>{html.escape(code)}</code> <small>line {lineno}</small>")
    return "<br>".join(parts)


def render_table(rows: tuple[Row, ...]) -> str:
    """An HTML table: the paper's line (typeset) beside the reference code and a note."""
    out = [
        '<div class="algo-wrap"><table class="algo">',
        "<thead><tr><th>paper</th><th>reference code (rules.py)</th></tr></thead>",
        "<tbody>",
    ]
    for row in rows:
        note = html.escape(row.note).replace("`", "")
        note = f'<br><span class="algo-note">{note}</span>' if note else ""
        out.append(
            f'<tr><td><span class="arithmatex">\\({html.escape(row.math)}\\)</span></td>'
            f"<td>{_code_cell(row.fragments)}{note}</td></tr>"
        )
    out += ["</tbody>", "</table></div>", ""]
    return "\n".join(out)


def render_source() -> str:
    """The whole reference Adam rule, as a collapsible code block with rules.py line numbers."""
    lines, first = _source()
    code = "".join(lines).rstrip()
    return (
        f'??? example "adamproofs/reference/rules.py, lines {first}–'
        f'{first + len(lines) - 1}"\n\n'
        f'    ```python linenums="{first}"\n'
        + "\n".join("    " + ln if ln else "" for ln in code.splitlines())
        + "\n    ```\n"
    )
