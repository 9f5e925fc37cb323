"""The simulation's two plots, drawn with matplotlib's Agg backend so they render without a display."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not math.isnan(value) else math.nan


def plot_metrics(
    series: Mapping[str, list[dict[str, Any]]],
    metrics: list[tuple[str, str]],
    path: Path,
    *,
    goals: Mapping[str, float] | None = None,
    unbounded: frozenset[str] = frozenset({"reviewed_total"}),
) -> None:
    """One panel a metric (``(key, title)``), rounds on x, one line an arm, the 95 % interval as a band where the
    rows have one, the goal as a dashed line. ``series``: arm → ``report.metric_rows``; metrics other than
    ``unbounded`` are rates, drawn on [0, 1]."""
    plt = _pyplot()
    columns = 4
    rows = math.ceil(len(metrics) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3.2 * rows), squeeze=False)
    for ax, (key, title) in zip(axes.flat, metrics, strict=False):
        for arm, arm_rows in series.items():
            rounds = [r["round"] for r in arm_rows]
            line = ax.plot(rounds, [_number(r.get(key)) for r in arm_rows], marker="o", label=arm)[0]
            intervals = [(r.get("intervals") or {}).get(key) for r in arm_rows]
            if all(intervals):
                low = [_number(i["low"]) for i in intervals if i]
                high = [_number(i["high"]) for i in intervals if i]
                ax.fill_between(rounds, low, high, color=line.get_color(), alpha=0.15)
        if key in (goals or {}):
            ax.axhline((goals or {})[key], color="grey", linestyle="--", linewidth=1, label="goal")
        if key not in unbounded:
            ax.set_ylim(-0.02, 1.02)
        ax.set_xticks([r["round"] for r in next(iter(series.values()), [])])
        ax.set_title(title)
        ax.set_xlabel("round")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    axes.flat[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_confidence_bins(curves: list[tuple[str, Mapping[str, Any]]], path: Path) -> None:
    """The model's answer accuracy by confidence bin, one curve per (label, held-out metrics)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for label, held in curves:
        bins = held.get("confidence_bins") or []
        ax.plot([(b["lower"] + b["upper"]) / 2 for b in bins], [b["accuracy"] for b in bins], marker="o", label=label)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    ax.set_xlabel("confidence (bin centre)")
    ax.set_ylabel("model's answer right")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
