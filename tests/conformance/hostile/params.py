"""Implementations whose ``params()`` returns the wrong thing."""

from __future__ import annotations

import numpy as np

from .base import Adam, Impl, Session


def _impl(params_fn):
    session = type("S", (Session,), {"params": params_fn})
    return type("I", (Impl,), {"session": session})()


LIST_OF_LISTS = _impl(lambda self: [p.tolist() for p in self.values])
FLOAT64 = _impl(lambda self: [p.astype(np.float64) for p in self.values])
FLAT = _impl(lambda self: [p.reshape(-1)[:1] for p in self.values])
NONE = _impl(lambda self: None)
TOO_FEW = _impl(lambda self: [])


class ChangesDtype(Adam):
    """A plain class that replaces its parameter arrays by float64 copies."""

    def step(self, grads):
        super().step(grads)
        self.params[:] = [p.astype(np.float64) for p in self.params]
