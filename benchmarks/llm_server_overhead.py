"""Per-request overhead of the LLM server backend against in-process llama.cpp, on the same GGUF and prompts.

    python benchmarks/llm_server_overhead.py --json -          # JSON to stdout (progress on stderr)
    python benchmarks/llm_server_overhead.py --runs 3 --prompts 3 --new-tokens 64 --json out.json

First the served engine in-process (``build_generator``: llama.cpp on the served GGUF) answers ``--prompts`` RAG
prompts (``evals.engine_parity.demo_cases``) ``--runs`` times each, after one untimed answer; then the same GGUF
is served by ``python -m llama_cpp.server`` on a free localhost port with the same thread count, and
``OpenAIServerGenerator`` answers the same prompts the same way over HTTP, whole and streamed. Reported: median
seconds per answer each way, the overhead per request (median server minus median in-process, also per generated
token), whether the answers are the same text, and the largest log-prob difference where they are. Both run on
the same cores, one after the other: the overhead is HTTP, JSON and the server's own per-token log-prob work
(llama-cpp-python's server sorts the whole vocabulary for each token it returns a log-prob for), not a GPU's
speed-up.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
START_DEADLINE_S = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def llama_server(gguf: Path, *, threads: int, n_ctx: int, alias: str = "bankbot") -> Iterator[str]:
    """``python -m llama_cpp.server`` on ``gguf`` at a free localhost port; yields its base URL, stops it after.

    Flags: log-probs need every position's logits (``--logits_all``); ``--interrupt_requests false`` keeps one
    client's request from cutting another's stream short.
    """
    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", alias,
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx), "--n_batch", "512",
        "--n_threads", str(threads), "--n_threads_batch", str(threads), "--logits_all", "true",
        "--interrupt_requests", "false", "--verbose", "false",
    ]  # fmt: skip
    # The server's log goes to a file: an unread pipe fills up and blocks the server mid-request.
    with tempfile.TemporaryFile(mode="w+") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, text=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + START_DEADLINE_S
            while not _answers(url):
                if process.poll() is not None:
                    log_file.seek(0)
                    raise RuntimeError(f"llama_cpp.server exited with {process.returncode}: {log_file.read()[-2000:]}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"llama_cpp.server did not start within {START_DEADLINE_S:g} s")
                time.sleep(0.25)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)


def _answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/v1/models", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def timed_answers(
    generator: Any, prompts: list[Any], runs: int, new_tokens: int, *, stream: bool = False
) -> tuple[list[float], list[Any]]:
    def answer(messages: Any) -> Any:
        if stream:
            return list(generator.stream(messages, max_new_tokens=new_tokens))[-1]
        return generator.generate(messages, max_new_tokens=new_tokens)

    answer(prompts[0])  # untimed: first-call costs
    seconds, results = [], []
    for messages in prompts:
        for _ in range(runs):
            started = time.perf_counter()
            result = answer(messages)
            seconds.append(time.perf_counter() - started)
        results.append(result)
    return seconds, results


def measure(runs: int, n_prompts: int, new_tokens: int, data_dir: Path) -> dict[str, Any]:
    from chatbot.generation import build_generator
    from chatbot.generation.gguf_export import base_gguf
    from chatbot.generation.openai_server import OpenAIServerGenerator
    from chatbot.settings import BUILTIN_LLM, Settings
    from evals.engine_parity import demo_cases

    settings = Settings(data_dir=data_dir, llm_model=BUILTIN_LLM, llm_engine="llama-cpp")
    local = build_generator(settings)
    gguf = Path(local.gguf_path)  # type: ignore[attr-defined]
    threads = settings.llm_threads or os.cpu_count() or 1
    prompts = [case.messages for case in demo_cases(local.count_tokens, n_prompts)]
    print(f"in-process: {gguf.name}, {len(prompts)} prompts x {runs} runs", file=sys.stderr)
    local_s, local_results = timed_answers(local, prompts, runs, new_tokens)
    del local
    with llama_server(gguf, threads=threads, n_ctx=settings.context_window) as url:
        print(f"server: {url}", file=sys.stderr)
        remote = OpenAIServerGenerator(
            settings.model_copy(update={"llm_server_url": url, "llm_server_timeout_s": 600.0}),
            base_gguf(settings),
            base_model="b",
            adapter_version=None,
        )
        remote_s, remote_results = timed_answers(remote, prompts, runs, new_tokens)
        stream_s, _ = timed_answers(remote, prompts, runs, new_tokens, stream=True)
        remote.close()
    tokens = statistics.median(len(r.token_logprobs) for r in local_results) or 1
    diffs = [
        abs(a - b)
        for mine, theirs in zip(local_results, remote_results, strict=True)
        if mine.text == theirs.text  # after answers part ways their log-probs are of different tokens
        for a, b in zip(mine.token_logprobs, theirs.token_logprobs, strict=False)
    ]
    overhead = statistics.median(remote_s) - statistics.median(local_s)
    return {
        "gguf": gguf.name,
        "threads": threads,
        "prompts": len(prompts),
        "runs": runs,
        "new_tokens_limit": new_tokens,
        "median_new_tokens": tokens,
        "in_process_median_s": round(statistics.median(local_s), 4),
        "server_median_s": round(statistics.median(remote_s), 4),
        "overhead_per_request_ms": round(1000 * overhead, 1),
        "overhead_per_token_ms": round(1000 * overhead / tokens, 2),
        "overhead_ratio": round(statistics.median(remote_s) / statistics.median(local_s), 3),
        "server_stream_median_s": round(statistics.median(stream_s), 4),
        "stream_overhead_per_request_ms": round(1000 * (statistics.median(stream_s) - statistics.median(local_s)), 1),
        "same_text": [a.text == b.text for a, b in zip(local_results, remote_results, strict=True)],
        "same_token_count": [
            len(a.token_logprobs) == len(b.token_logprobs) for a, b in zip(local_results, remote_results, strict=True)
        ],
        "max_abs_logprob_diff_same_text": round(max(diffs, default=0.0), 5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--prompts", type=int, default=3)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bankbot-data")
    parser.add_argument("--json", default="-", help="output file, or - for stdout")
    args = parser.parse_args()
    from json_output import emit_json  # benchmarks/json_output.py (the script's folder is on sys.path)

    emit_json(measure(args.runs, args.prompts, args.new_tokens, args.data_dir), args.json)


if __name__ == "__main__":
    main()
