"""Targets whose constructor ends abnormally."""

from __future__ import annotations

import os

from .base import Adam


class Raises(Adam):
    def __init__(self, params, **hyper):
        raise RuntimeError("cannot build this optimizer")


class InfiniteLoop(Adam):
    def __init__(self, params, **hyper):
        while True:
            pass


class OsExit0(Adam):
    def __init__(self, params, **hyper):
        os._exit(0)
