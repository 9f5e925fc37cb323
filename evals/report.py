"""Eval report folder: metrics.json, per-question JSONL, PNG plots (matplotlib, Agg backend), report.md and
report.html built from the same tables."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.scoring import ANSWER_KEYS, CALIBRATION_KEYS, json_safe

RETRIEVAL_PLOT_MAX = 12


@dataclass
class ModelReport:
    label: str
    suites: dict[str, dict[str, Any]]  # suite -> metrics
    per_item: list[dict[str, Any]] = field(default_factory=list)
    calibration: Any = None  # evals.suites.CalibrationResult


@dataclass
class Report:
    title: str
    run: dict[str, Any]
    models: list[ModelReport]
    comparison: dict[str, dict[str, float]] | None = None
    gate_lines: list[str] = field(default_factory=list)


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_answers(models: Sequence[ModelReport], path: Path) -> bool:
    present = [m for m in models if "answers" in m.suites]
    if not present:
        return False
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(present)
    for j, m in enumerate(present):
        values = [m.suites["answers"].get(k) for k in ANSWER_KEYS]
        # BLEU is on sacrebleu's 0-100 scale; shown /100 so it shares the axis.
        values = [
            (v / 100 if k == "bleu" else v) if isinstance(v, float) and not math.isnan(v) else 0.0
            for k, v in zip(ANSWER_KEYS, values, strict=True)
        ]
        ax.bar([i + j * width for i in range(len(ANSWER_KEYS))], values, width, label=m.label)
    ax.set_xticks([i + width * (len(present) - 1) / 2 for i in range(len(ANSWER_KEYS))])
    ax.set_xticklabels([("bleu/100" if k == "bleu" else k) for k in ANSWER_KEYS], rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_title("Answer quality")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_reliability(models: Sequence[ModelReport], path: Path) -> bool:
    present = [m for m in models if m.calibration is not None and m.calibration.confidences]
    if not present:
        return False
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    for m in present:
        bins = m.calibration.curves["reliability"]
        ece = m.calibration.metrics.get("ece")
        ax.plot(
            [b["confidence"] for b in bins],
            [b["accuracy"] for b in bins],
            marker="o",
            label=f"{m.label} (ECE {_fmt(ece)})",
        )
        fit = m.calibration.fit
        if fit is not None:  # the fitted calibration applied to the same questions (in-sample: optimistic)
            from evals.calibration import apply_params
            from evals.metrics import reliability_bins

            after = reliability_bins(
                apply_params(fit.method, fit.params, m.calibration.raw).tolist(), m.calibration.labels, 15
            )
            ax.plot(
                [b["confidence"] for b in after],
                [b["accuracy"] for b in after],
                marker="x",
                linestyle=":",
                label=f"{m.label} after {fit.method} fit (ECE {_fmt(m.calibration.metrics.get('fitted_ece'))})",
            )
    ax.set_xlabel("mean confidence in bin (15 bins)")
    ax.set_ylabel("share correct")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title("Reliability diagram")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_risk_coverage(models: Sequence[ModelReport], path: Path) -> bool:
    present = [m for m in models if m.calibration is not None and m.calibration.confidences]
    if not present:
        return False
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for m in present:
        curves = m.calibration.curves
        ax.plot(curves["coverage"], curves["risk"], label=f"{m.label} (AURC {_fmt(m.calibration.metrics['aurc'])})")
    ax.set_xlabel("coverage (share answered, most confident first)")
    ax.set_ylabel("risk (share wrong among answered)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title("Risk-coverage")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_confidence_hist(models: Sequence[ModelReport], path: Path) -> bool:
    present = [m for m in models if m.calibration is not None and m.calibration.confidences]
    if not present:
        return False
    plt = _plt()
    fig, axes = plt.subplots(1, len(present), figsize=(5 * len(present), 3.5), squeeze=False)
    for ax, m in zip(axes[0], present, strict=True):
        conf, labels = m.calibration.confidences, m.calibration.labels
        bins = [i / 15 for i in range(16)]
        ax.hist([c for c, y in zip(conf, labels, strict=True) if y], bins=bins, alpha=0.6, label="right")
        ax.hist([c for c, y in zip(conf, labels, strict=True) if not y], bins=bins, alpha=0.6, label="wrong")
        ax.set_title(f"Confidence: {m.label}")
        ax.set_xlabel("confidence")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_retrieval(models: Sequence[ModelReport], path: Path) -> bool:
    present = [m for m in models if m.suites.get("retrieval")]
    if not present:
        return False
    keys = [
        k
        for k, v in present[0].suites["retrieval"].items()
        if isinstance(v, float) and 0.0 <= v <= 1.0 and "latency" not in k
    ][:RETRIEVAL_PLOT_MAX]
    if not keys:
        return False
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(present)
    for j, m in enumerate(present):
        values = [float(m.suites["retrieval"].get(k) or 0.0) for k in keys]
        ax.bar([i + j * width for i in range(len(keys))], values, width, label=m.label)
    ax.set_xticks([i + width * (len(present) - 1) / 2 for i in range(len(keys))])
    ax.set_xticklabels(keys, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_title("Retrieval")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_comparison(comparison: Mapping[str, Mapping[str, float]], labels: tuple[str, str], path: Path) -> bool:
    rows = [(k, v) for k, v in comparison.items() if not math.isnan(v["delta"]) and not k.endswith(".bleu")]
    if not rows:
        return False
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(rows) + 1.5))
    ys = list(range(len(rows)))
    deltas = [v["delta"] for _, v in rows]
    low = [max(v["delta"] - v["ci_low"], 0.0) if not math.isnan(v["ci_low"]) else 0.0 for _, v in rows]
    high = [max(v["ci_high"] - v["delta"], 0.0) if not math.isnan(v["ci_high"]) else 0.0 for _, v in rows]
    ax.errorbar(deltas, ys, xerr=[low, high], fmt="o", capsize=3)
    ax.axvline(0, color="grey", linestyle="--")
    ax.set_yticks(ys)
    ax.set_yticklabels([k for k, _ in rows])
    ax.set_xlabel(f"{labels[1]} minus {labels[0]} (95% paired bootstrap CI)")
    ax.set_title("Model comparison")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def tables(report: Report) -> list[tuple[str, list[str], list[list[str]]]]:
    """(heading, header, rows) for every table of the report, shared by the Markdown and HTML writers."""
    out = []
    labels = [m.label for m in report.models]
    for suite, keys in (("answers", ANSWER_KEYS), ("calibration", CALIBRATION_KEYS), ("retrieval", ())):
        present = [m for m in report.models if suite in m.suites]
        if not present:
            continue
        all_keys = list(keys) + [k for k in present[0].suites[suite] if k not in keys]
        rows = [
            [k, *[_fmt(m.suites[suite].get(k)) for m in present]]
            for k in all_keys
            if all(not isinstance(m.suites[suite].get(k), dict | list) for m in present)
        ]
        out.append((suite, ["metric", *[m.label for m in present]], rows))
    if report.comparison:
        rows = [
            [k, _fmt(v["a"]), _fmt(v["b"]), _fmt(v["delta"]), f"[{_fmt(v['ci_low'])}, {_fmt(v['ci_high'])}]"]
            for k, v in report.comparison.items()
        ]
        head = ["metric", labels[0], labels[-1], "delta", "95% CI"]
        out.append(("comparison (paired bootstrap over questions)", head, rows))
    return out


def misses(model: ModelReport, limit: int = 8) -> list[list[str]]:
    """A few in-scope questions the model got wrong, for a quick look (the full list is in the JSONL)."""
    rows = []
    for r in model.per_item:
        if r["kind"] == "in_scope" and r.get("citation_correct") is False:
            cited = ", ".join(r["cited"]) or "none"
            rows.append([r["id"], r["question"][:90], r["expected_article"] or "", cited])
        if len(rows) >= limit:
            break
    return rows


def write_markdown(report: Report, plots: Sequence[str], path: Path) -> None:
    lines = [f"# {report.title}", ""]
    lines += [f"- **{k}**: {v}" for k, v in report.run.items() if not isinstance(v, dict | list)]
    lines.append("")
    for heading, header, rows in tables(report):
        lines += [f"## {heading}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        lines.append("")
    if report.gate_lines:
        lines += ["## Gates", "", "```", *report.gate_lines, "```", ""]
    for m in report.models:
        rows = misses(m)
        if rows:
            lines += [f"## Citation misses: {m.label} (first {len(rows)})", "", "| id | question | expected | cited |"]
            lines += ["|---|---|---|---|"] + ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in rows]
            lines.append("")
    if plots:
        lines += ["## Plots", ""] + [f"![{p}]({p})" for p in plots] + [""]
    path.write_text("\n".join(lines), encoding="utf-8")


def write_html(report: Report, plots: Sequence[str], path: Path) -> None:
    esc = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{esc(report.title)}</title>",
        "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}table{border-collapse:collapse;"
        "margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}img{max-width:100%}</style>",
        f"</head><body><h1>{esc(report.title)}</h1><ul>",
    ]
    parts += [
        f"<li><b>{esc(k)}</b>: {esc(str(v))}</li>" for k, v in report.run.items() if not isinstance(v, dict | list)
    ]
    parts.append("</ul>")
    for heading, header, rows in tables(report):
        parts.append(f"<h2>{esc(heading)}</h2><table><tr>{''.join(f'<th>{esc(h)}</th>' for h in header)}</tr>")
        parts += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows]
        parts.append("</table>")
    if report.gate_lines:
        parts.append("<h2>Gates</h2><pre>" + esc("\n".join(report.gate_lines)) + "</pre>")
    parts += [f"<h2>{esc(p)}</h2><img src='{esc(p)}' alt='{esc(p)}'>" for p in plots]
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")


def write_report(report: Report, folder: Path, payload: Mapping[str, Any]) -> list[str]:
    """Write everything into ``folder``; returns the plot file names."""
    folder.mkdir(parents=True, exist_ok=True)
    plots = []
    makers: list[tuple[str, Any]] = [
        ("answers.png", lambda p: plot_answers(report.models, p)),
        ("reliability.png", lambda p: plot_reliability(report.models, p)),
        ("risk_coverage.png", lambda p: plot_risk_coverage(report.models, p)),
        ("confidence_hist.png", lambda p: plot_confidence_hist(report.models, p)),
        ("retrieval.png", lambda p: plot_retrieval(report.models, p)),
    ]
    if report.comparison and len(report.models) >= 2:
        pair = (report.models[0].label, report.models[-1].label)
        makers.append(("comparison.png", lambda p: plot_comparison(report.comparison or {}, pair, p)))
    for name, make in makers:
        if make(folder / name):
            plots.append(name)
    (folder / "metrics.json").write_text(json.dumps(json_safe(payload), indent=2) + "\n", encoding="utf-8")
    for m in report.models:
        if m.per_item:
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in m.label)
            with open(folder / f"per_item_{safe}.jsonl", "w", encoding="utf-8") as handle:
                for row in m.per_item:
                    handle.write(json.dumps(json_safe(row), ensure_ascii=False) + "\n")
    write_markdown(report, plots, folder / "report.md")
    write_html(report, plots, folder / "report.html")
    return plots
