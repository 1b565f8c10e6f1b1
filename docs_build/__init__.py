"""Build-time generators for the documentation site (``mkdocs.yml`` names :mod:`.hooks` and the
griffe extension :mod:`.griffe_docstrings`). Not part of the installed package: nothing in
``adamproofs`` imports it.

Hand-written pages in ``docs/`` contain directive lines, each a line of its own::

    <!-- gen: NAME ARG... # what the site shows here and where it comes from -->

:mod:`.directives` replaces each one with Markdown generated from the code; the ``# ...`` part
is for the reader of the raw page on a code host and is ignored by the build. Generators
(:mod:`.sources`): ``derivation NAME...`` (the derivation's checked steps, folded into one
collapsible block), ``derivations-all``, ``figure NAME "CAPTION"`` (a figure of
:mod:`.figures`; the caption may contain ``$...$`` math), ``algorithm``,
``algorithm-variants``, ``algorithm-source``, ``example FILE``, ``command "LINE" STATUS``,
``cli-help COMMAND``, ``compare``, ``matrix``, ``benchmarks``. Output that was not produced
(no conformance matrix or benchmark results on disk) renders as a visible "not generated"
note instead of failing the build.

Conventions a page follows so that it passes the browser test at desktop and phone width:
math in ``$...$`` and ``$$...$$`` (KaTeX; a display wider than the column scrolls in its own
box, but stacking it with ``aligned``/``gathered`` reads better on a phone); tables in
Markdown (they scroll in their own box); figures drawn 6 inches wide with 11-point text.
"""
