"""Directive lines in the hand-written pages, replaced by generated Markdown at build time.

A directive is a line of its own, ``<!-- gen: NAME ARG... # WHAT -->``: an HTML comment, so the
raw page still reads well on a code host, where the ``# WHAT`` part (ignored by the build) tells
the reader what the site shows in its place and where it comes from. Unknown directive names
fail the build.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DIRECTIVE = re.compile(r"^<!--\s*gen:\s*(?P<body>.*?)\s*-->[ \t]*$", re.MULTILINE)


class DirectiveError(ValueError):
    """A directive line that names no known generator or has the wrong arguments."""


@dataclass
class Context:
    """What a generator may use: the repository, the page being rendered, generated files."""

    root: Path
    page: str  # the page's path under docs/, e.g. "math/bias-correction.md"
    generated: dict[str, Path | bytes | str] = field(default_factory=dict)

    def link(self, target: str) -> str:
        """A relative link from this page to ``target`` (a path under docs/)."""
        from .markdown import relative_link
        return relative_link(self.page, target)


Generator = Callable[..., str]
GENERATORS: dict[str, Generator] = {}


def generator(name: str) -> Callable[[Generator], Generator]:
    """Register ``fn(ctx, *args) -> markdown`` under a directive name."""
    def register(fn: Generator) -> Generator:
        GENERATORS[name] = fn
        return fn
    return register


def expand(markdown: str, ctx: Context) -> str:
    """Replace every directive line of ``markdown`` with its generated Markdown."""
    def replace(match: re.Match[str]) -> str:
        words = shlex.split(match.group("body"), comments=True)
        if not words:
            raise DirectiveError(f"{ctx.page}: empty directive {match.group(0)!r}")
        name, args = words[0], words[1:]
        fn = GENERATORS.get(name)
        if fn is None:
            raise DirectiveError(f"{ctx.page}: unknown directive {name!r}; "
                                 f"known: {sorted(GENERATORS)}")
        try:
            return fn(ctx, *args).rstrip("\n") + "\n"
        except TypeError as err:
            raise DirectiveError(f"{ctx.page}: directive {name!r} with arguments {args}: "
                                 f"{err}") from err
    return DIRECTIVE.sub(replace, markdown)
