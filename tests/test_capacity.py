"""The floor under a closed load's slowest answer (chatbot/generation/capacity.py): exact arithmetic."""

from __future__ import annotations

import pytest

from chatbot.generation.capacity import (
    AnswerCost,
    cheapest_token_s,
    distinct_prefix_tokens,
    prompt_pass_needed_s,
    slowest_latency_floor,
)


def test_the_cheapest_token_is_the_fullest_batchs_step_shared_by_its_rows() -> None:
    assert cheapest_token_s({1: 0.018, 4: 0.036, 8: 0.048}) == pytest.approx(0.006)
    # a batch size whose step is slower per row than a smaller one's does not lower the floor
    assert cheapest_token_s({1: 0.010, 2: 0.030}) == pytest.approx(0.010)
    with pytest.raises(ValueError, match="no decode step"):
        cheapest_token_s({})


def test_the_slowest_answer_waits_for_all_the_work_shared_over_its_customers_rounds() -> None:
    costs = [AnswerCost(prompt_s=1.0, tokens=100), AnswerCost(prompt_s=0.5, tokens=50)]
    # work = 1.0 + 100 * 0.01 + 0.5 + 50 * 0.01 = 3.0 s; one customer's 2 answers end no sooner than that
    assert slowest_latency_floor(costs, 0.01, rounds=2) == pytest.approx(1.5)
    assert slowest_latency_floor(costs, 0.01, rounds=1) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="rounds"):
        slowest_latency_floor(costs, 0.01, rounds=0)


def test_the_prompt_pass_needed_for_a_target_ratio() -> None:
    # 8 customers, 3x: P <= n (3 t1 - 8 tau) / 5 = 100 * (0.06 - 0.04) / 5 = 0.4 s
    needed = prompt_pass_needed_s(customers=8, target_ratio=3, mean_tokens=100, single_token_s=0.02, token_s=0.005)
    assert needed == pytest.approx(0.4)
    # with that prompt pass, 8 customers x 2 rounds floor at 16 (0.4 + 100 * 0.005) / 2 = 7.2 s = 3 x (0.4 + 2.0)
    floor = slowest_latency_floor([AnswerCost(prompt_s=0.4, tokens=100)] * 16, 0.005, rounds=2)
    assert floor == pytest.approx(3 * (0.4 + 100 * 0.02))
    # decode steps alone above the target: no prompt pass is short enough
    none = prompt_pass_needed_s(customers=8, target_ratio=3, mean_tokens=96, single_token_s=0.018, token_s=0.007)
    assert none is None
    with pytest.raises(ValueError, match="below the number of customers"):
        prompt_pass_needed_s(customers=3, target_ratio=3, mean_tokens=1, single_token_s=1, token_s=1)


def test_a_perfect_prefix_cache_computes_each_node_of_the_prompts_prefix_tree_once() -> None:
    system = [1, 2, 3]
    prompts = [[*system, 4, 5], [*system, 4, 6, 7], [*system, 8], [9]]
    # 5 + (6 - 4) + (4 - 3) + 1 = 9 nodes: 1 2 3 4 5 / 6 7 / 8 / 9
    assert distinct_prefix_tokens(prompts) == 9
    assert distinct_prefix_tokens(list(reversed(prompts))) == 9  # the order does not matter
    # a prompt asked again still reads its last position (its logits pick the first answer token)
    assert distinct_prefix_tokens([[1, 2], [1, 2]]) == 3
    assert distinct_prefix_tokens([]) == 0
