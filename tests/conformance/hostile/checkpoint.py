"""Targets that end abnormally while saving or restoring a checkpoint."""

from __future__ import annotations

import os

from .base import Adam


class ExitInStateDict(Adam):
    def state_dict(self):
        os._exit(0)


class RaiseInLoad(Adam):
    def load_state_dict(self, state):
        raise KeyError("m")
