"""Pure functional interface: arrays and state in, new arrays and state out.

>>> import numpy as np
>>> from adamproofs import Adam
>>> from adamproofs.fast import functional as F
>>> cfg = Adam(lr=0.1)
>>> params = [np.array([1.0, 2.0])]
>>> state = F.init(cfg, params)
>>> new_params, state = F.update(cfg, params, [np.array([0.5, -0.5])], state)
>>> params[0], new_params[0]
(array([1., 2.]), array([0.9, 2.1]))

Nothing passed in is modified; every output is a fresh array. A learning-rate schedule
is the ``lr`` argument of :func:`update`, as for :class:`~adamproofs.fast.Optimizer`
(t is the step counter in the state, counted from 1):

>>> new_params, state = F.update(cfg, new_params, [np.array([0.5, -0.5])], state,
...                              lr=[0.1, 0.05, 0.025])  # α_2 = 0.05
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..config import OptimizerConfig
from ._optimizer import Optimizer
from ._schedule import LearningRate
from ._validation import check_param

OptState = dict[str, Any]


def init(
    config: OptimizerConfig, params: Sequence[np.ndarray], *, state_dtype: Any = "auto"
) -> OptState:
    """The state before the first step (zeros; step counters at 0)."""
    copies = [
        np.array(check_param(i, p, writeable=False), copy=True, order="C")
        for i, p in enumerate(params)
    ]
    opt = Optimizer(config, copies, state_dtype=state_dtype, backend="numpy")
    return opt.state_dict()


def update(
    config: OptimizerConfig,
    params: Sequence[np.ndarray],
    grads: Sequence[np.ndarray | None],
    state: OptState,
    *,
    lr: LearningRate | None = None,
    backend: str = "numpy",
) -> tuple[list[np.ndarray], OptState]:
    """One step: returns ``(new_params, new_state)``; the inputs are left untouched.

    ``lr``: a schedule (a function ``t -> α_t`` or a sequence ``[α_1, α_2, ...]``);
    ``None``: the config's ``lr``.
    """
    copies = [
        np.array(check_param(i, p, writeable=False), copy=True, order="C")
        for i, p in enumerate(params)
    ]
    opt = Optimizer(config, copies, lr=lr, state_dtype=list_dtypes(state, copies), backend=backend)
    opt.load_state_dict(state)
    opt.step(grads)
    return opt.params, opt.state_dict()


def list_dtypes(state: OptState, params: list[np.ndarray]) -> Any:
    names = state.get("state_dtypes")
    if not names:
        return "auto"
    if len(set(names)) == 1:
        return names[0]
    raise ValueError(
        "functional.update needs one state dtype for all parameters; "
        "use adamproofs.fast.Optimizer for mixed state dtypes"
    )
