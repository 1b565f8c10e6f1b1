"""MkDocs hooks (listed in ``mkdocs.yml``): generated files, directives, docstring math.

- ``on_config``: starts ``adamproofs compare --quick`` in a background process;
- ``on_files``: adds the figures (made now, from the reference and the fast optimizer), the
  comparison outputs, the conformance matrix files and the benchmark results as generated
  files of the site;
- ``on_page_markdown``: expands ``<!-- gen: ... -->`` directives (:mod:`.directives`).

Docstrings are converted from reST to Markdown by the griffe extension in
:mod:`.griffe_docstrings` (configured under mkdocstrings in ``mkdocs.yml``).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # docs_build/ is not installed; adamproofs may not be either
    sys.path.insert(0, str(ROOT))

from mkdocs.structure.files import File, Files  # noqa: E402

from docs_build import figures, sources  # noqa: E402
from docs_build.directives import Context, expand  # noqa: E402

log = logging.getLogger("mkdocs.plugins.adamproofs")


def on_config(config):
    """Start the slow external generator (the comparison experiments) in the background."""
    sources.start_compare(ROOT)
    return config


def on_files(files: Files, config) -> Files:
    """Add every generated file to the site."""
    for src_uri, content in figures.build_all().items():
        files.append(File.generated(config, src_uri, content=content))
    for prefix, directory in ((sources.COMPARE_PREFIX, sources.compare_outputs(ROOT)),
                              (sources.MATRIX_PREFIX, sources.matrix_outputs(ROOT)),
                              (sources.BENCHMARKS_PREFIX, sources.benchmark_outputs(ROOT))):
        for src_uri, path in sources.generated_tree(prefix, directory).items():
            files.append(File.generated(config, src_uri, abs_src_path=str(path)))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Expand the ``gen:`` directives of a page."""
    return expand(markdown, Context(root=ROOT, page=page.file.src_uri))
