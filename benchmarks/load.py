"""Concurrent chats against the running app: N = 1, 4, 8 simultaneous customers, throughput and p95 latency.

    python benchmarks/load.py --json -                          # starts its own app on a free localhost port
    python benchmarks/load.py --url http://127.0.0.1:7860 --json out.json     # or load an app you started

Without ``--url`` it ingests the demo knowledge base into a temporary data folder, starts ``bankbot serve`` on a
free port (``--engine`` and ``--max-new-tokens`` are passed as settings), waits for ``/healthz``, and stops the
server at the end. Each simulated customer POSTs ``--rounds`` in-scope demo questions to ``/api/chat`` (the same
pipeline, engine and log as the web chat) one after another; all N customers start together. Bounded by the
number of requests and ``--timeout``, so it stops by itself. Reported per N: requests, errors, answers/s, p50/p95
latency, and p95 relative to the N=1 median. The single customer asks as many
questions as the most concurrent level's customers together (the same questions, one after another), so the
single-chat median the ratios divide by is not the median of two answers.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from json_output import emit_json  # benchmarks/json_output.py (the script's folder is on sys.path)

ROOT = Path(__file__).resolve().parents[1]
WARM_UP_QUESTION = "How do I top up my account?"  # the first answer loads the model; not one of the timed questions


def log(message: str) -> None:
    print(f"[load-bench] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100]) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * q // 100)))
    return ordered[int(rank) - 1]


def demo_questions() -> list[str]:
    rows = [json.loads(line) for line in (ROOT / "evals" / "data" / "demo_eval.jsonl").read_text().splitlines() if line]
    return [r["question"] for r in rows if r.get("kind", "in_scope") == "in_scope"]


def post_chat(url: str, question: str, timeout: float) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{url}/api/chat",
        data=json.dumps({"question": question}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return dict(json.loads(response.read()))


def one_level(url: str, questions: list[str], n: int, rounds: int, timeout: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + timeout

    def customer(worker: int) -> None:
        for r in range(rounds):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            question = questions[(worker * rounds + r) % len(questions)]
            started = time.perf_counter()
            try:
                post_chat(url, question, left)
            except (OSError, urllib.error.URLError, ValueError) as exc:  # a load test counts errors, goes on
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    threads = [threading.Thread(target=customer, args=(w,), daemon=True) for w in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()) + 30)
    wall = time.perf_counter() - started
    return {
        "concurrency": n,
        "requests": n * rounds,
        "completed": len(latencies),
        "errors": len(errors),
        "error_samples": errors[:3],
        "wall_s": round(wall, 2),
        "answers_per_s": round(len(latencies) / wall, 3),
        "latency_p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "latency_p95_s": round(percentile(latencies, 95), 3) if latencies else None,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_app(args: argparse.Namespace, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "BANKBOT_DATA_DIR": str(data_dir),
        "BANKBOT_MAX_NEW_TOKENS": str(args.max_new_tokens),
        # Every simulated customer comes from 127.0.0.1: the per-client limit would turn this into an abuse test
        # (benchmarks/abuse_load.py is that one).
        "BANKBOT_RATE_LIMIT_API_CHAT": "100000/minute",
        **({"BANKBOT_LLM_ENGINE": args.engine} if args.engine else {}),
    }
    bankbot = [sys.executable, "-m", "chatbot.cli"]
    log(f"ingesting the demo knowledge base into {data_dir}")
    subprocess.run([*bankbot, "ingest"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    server_log = (data_dir / "server.log").open("wb")
    server = subprocess.Popen(
        [*bankbot, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + args.start_timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the app exited with code {server.returncode}; see {data_dir / 'server.log'}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5):
                return server, url
        except OSError:
            time.sleep(1)
    server.terminate()
    raise SystemExit(f"the app did not answer /healthz within {args.start_timeout:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", metavar="PATH", help="write the JSON report here ('-' for stdout)")
    parser.add_argument("--url", help="an app already running (default: start one on a free port)")
    parser.add_argument(
        "--engine", help="LLM engine of the app this starts: llama-cpp or transformers (default: the setting)"
    )
    parser.add_argument("--max-new-tokens", type=int, default=96, help="answer budget of the app this starts")
    parser.add_argument("--concurrency", default="1,4,8")
    parser.add_argument("--rounds", type=int, default=2, help="questions per simulated customer")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per concurrency level")
    parser.add_argument("--start-timeout", type=float, default=600, help="seconds to wait for the app to start")
    args = parser.parse_args(argv)

    questions = demo_questions()
    with tempfile.TemporaryDirectory(prefix="bankbot-load-") as tmp:
        server, url = (None, args.url.rstrip("/")) if args.url else start_app(args, Path(tmp))
        try:
            log(f"warming up {url} (first answer loads the model)")
            post_chat(url, WARM_UP_QUESTION, args.start_timeout)
            results = []
            levels = [int(x) for x in args.concurrency.split(",")]
            for n in levels:
                rounds = args.rounds * max(levels) if n == 1 else args.rounds
                log(f"{n} concurrent customers x {rounds} questions")
                results.append(one_level(url, questions, n, rounds, args.timeout))
                log(str(results[-1]))
        finally:
            if server is not None:
                server.terminate()
                server.wait(30)
    single = next((r["latency_p50_s"] for r in results if r["concurrency"] == 1), None)
    for r in results:
        if single and r["latency_p95_s"]:
            r["p95_vs_single"] = round(r["latency_p95_s"] / single, 2)
    report = {
        "driver": "HTTP POST /api/chat on the running app (threads, one per customer)",
        "url": args.url or "started by the benchmark",
        "engine": args.engine or os.environ.get("BANKBOT_LLM_ENGINE", "setting default (llama-cpp)"),
        "max_new_tokens": None if args.url else args.max_new_tokens,
        "cpu_count": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "levels": results,
    }
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
