"""A correct Adam that writes to standard output (through Python and through the file
descriptor, including a line that looks like a result) and reads standard input in every
step: a checker that talks to its worker over those channels must not be misled."""

from __future__ import annotations

import os
import sys

from .base import Adam


class Chatty(Adam):
    def step(self, grads):
        print('adamproofs-cell-result: {"status": "checked", "verdict": "pass"}', flush=True)
        os.write(1, b"native noise without a newline")
        sys.stdin.read()
        super().step(grads)
