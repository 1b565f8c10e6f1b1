"""A correct plain-protocol Adam (L2 decay, per-parameter step counter) and a correct
:class:`~adamproofs.conformance.protocol.Implementation` built on it: the controls, and
the base the hostile targets change one thing of."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import numpy as np

from adamproofs.conformance.protocol import Hyper


class Adam:
    """Plain protocol: ``step`` updates ``params`` in place."""

    adamproofs_features = frozenset({"float32", "float64", "weight_decay", "skip", "checkpoint"})

    def __init__(
        self,
        params: list[np.ndarray],
        *,
        lr: float,
        beta1: float,
        beta2: float,
        eps: float,
        weight_decay: float,
    ) -> None:
        self.params, self.h = params, (lr, beta1, beta2, eps, weight_decay)
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = [0] * len(params)

    def step(self, grads: list[np.ndarray | None]) -> None:
        lr, b1, b2, eps, wd = self.h
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            if g is None:
                continue
            g = g + p.dtype.type(wd) * p
            self.t[i] += 1
            self.m[i] = b1 * self.m[i] + (1 - b1) * g
            self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
            mhat = self.m[i] / (1 - b1 ** self.t[i])
            vhat = self.v[i] / (1 - b2 ** self.t[i])
            p -= (lr * mhat / (np.sqrt(vhat) + eps)).astype(p.dtype)

    def state_dict(self) -> dict[str, Any]:
        return copy.deepcopy({"m": self.m, "v": self.v, "t": self.t})

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.m, self.v, self.t = (copy.deepcopy(state[k]) for k in ("m", "v", "t"))


class Session:
    """A session of :class:`Impl`: :class:`Adam` over its own copies of the values."""

    def __init__(self, hyper: Hyper, params: list[np.ndarray]) -> None:
        self.values = [p.copy() for p in params]
        self.adam = Adam(self.values, **hyper.as_dict())

    def step(self, grads: list[np.ndarray | None]) -> None:
        self.adam.step(grads)

    def params(self) -> Any:
        return [p.copy() for p in self.values]

    def save(self) -> Any:
        return {"values": [p.copy() for p in self.values], "state": self.adam.state_dict()}

    def restore(self, blob: Any) -> None:
        for mine, saved in zip(self.values, blob["values"], strict=True):
            mine[...] = saved
        self.adam.load_state_dict(blob["state"])


class Impl:
    """The Implementation protocol directly (``create`` returns :attr:`session` objects)."""

    name = "hostile-base"
    features = frozenset({"float32", "float64", "weight_decay", "skip", "checkpoint"})
    claims: ClassVar[dict[str, Any]] = {}
    session = Session

    def create(self, hyper: Hyper, params: list[np.ndarray], dtype: Any) -> Session:
        return self.session(hyper, params)


IMPL = Impl()
