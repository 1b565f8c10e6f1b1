"""Matplotlib (Agg) helpers: one style, deterministic PNG + SVG files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._roster import entry


def plt():  # -> matplotlib.pyplot, with the Agg backend and a fixed style
    """pyplot with the Agg backend and deterministic SVG ids (imported lazily)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as pyplot

    matplotlib.rcParams.update(
        {
            "svg.hashsalt": "adamproofs",
            "figure.dpi": 100,
            "savefig.dpi": 110,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "legend.fontsize": 10,
            "axes.titlesize": 12,
            "axes.labelsize": 12,
            "xtick.labelsize": 11,
            "ytick.labelsize": 11,
            "font.size": 12,
            "mathtext.fontset": "dejavusans",
        }
    )
    return pyplot


def save(fig: Any, directory: Path, stem: str) -> list[str]:
    """Write ``stem.png`` and ``stem.svg`` (no timestamps, so reruns give the same bytes)."""
    directory.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    names = []
    for ext, meta in (("png", {"Software": None}), ("svg", {"Date": None})):
        path = directory / f"{stem}.{ext}"
        fig.savefig(path, format=ext, metadata=meta)
        names.append(path.name)
    plt().close(fig)
    return names


#: Greek letters of the roster's labels, as mathtext for figures.
_MATH = {"μ": r"$\mu$", "ρ": r"$\rho$", "α": r"$\alpha$", "β": r"$\beta$"}


def math_label(text: str) -> str:
    """``text`` with its Greek letters written as mathtext."""
    for letter, tex in _MATH.items():
        text = text.replace(letter, tex)
    return text


def style(key: str) -> dict[str, Any]:
    e = entry(key)
    return {"color": e.color, "label": math_label(e.label)}


def band(
    ax: Any,
    x: np.ndarray,
    curves: Sequence[np.ndarray],
    key: str,
    label: str | None = None,
    color_override: str | None = None,
    **kw: Any,
) -> None:
    """Mean curve over seeds with a shaded min–max band (inf/NaN points are not drawn)."""
    if len(curves) < 2:
        raise ValueError(f"a band needs at least 2 seeds; got {len(curves)}")
    arr = np.vstack(curves).astype(float)
    arr[~np.isfinite(arr)] = np.nan
    st = style(key)
    if color_override:
        st["color"] = color_override
    if key == "amsgrad":  # AMSGrad often sits exactly on Adam: draw it dashed
        kw.setdefault("ls", "--")
    with np.errstate(invalid="ignore"), _quiet():
        mean = np.nanmean(arr, axis=0)
        lo, hi = np.nanmin(arr, axis=0), np.nanmax(arr, axis=0)
    ax.plot(x, mean, color=st["color"], label=label or st["label"], lw=1.4, **kw)
    ax.fill_between(x, lo, hi, color=st["color"], alpha=0.15, lw=0)


class _quiet:
    """Silence numpy's 'all-NaN slice' RuntimeWarnings inside a block."""

    def __enter__(self) -> None:
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: Any) -> None:
        self._cm.__exit__(*exc)
