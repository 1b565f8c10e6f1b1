"""Targets whose constructor ends abnormally."""

from __future__ import annotations

import os

from .base import Adam


class Raises(Adam):
    def __init__(self, params, *, lr, beta1, beta2, eps, weight_decay):
        raise RuntimeError("cannot build this optimizer")


class InfiniteLoop(Adam):
    def __init__(self, params, *, lr, beta1, beta2, eps, weight_decay):
        while True:
            pass


class OsExit0(Adam):
    def __init__(self, params, *, lr, beta1, beta2, eps, weight_decay):
        os._exit(0)
