"""Adapter for the project's own fast Adam (:class:`adamproofs.fast.Optimizer`): ``numpy``."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...config import Adam
from ...dtypes import supported_dtypes
from ..protocol import Hyper, TargetError

KIND = "numpy"


def accepts(obj: Any) -> bool:
    """Only the built-in target uses this adapter."""
    return False


def _config(hyper: Hyper, options: dict[str, Any]) -> Adam:
    return Adam(
        lr=hyper.lr,
        beta1=hyper.beta1,
        beta2=hyper.beta2,
        eps=hyper.eps,
        weight_decay=hyper.weight_decay,
        maximize=hyper.maximize,
        **options,
    )


class FastSession:
    """A session over :class:`adamproofs.fast.Optimizer` (one optimizer per group)."""

    def __init__(
        self, groups: list[tuple[Hyper, list[np.ndarray]]], options: dict[str, Any], backend: str
    ) -> None:
        from ...fast import Optimizer

        self._params: list[np.ndarray] = []
        self._opts = []
        for hyper, params in groups:
            arrays = [np.array(p, copy=True, order="C") for p in params]
            self._opts.append(
                (
                    len(self._params),
                    len(arrays),
                    Optimizer(_config(hyper, options), arrays, backend=backend),
                )
            )
            self._params.extend(arrays)

    def step(self, grads: Sequence[np.ndarray | None]) -> None:
        if len(grads) != len(self._params):
            raise ValueError(f"got {len(grads)} gradients for {len(self._params)} parameters")
        for start, count, opt in self._opts:
            opt.step(list(grads[start : start + count]))

    def params(self) -> list[np.ndarray]:
        return [p.copy() for p in self._params]

    def save(self) -> Any:
        return copy.deepcopy((self.params(), [opt.state_dict() for _, _, opt in self._opts]))

    def restore(self, blob: Any) -> None:
        params, states = copy.deepcopy(blob)
        for mine, saved in zip(self._params, params, strict=True):
            mine[...] = saved
        for (_, _, opt), state in zip(self._opts, states, strict=True):
            opt.load_state_dict(state)


class FastImplementation:
    """:class:`adamproofs.fast.Optimizer` with :class:`~adamproofs.config.Adam` variant flags."""

    def __init__(self, backend: str = "auto", **options: Any) -> None:
        self.name = (
            "numpy"
            if not options
            else "numpy(" + ", ".join(f"{k}={v!r}" for k, v in sorted(options.items())) + ")"
        )
        try:
            _config(Hyper(), options)
        except (TypeError, ValueError) as err:
            raise TargetError(f"bad option for the numpy target: {err}") from err
        self.options = options
        self.backend = backend
        self.features = frozenset(
            {d.name for d in supported_dtypes()}
            | {"weight_decay", "maximize", "skip", "groups", "checkpoint"}
        )
        self.claims = {
            "eps_placement": options.get("eps_placement", "paper"),
            "bias_correction": options.get("bias_correction", True),
            "amsgrad": options.get("amsgrad"),
            "decay": options.get("decay", "l2"),
            "step_scope": "param",
        }

    def create(self, hyper: Hyper, params: list[np.ndarray], dtype: np.dtype) -> FastSession:
        return FastSession([(hyper, params)], self.options, self.backend)

    def create_groups(
        self, groups: list[tuple[Hyper, list[np.ndarray]]], dtype: np.dtype
    ) -> FastSession:
        return FastSession(list(groups), self.options, self.backend)


def make_implementation(target: Any = None, **options: Any) -> FastImplementation:
    """The project's own Adam; ``options`` are :class:`~adamproofs.config.Adam` variant flags
    (``eps_placement``, ``bias_correction``, ``amsgrad``, ``decay``) plus ``backend``."""
    if target is not None:
        raise TargetError("the numpy target takes no module.path:attr")
    return FastImplementation(**options)
