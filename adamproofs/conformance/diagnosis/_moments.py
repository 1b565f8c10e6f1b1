"""Where the state departs: m and v read through the optional ``Session.moments()`` hook.

When no model explains the steps, the diagnosis names the first quantity that departs
from the base model. θ is always observable; where the session offers ``moments()``
(:mod:`..protocol`: per parameter ``{"m": m_t, "v": v_t}``, Algorithm 1's raw moments,
or ``None``), the trajectory on which θ first departed is driven again one step at a
time and m and v are compared with the model's, with the allowance of :mod:`.replay`
(relative to the moment: no moment cancels on the diagnostic trajectories).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._candidates import Candidate
from ._replay import ALLOWANCE, Recorded, _allowance, _Model, levels, unit_roundoff


def _read(session: Any) -> list[Any] | None:
    reader = getattr(session, "moments", None)
    if reader is None:
        return None
    return reader()  # type: ignore[no-any-return]


def first_state_departure(
    impl: Any, records: list[Recorded], candidate: Candidate, dtype: str
) -> str | None:
    """``"m departs first, at step k of the T trajectory (...)"`` when the implementation's
    moments can be read and one departs no later than θ; else None."""
    try:
        return _first(impl, records, candidate, dtype)
    except Exception:  # the hook is optional: any failure of it means "θ only"
        return None


def _first(impl: Any, records: list[Recorded], candidate: Candidate, dtype: str) -> str | None:
    lv = levels(dtype)[:1]
    for rec in records:
        case = rec.case
        session = impl.create(case.hyper, [np.array(p) for p in case.params], np.dtype(dtype))
        model = _Model(candidate, case)
        states = [model.initial(rec.thetas[0][i].size) for i in range(len(case.params))]
        own = [0] * len(case.params)
        for k, row in enumerate(rec.grads):
            session.step([None if g is None else np.asarray(g, dtype=dtype) for g in case.grads[k]])
            moments = _read(session)
            if moments is None:
                return None
            for i, g in enumerate(row):
                if g is None or moments[i] is None:
                    continue
                before = rec.thetas[k][i]
                t = candidate.step_number(own[i], k + 1, rec.shared[k][i])
                own[i] += 1
                _, states[i] = model.step(t, before, g, states[i])
                gam, _ = _allowance(model, lv, t, own[i], dtype)
                for name in ("m", "v"):
                    if name not in moments[i]:
                        continue
                    mine = np.asarray(moments[i][name], dtype=np.float64).ravel()
                    exact = np.asarray(states[i][name][0], dtype=np.float64)
                    allow = (
                        ALLOWANCE * float(gam[0, 0]) * np.abs(exact)
                        + unit_roundoff(dtype) * np.abs(exact)
                        + 1e-300
                    )
                    off = np.abs(mine - exact) > allow
                    if np.any(off):
                        j = int(np.argmax(off))
                        return (
                            f"{name} departs first, at step {k + 1} of the {rec.name} trajectory "
                            f"(params[{i}][{j}]: yours {float(mine[j])!r}, Adam "
                            f"{float(exact[j])!r})"
                        )
        return (
            f"m and v follow Adam at every step of the {rec.name} trajectory "
            "(read through moments())"
        )
    return None
