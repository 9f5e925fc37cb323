"""The int4 back end on the real SmolLM2: guard metrics, compiled serving with log-probs, no recompiles (slow)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from chatbot.generation import backends
from chatbot.generation import quality_guard as qg


def _has_avx512() -> bool:
    from chatbot.generation.cpu_kernels import cpu_flags

    return "avx512f" in cpu_flags().split()


# --- the real model -----------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.skipif(
    not _has_avx512(),
    reason="int4 serving is the AVX512 machines' back end: without AVX512, auto serves int8-lean, and compiling the "
    "int4 decode step here takes over 10 minutes of the CI run (the fast suite still tests int4 on a tiny model)",
)
def test_int4_on_smollm2_guard_metrics_and_compiled_serving_with_logprobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chatbot.generation.hf import HFGenerator
    from chatbot.protocols import Generation
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, llm_model="builtin:smollm2-135m-instruct", inference_backend="int4-weight-only")
    # The guard in a folder of its own: the shared model cache may hold a guard result of another size (e.g. the
    # 12-prompt one of benchmarks/inference.py), which would be read instead of measured.
    cache_dir = backends.serving_dir(tmp_path / "guard-models", backends_source(settings), None)
    result = backends.guard_backend(
        cache_dir, "int4-weight-only", Path(backends_source(settings)), repetition_penalty=1.1, n=3
    )
    m = result.metrics
    # int4 changes some greedy choices (0.88 agreement on 12 prompts when measured) but is not garbage, and neither
    # task quality (gold ROUGE-L) nor the confidence input (mean log-prob) moves much.
    assert m.prompts == 3 and 0.5 < m.token_agreement <= 1.0
    assert m.gold_rouge_drop <= 0.05 and m.logprob_shift <= 0.25
    assert qg.read_result(cache_dir, "int4-weight-only", qg.Tolerance()) is not None  # cached for the next start

    # The guard's decision is tested above; here the compiled serving path itself, whatever the tolerance says.
    lenient = replace(qg.Tolerance(), min_token_agreement=0.5, min_rouge_l_vs_fp32=0.3)
    monkeypatch.setattr(qg, "Tolerance", lambda: lenient)
    generator = HFGenerator(settings)  # cached guard result and weights, then compiles during warm-up
    assert generator.backend == "int4-weight-only" and generator.fast_path.enabled
    pieces = list(generator.stream([{"role": "user", "content": "How do I top up my account?"}], max_new_tokens=12))
    final = pieces[-1]
    assert isinstance(final, Generation)
    assert "".join(p for p in pieces[:-1] if isinstance(p, str)).strip() == final.text
    assert 0 < len(final.token_logprobs) <= 12 and all(lp <= 0 for lp in final.token_logprobs)

    # Warm-up compiled the only decode graph there is: concurrent chats of other lengths, answered as one batch
    # of a size warm-up never saw, with a longer static cache, must not compile again in front of customers.
    from concurrent.futures import ThreadPoolExecutor

    from torch._dynamo.utils import counters

    graphs = counters["stats"]["unique_graphs"]
    questions = [f"{'Please explain, ' * n}how do I top up my account?" for n in (1, 40, 80, 120)]
    with ThreadPoolExecutor(len(questions)) as pool:
        answers = list(
            pool.map(lambda q: generator.generate([{"role": "user", "content": q}], max_new_tokens=6), questions)
        )
    assert all(isinstance(a, Generation) and a.token_logprobs for a in answers)
    assert counters["stats"]["unique_graphs"] == graphs


def backends_source(settings: Any) -> str:
    from chatbot.model_loading import llm_source

    return llm_source(settings)
