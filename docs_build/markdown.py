"""Small Markdown helpers shared by the generators."""

from __future__ import annotations

import posixpath
import textwrap


def indent(text: str, spaces: int = 4) -> str:
    """Indent every non-empty line (admonition bodies, tabs)."""
    return textwrap.indent(text, " " * spaces)


def not_generated(what: str, why: str, how: str | None = None) -> str:
    """A visible note standing in for content whose source is missing or was not built."""
    body = f"{what} is not generated in this build: {why}"
    if how:
        body += f"\n\nTo generate it: {how}"
    return '!!! warning "Not generated yet"\n\n' + indent(body) + "\n"


def relative_link(page_src_uri: str, target_src_uri: str) -> str:
    """Link from a page (its path under ``docs/``) to another file of the site."""
    start = posixpath.dirname(page_src_uri) or "."
    return posixpath.relpath(target_src_uri, start)


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub-style Markdown table; ``|`` inside cells is escaped, and a header may wrap after
    each underscore (``<wbr>``), so that ``numba_vs_probe`` need not be one wide column."""

    def cell(x: object) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(cell(h).replace("_", "_<wbr>") for h in headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
