r"""A griffe extension (used by mkdocstrings) that turns the reST bits of docstrings into Markdown.

The package's docstrings are written for both ``help()`` and the site, so they use a few reST
constructs; this rewrites them before mkdocstrings renders them:

- ``.. math::`` blocks become ``$$ ... $$`` display math (in ``aligned`` when they use ``&`` or
  ``\\``), ``:math:`x``` becomes ``$x$`` (also when the role's text runs over several lines);
- ``:class:`~a.b.C```, ``:func:``, ``:mod:``, ``:data:``, ``:meth:``, ``:attr:`` roles become
  inline code (``C`` for the ``~`` form);
- doctest examples (``>>>`` lines and their output) become fenced ``pycon`` code blocks;
- a paragraph ending in ``::`` followed by an indented block becomes a fenced code block.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

from griffe import Extension

_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_XREF_ROLE = re.compile(r":(?:class|func|mod|data|meth|attr|exc|obj):`(~?)([^`]+)`")


def _role(match: re.Match[str]) -> str:
    target = match.group(2)
    return f"`{target.rsplit('.', 1)[-1] if match.group(1) else target}`"


def _indented_block(lines: list[str], start: int) -> tuple[list[str], int]:
    """The indented (or blank) lines from ``start``; returns them and the index after them."""
    end = start
    while end < len(lines) and (not lines[end].strip() or lines[end].startswith((" ", "\t"))):
        end += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end], end


def _inline_math(match: re.Match[str]) -> str:
    """``$x$`` for a ``:math:`x``` role; a role broken over lines is joined into one line."""
    body = match.group(1)
    if _BLANK_LINE.search(body):  # not one role: a stray backtick pairs across paragraphs
        return match.group(0)
    return "$" + " ".join(part.strip() for part in body.splitlines()) + "$"


def to_markdown(text: str) -> str:
    """Rewrite one docstring (see the module docstring)."""
    text = _MATH_ROLE.sub(_inline_math, text)
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if stripped == ".. math::":
            block, i = _indented_block(lines, i + 1)
            body = textwrap.dedent("\n".join(block)).strip()
            if "&" in body or "\\\\" in body:  # several aligned lines, as Sphinx renders them
                body = f"\\begin{{aligned}}\n{body}\n\\end{{aligned}}"
            out += [f"{indent}$$", *(indent + b for b in body.splitlines()), f"{indent}$$"]
            continue
        if stripped.startswith(">>>"):
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
                i += 1
            out += [f"{indent}```pycon", *(indent + b for b in block), f"{indent}```"]
            continue
        if stripped.endswith("::") and not stripped.startswith(".."):
            block, j = _indented_block(lines, i + 1)
            if any(b.strip() for b in block):
                body = textwrap.dedent("\n".join(block)).strip("\n")
                out.append(line[:-1] if stripped != "::" else "")
                out += [f"{indent}```python", *(indent + b for b in body.splitlines()),
                        f"{indent}```"]
                i = j
                continue
        out.append(_XREF_ROLE.sub(_role, line))
        i += 1
    return "\n".join(out)


class ReSTToMarkdown(Extension):
    """Apply :func:`to_markdown` to every docstring griffe loads."""

    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = to_markdown(obj.docstring.value)
