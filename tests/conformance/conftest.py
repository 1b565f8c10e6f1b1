"""Fixtures for the conformance-suite tests."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # so that tests.conformance.mutants imports as in the CLI
    sys.path.insert(0, str(ROOT))


def pytest_collection_modifyitems(config, items):
    """``slow`` tests of the conformance suite (the 20-seed false-positive sweep, the NumPy
    mutant corpus when PyTorch is installed) run only with ``-m slow`` (or any marker
    expression naming it) or ``ADAMPROOFS_SLOW=1``: they take tens of minutes."""
    import os

    import pytest

    if os.environ.get("ADAMPROOFS_SLOW") == "1" or "slow" in (config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow or ADAMPROOFS_SLOW=1")
    here = str(ROOT / "tests" / "conformance")
    for item in items:
        if "slow" in item.keywords and str(item.fspath).startswith(here):
            item.add_marker(skip)
