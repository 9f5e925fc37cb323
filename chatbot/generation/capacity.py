"""How short the slowest answer of a closed load can be on this machine, whatever the scheduler.

The load (``benchmarks/load.py``): ``customers`` each ask ``rounds`` questions one after another with no pause, all
starting together. Every answer costs the machine its prompt pass plus one row of as many decode steps as it has
tokens. A decode step for ``b`` chats takes ``t_b`` seconds, so a token costs at least ``min_b t_b / b`` (every row
of the fullest batch busy). The machine does at most one second of work per second, so the last answer ends no
sooner than the sum of every answer's work; the customer it belongs to asked ``rounds`` questions back to back, and
one of them took at least ``1 / rounds`` of that time. Hence, for any batching or scheduling policy:

    slowest latency >= (sum of prompt passes + sum of answer tokens * cheapest token) / rounds

For 16 answers the nearest-rank p95 that ``load.py`` reports is the slowest one, so this floors it too. A prompt
pass could be cheaper than the served one only by reading fewer positions: a cache of every earlier prompt's keys
and values (a prefix tree) would still have to compute each position no earlier prompt shared, which
``distinct_prefix_tokens`` counts.
``benchmarks/load_bound.py`` measures the inputs on the served model; this module is the arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import takewhile


@dataclass(frozen=True)
class AnswerCost:
    prompt_s: float  # the prompt pass as served (shared beginning read once)
    tokens: int  # answer tokens, each one row of a decode step


def cheapest_token_s(step_s_by_rows: Mapping[int, float]) -> float:
    """The least seconds one answer token can cost: min over batch sizes b of (step seconds for b rows) / b."""
    if not step_s_by_rows:
        raise ValueError("no decode step was measured")
    return min(seconds / rows for rows, seconds in step_s_by_rows.items())


def slowest_latency_floor(costs: Sequence[AnswerCost], token_s: float, rounds: int) -> float:
    """Seconds the slowest answer of the closed load takes at least (module docstring)."""
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    return sum(c.prompt_s + c.tokens * token_s for c in costs) / rounds


def prompt_pass_needed_s(
    *, customers: int, target_ratio: float, mean_tokens: float, single_token_s: float, token_s: float
) -> float | None:
    """The longest mean prompt pass P with which the floor could still meet ``target_ratio`` × a single chat.

    Single chat ~ P + n·t1; the floor with ``customers`` equal answers per round ~ customers·(P + n·τ). Then
    customers·(P + n·τ) <= target·(P + n·t1)  <=>  P <= n·(target·t1 − customers·τ) / (customers − target).
    None: no prompt pass is short enough — the decode steps alone cost more than the target."""
    if customers <= target_ratio:
        raise ValueError("the target ratio must be below the number of customers")
    room = mean_tokens * (target_ratio * single_token_s - customers * token_s)
    return room / (customers - target_ratio) if room > 0 else None


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    return sum(1 for _ in takewhile(lambda pair: pair[0] == pair[1], zip(a, b, strict=False)))


def distinct_prefix_tokens(prompts: Sequence[Sequence[int]]) -> int:
    """Positions a perfect prefix cache would still compute for these prompts: the nodes of their prefix tree.

    Each prompt adds its length minus its longest common prefix with any earlier one (the count does not depend
    on the order), and at least one position: its last token's logits choose the answer's first token."""
    total = 0
    for i, prompt in enumerate(prompts):
        shared = max((common_prefix(prompt, earlier) for earlier in prompts[:i]), default=0)
        total += max(len(prompt) - shared, 1)
    return total
