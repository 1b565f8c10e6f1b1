"""Build-time generators for the documentation site (used by ``mkdocs.yml``'s hook).

Hand-written pages in ``docs/`` contain directive lines such as
``<!-- gen: derivation first_step -->``; :mod:`.directives` replaces each one with Markdown
generated from the code (derivation objects, the reference update rule, figures, comparison
results, the conformance matrix, benchmark results, executed examples). Pieces of the project
that are not installed or not built yet render as a visible "not generated yet" note instead
of failing the build.
"""
