"""Diagnosis: which known defect (or legitimate variant) explains a failing trajectory."""

from __future__ import annotations

from .model import Diagnosis

__all__ = ["Diagnosis"]
