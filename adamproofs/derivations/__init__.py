"""Adam's claims proved with sympy, checked when built, rendered for the docs.

>>> from adamproofs.derivations import DERIVATIONS, derive, render_markdown
>>> d = derive("geometric-series")          # builds and checks every step (cached)
>>> d.verified
True
>>> md = render_markdown(d)                  # $$...$$ math + a verdict badge per step

Each derivation is an ordered list of :class:`Step` objects: a short text, a
sympy statement, and a verdict obtained symbolically (sympy), numerically
(mpmath at a stated precision and stated points) or by running the reference
optimizer (:mod:`adamproofs.reference`). Nothing is assumed: a step that its
checker cannot close is reported as not verified. Definitions, quoted sources
and plain-text remarks are marked as such and carry no verdict.

Command line: ``adamproofs derive`` lists the derivations; ``adamproofs derive
NAME... [--format text|markdown|latex]`` (or ``--all``) checks and prints them,
exit status 1 if any step fails to verify, 2 for an unknown name.
"""

from ._core import Derivation, Proof, Step
from ._registry import DERIVATIONS, Entry, UnknownDerivation, derive, derive_all
from ._render import render, render_latex, render_markdown, render_text

__all__ = [
    "DERIVATIONS",
    "Derivation",
    "Entry",
    "Proof",
    "Step",
    "UnknownDerivation",
    "derive",
    "derive_all",
    "render",
    "render_latex",
    "render_markdown",
    "render_text",
]
