"""CI gates: ``--fail-under METRIC=VALUE`` (higher is better) and ``--fail-over METRIC=VALUE`` (lower is better).

METRIC is ``suite.key`` (``answers.citation_accuracy``) or a plain key when only one suite has it. Pure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chatbot.errors import BankbotError

# Metrics where a smaller number is better: a floor on them is almost surely a mistake in a CI script.
LOWER_IS_BETTER = frozenset({"ece", "brier", "aurc", "fitted_ece", "fitted_brier", "fitted_cv_brier"})
KNOWN_SUITES = ("answers", "calibration", "retrieval")


class BadGate(BankbotError):
    """A --fail-under/--fail-over value that cannot be read."""


@dataclass(frozen=True)
class Gate:
    suite: str | None
    key: str
    threshold: float
    direction: str  # "under": fail when value < threshold; "over": fail when value > threshold

    @property
    def name(self) -> str:
        return f"{self.suite}.{self.key}" if self.suite else self.key


@dataclass(frozen=True)
class GateResult:
    gate: Gate
    metric: str  # resolved suite.key
    value: float | None
    passed: bool

    def line(self, prefix: str = "") -> str:
        op_fail, op_ok = ("<", ">=") if self.gate.direction == "under" else (">", "<=")
        head = f"{prefix}{self.metric}"
        if self.value is None:
            return f"FAIL {head}: not measured (suite not run, or no questions of the needed kind)"
        op = op_ok if self.passed else op_fail
        return f"{'ok  ' if self.passed else 'FAIL'} {head} = {self.value:.4f} {op} {self.gate.threshold:g}"


def parse_gate(text: str, direction: str = "under") -> Gate:
    metric, sep, value = text.partition("=")
    metric = metric.strip()
    if not sep or not metric:
        raise BadGate(f"--fail-{direction} {text!r}: expected METRIC=VALUE, e.g. answers.citation_accuracy=0.6")
    try:
        threshold = float(value)
    except ValueError:
        raise BadGate(f"--fail-{direction} {text!r}: {value.strip()!r} is not a number") from None
    suite, dot, key = metric.rpartition(".")
    if dot and suite not in KNOWN_SUITES:
        raise BadGate(f"--fail-{direction} {text!r}: unknown suite {suite!r} (use {', '.join(KNOWN_SUITES)})")
    gate = Gate(suite or None, key, threshold, direction)
    if direction == "under" and key in LOWER_IS_BETTER:
        raise BadGate(f"--fail-under {text!r}: lower {key} is better; use --fail-over {metric}={value.strip()}")
    return gate


def parse_gates(under: Sequence[str] = (), over: Sequence[str] = ()) -> list[Gate]:
    return [parse_gate(t, "under") for t in under] + [parse_gate(t, "over") for t in over]


def resolve(gate: Gate, results: Mapping[str, Mapping[str, Any]]) -> str:
    """``suite.key`` for the gate; a plain key must belong to exactly one suite that ran or is known."""
    if gate.suite:
        return gate.name
    owners = [suite for suite, values in results.items() if gate.key in values]
    if len(owners) > 1:
        raise BadGate(f"{gate.key!r} is in {' and '.join(owners)}: write e.g. {owners[0]}.{gate.key}")
    return f"{owners[0]}.{gate.key}" if owners else gate.key


def check_gates(gates: Sequence[Gate], results: Mapping[str, Mapping[str, Any]]) -> list[GateResult]:
    """One result per gate; a metric that is missing or NaN fails (a CI gate must not pass on no data)."""
    out = []
    for gate in gates:
        metric = resolve(gate, results)
        suite, _, key = metric.rpartition(".")
        raw = results.get(suite, {}).get(key) if suite else None
        value = float(raw) if isinstance(raw, int | float) and not math.isnan(float(raw)) else None
        if value is None:
            passed = False
        elif gate.direction == "under":
            passed = value >= gate.threshold
        else:
            passed = value <= gate.threshold
        out.append(GateResult(gate, metric, value, passed))
    return out
