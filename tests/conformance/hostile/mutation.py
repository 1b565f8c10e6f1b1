"""Targets that write into arrays the caller owns."""

from __future__ import annotations

import numpy as np

from .base import IMPL, Adam, Impl, Session


class WritesGradient(Adam):
    """Scales the gradient in place at once."""

    def step(self, grads):
        super().step(grads)
        for g in grads:
            if g is not None:
                g *= 2


class DeferredGradientWrite(Adam):
    """Keeps step k's gradients and scales them in place during step k+1."""

    kept: tuple = ()

    def step(self, grads):
        for g in self.kept:
            g *= 2
        super().step(grads)
        self.kept = tuple(g for g in grads if g is not None)


class NegativeZero(Adam):
    """Writes −0.0 over every +0.0 of the gradient (equal values, different bits)."""

    def step(self, grads):
        super().step(grads)
        for g in grads:
            if g is not None:
                g[(g == 0) & ~np.signbit(g)] = -0.0


class _WritesInitial(Impl):
    def create(self, hyper, params, dtype):
        session = Session(hyper, params)
        for p in params:
            p += 1
        return session


WRITES_INITIAL = _WritesInitial()


class _WritesCheckpoint(Session):
    def restore(self, blob):
        super().restore(blob)
        for m in blob["state"]["m"]:
            m += 1


class _WritesCheckpointImpl(Impl):
    session = _WritesCheckpoint


WRITES_CHECKPOINT = _WritesCheckpointImpl()
__all__ = ["IMPL", "WRITES_CHECKPOINT", "WRITES_INITIAL"]
