"""The Performance page's figures: Adam step time against n (log-log), with the bandwidth
line (:func:`plot`), and the peak extra memory of a step (:func:`plot_memory`).

Step time: one panel per (dtype, threads). The dashed line is the memory-bandwidth limit: the
7 passes of a step (28 bytes per float32 parameter) at the bandwidth the probe
reached at the largest n of the same run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot(result: dict[str, Any], stem: Path) -> list[Path]:
    """Write ``stem``.svg and ``stem``.png; return their paths."""
    plt = _pyplot()
    rows = result["adam_step"]
    dtypes = sorted({r["dtype"] for r in rows})
    threads = sorted({r["threads"] for r in rows})
    # one column of panels: readable at phone width, where the page shows the figure ~6 in wide
    panels = [(dt, t) for dt in dtypes for t in threads]
    fig, axes = plt.subplots(
        len(panels), 1, squeeze=False, sharex=True, figsize=(6.0, 3.2 * len(panels))
    )
    for k, (dt, t) in enumerate(panels):
        ax = axes[k][0]
        sel = [r for r in rows if r["dtype"] == dt and r["threads"] == t]
        for name in dict.fromkeys(r["contender"] for r in sel):
            pts = sorted((r["n"], r["median_ms"]) for r in sel if r["contender"] == name)
            style = "k:" if name.startswith("probe") else "-o"
            ax.loglog([p[0] for p in pts], [p[1] for p in pts], style, ms=3, label=name)
        probe = sorted((r["n"], r["gbps"]) for r in sel if r["contender"].startswith("probe"))
        if probe:
            gbps = probe[-1][1]
            ns = sorted({r["n"] for r in sel})
            item = 4 if dt == "float32" else 8
            ax.loglog(
                ns,
                [7 * n * item / gbps / 1e6 for n in ns],
                "k--",
                lw=1,
                label=f"bandwidth limit ({gbps:.0f} GB/s)",
            )
        ax.set_title(f"{dt}, {t} thread{'s' if t > 1 else ''}", fontsize=11)
        ax.set_xlabel("parameters n")
        ax.set_ylabel("ms per step")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("One Adam step: time against size\n(medians, interleaved, same run)", fontsize=11)
    return _save(fig, stem)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, stem: Path) -> list[Path]:
    """Write ``fig`` as ``stem``.svg and ``stem``.png, close it, return the paths."""
    fig.tight_layout()
    paths = [stem.with_suffix(".svg"), stem.with_suffix(".png")]
    for p in paths:
        fig.savefig(p, dpi=110)
    _pyplot().close(fig)
    return paths


def plot_memory(result: dict[str, Any], stem: Path) -> list[Path]:
    """Peak extra memory of one step per contender (bars, one group per thread count),
    against the size of the parameters; ``stem``.svg and ``stem``.png."""
    plt = _pyplot()
    rows = result["memory"]
    threads = sorted({r["threads"] for r in rows})
    fig, axes = plt.subplots(
        len(threads), 1, squeeze=False, sharex=True, figsize=(6.0, 3.0 * len(threads))
    )
    for ax, t in zip(axes[:, 0], threads):
        sel = [r for r in rows if r["threads"] == t]
        names = [r["contender"].rsplit(" ", 1)[0] for r in sel]
        peaks = [max(r["rss_peak_mib"], r["traced_peak_mib"]) for r in sel]
        colors = ["tab:blue" if n.startswith("adamproofs") else "tab:gray" for n in names]
        ax.barh(names, peaks, color=colors)
        param_mib = sel[0]["n"] * (4 if sel[0]["dtype"] == "float32" else 8) / 2**20
        ax.axvline(
            param_mib,
            color="k",
            ls="--",
            lw=1,
            label=f"one parameter-sized array ({param_mib:.0f} MiB)",
        )
        for y, v in enumerate(peaks):
            ax.text(v, y, f" {v:.2g}", va="center", fontsize=9)
        ax.set_title(
            f"{sel[0]['dtype']}, n={sel[0]['n']:.0e}, {t} thread{'s' * (t > 1)}", fontsize=11
        )
        ax.set_xlabel("peak extra memory of one step (MiB)")
        ax.legend(fontsize=8, loc="lower right")
    return _save(fig, stem)
