"""Fixtures for the conformance-suite tests."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # so that tests.conformance.mutants imports as in the CLI
    sys.path.insert(0, str(ROOT))
