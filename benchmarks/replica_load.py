"""The same load through one `bankbot serve` replica and through two, on one shared cluster stack on localhost.

    python benchmarks/replica_load.py --json -                           # 4 customers x 6 questions, 1 then 2
    python benchmarks/replica_load.py --customers 1 --questions 2 --json out.json        # a smoke run

Starts one stack (benchmarks/cluster_stack.py, the topology test's process code): a fresh database on the local
PostgreSQL server (``--postgres-admin-url``), ``chroma run`` on a free port, migrations once (``bankbot db
upgrade``), the demo knowledge base ingested once, the base model published as a GGUF with its models.json
(``python -m finetune.publish``) and ``python -m llama_cpp.server`` on that config. Then for each ``--setups``
entry it runs that many replicas (each with its own data dir, all on the same database, Chroma server and LLM
server), warms each with one untimed question, and sends the same load: ``--customers`` simulated customers
start together, each POSTs ``--questions`` in-scope demo questions to ``/api/chat`` one after another. Client-side
round robin, no load balancer: customer w's r-th question goes to replica (w + r) mod n, so at every moment the
customers are spread over the replicas. Reported per setup: requests, errors, answers/s, p50/p95 latency,
requests per replica, and the turns the database gained during the run (must equal the requests: no turn lost),
with the answered turn ids found there and those whose LLM call failed (``llm_unavailable``: a passage or a hand-off).

Every replica asks the one LLM server, which answers one request at a time: on 2 cores a second replica adds no
speed-up; the run shows the replicas share the load without errors or lost turns. Developer BANKBOT_* variables
and bankbot.toml are ignored. Every process is stopped at the end, also on an error, Ctrl-C or SIGTERM; every
wait has a deadline.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

# The script's folder is on sys.path: its neighbours import as top-level modules, as in benchmarks/load.py.
from cluster_stack import LlamaConfigServer, Replica, bankbot, fresh_postgres_database, run_module, tail
from json_output import emit_json
from load import WARM_UP_QUESTION, demo_questions, percentile, post_chat

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get("BANKBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@localhost:5432/test")
TURNS_SETTLE_S = 30.0  # a turn the database missed is spooled and replayed; wait this long for it


def log(message: str) -> None:
    print(f"[replica-load] {message}", file=sys.stderr, flush=True)


class TurnCounter:
    """Reads the run's turns from the shared database, as any replica wrote them."""

    def __init__(self, database_url: str) -> None:
        from sqlmodel import create_engine

        self.engine = create_engine(database_url)

    def count(self) -> int:
        from sqlmodel import Session, func, select

        from chatbot.db.models import Turn

        with Session(self.engine) as session:
            return int(session.exec(select(func.count()).select_from(Turn)).one())

    def reasons(self, turn_ids: list[str]) -> list[str | None]:
        """The ``meta["reason"]`` of each of these turns found in the database (one entry per turn found)."""
        import uuid

        from sqlmodel import Session, select

        from chatbot.db.models import Turn

        ids = [uuid.UUID(t) for t in turn_ids]
        with Session(self.engine) as session:
            rows = session.exec(select(Turn).where(Turn.id.in_(ids))).all()  # type: ignore[attr-defined]
        return [(row.meta or {}).get("reason") for row in rows]


def stack_env(root: Path, database_url: str, chroma_port: int, args: argparse.Namespace) -> dict[str, str]:
    """What every bankbot process of the stack shares: database, Chroma server, artifact root, model settings."""
    from chatbot.settings import BUILTIN_LLM

    env = {k: v for k, v in os.environ.items() if not k.startswith("BANKBOT_")}
    env.update(
        BANKBOT_CONFIG=str(root / "no-config.toml"),  # absent: no developer's bankbot.toml
        BANKBOT_DATA_DIR=str(root / "tool" / "data"),
        BANKBOT_DATABASE_URL=database_url,
        BANKBOT_CHROMA_HOST="127.0.0.1",
        BANKBOT_CHROMA_PORT=str(chroma_port),
        BANKBOT_ARTIFACT_ROOT=str(root / "artifacts"),
        BANKBOT_MODEL_CACHE_DIR=str(args.model_cache.resolve()),
        BANKBOT_LLM_MODEL=BUILTIN_LLM,
        BANKBOT_MIGRATE_ON_START="false",
        BANKBOT_MAX_NEW_TOKENS=str(args.max_new_tokens),
        BANKBOT_LLM_SERVER_THREADS=str(args.llm_threads),  # written into models.json by the publish step
        HF_HUB_OFFLINE="1",
    )
    return env


def replica_env(
    common: dict[str, str], root: Path, name: str, llm_url: str, answer_deadline_s: float
) -> dict[str, str]:
    from finetune.publish import PUBLISHED_NAME

    return {
        **common,
        "BANKBOT_DATA_DIR": str(root / name / "data"),  # nothing shared through a replica's own folder
        "BANKBOT_LLM_SERVER_URL": llm_url,
        "BANKBOT_LLM_SERVER_MODEL": PUBLISHED_NAME,
        "BANKBOT_LLM_SERVER_TIMEOUT_S": str(answer_deadline_s),
        "BANKBOT_CHAT_DEADLINE_S": str(answer_deadline_s),
        "BANKBOT_RATE_LIMIT_API_CHAT": "",  # every simulated customer comes from 127.0.0.1
    }


def start_llm_server(stack: ExitStack, root: Path, tool: dict[str, str], args: argparse.Namespace) -> Any:
    """Publish the base model (GGUF + models.json under the artifact root) and serve it with llama.cpp."""
    from finetune.publish import CONFIG_NAME, SERVER_DIR

    log("publishing the base model's GGUF for the LLM server")
    run_module("finetune.publish", [], {**tool, "BANKBOT_LLM_PUBLISH": "llama-cpp"}, seconds=args.start_timeout)
    config = root / "artifacts" / SERVER_DIR / CONFIG_NAME
    llm = LlamaConfigServer(config, root / "llm-server.log", env=tool)
    stack.callback(llm.stop)
    llm.start(args.start_timeout)
    log(f"LLM server on {llm.url} serving {llm.models()}")
    return llm, json.loads(config.read_text())


def run_customers(urls: list[str], questions: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """All customers at once, round robin over ``urls``; latencies, errors, turn ids and requests per replica."""
    latencies: list[float] = []
    errors: list[str] = []
    turn_ids: list[str] = []
    kinds: Counter[str] = Counter()
    per_replica: Counter[int] = Counter()
    lock = threading.Lock()
    end = time.monotonic() + args.timeout

    def customer(worker: int) -> None:
        for r in range(args.questions):
            left = end - time.monotonic()
            if left <= 0:
                return
            replica = (worker + r) % len(urls)
            question = questions[(worker * args.questions + r) % len(questions)]
            started = time.perf_counter()
            try:
                answer = post_chat(urls[replica], question, left)
            except (OSError, urllib.error.URLError, ValueError) as exc:  # a load test counts errors, goes on
                with lock:
                    errors.append(f"replica {replica}: {type(exc).__name__}: {exc}")
                    per_replica[replica] += 1
                continue
            with lock:
                latencies.append(time.perf_counter() - started)
                turn_ids.append(str(answer["turn_id"]))
                kinds[str(answer.get("answer_kind"))] += 1
                per_replica[replica] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=customer, args=(w,), daemon=True) for w in range(args.customers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()) + 30)
    wall = time.perf_counter() - started
    return {
        "latencies": latencies,
        "errors": errors,
        "turn_ids": turn_ids,
        "kinds": dict(kinds),
        "per_replica": [per_replica[i] for i in range(len(urls))],
        "wall_s": wall,
    }


def measure_setup(
    replicas: list[Replica], questions: list[str], turns: TurnCounter, args: argparse.Namespace
) -> dict[str, Any]:
    before = turns.count()
    run = run_customers([r.url for r in replicas], questions, args)
    latencies, answered = run["latencies"], run["turn_ids"]
    settle_end = time.monotonic() + TURNS_SETTLE_S
    while turns.count() - before < len(answered) and time.monotonic() < settle_end:
        time.sleep(0.5)
    reasons = turns.reasons(answered)
    return {
        "replicas": len(replicas),
        "requests": args.customers * args.questions,
        "completed": len(latencies),
        "errors": len(run["errors"]),
        "error_samples": run["errors"][:3],
        "wall_s": round(run["wall_s"], 2),
        "answers_per_s": round(len(latencies) / run["wall_s"], 3),
        "latency_p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "latency_p95_s": round(percentile(latencies, 95), 3) if latencies else None,
        "requests_per_replica": run["per_replica"],
        "turns_logged": turns.count() - before,
        "answered_turns_found": len(reasons),
        "llm_unavailable": sum(1 for reason in reasons if reason == "llm_unavailable"),
        "answer_kinds": run["kinds"],
    }


def run_replicas(
    running: list[Replica], wanted: int, make: Any, stack: ExitStack, args: argparse.Namespace
) -> list[Replica]:
    """Exactly ``wanted`` replicas running, each answered one untimed question (its first-answer costs)."""
    while len(running) > wanted:
        running.pop().stop()
    new = [make(f"replica-{chr(ord('a') + i)}") for i in range(len(running), wanted)]
    for replica in new:
        stack.callback(replica.stop)
        replica.launch()
    for replica in new:
        replica.wait_ready(args.start_timeout)
        log(f"{replica.name} ready on {replica.url}; warming up")
        try:
            post_chat(replica.url, WARM_UP_QUESTION, args.start_timeout)
        except (OSError, ValueError) as exc:  # HTTPError (e.g. a 504 past the answer deadline) is an OSError
            raise RuntimeError(
                f"{replica.name} did not answer the warm-up question: {exc} (a loaded machine may need a longer "
                f"--answer-deadline); the end of its log:\n{tail(replica.log_path, 1500)}"
            ) from exc
    return running + new


def measure(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    from retrieval.chroma_server import start_chroma_server

    questions = demo_questions()
    results: list[dict[str, Any]] = []
    with ExitStack() as stack:
        database_url = stack.enter_context(fresh_postgres_database(args.postgres_admin_url))
        chroma = stack.enter_context(start_chroma_server(root / "chroma", deadline_s=args.start_timeout))
        tool = stack_env(root, database_url, chroma.port, args)
        log("migrating the fresh database, ingesting the demo knowledge base into the Chroma server")
        bankbot(["db", "upgrade"], tool, seconds=args.start_timeout)
        bankbot(["ingest", "--no-progress"], tool, seconds=args.start_timeout)
        llm, llm_config = start_llm_server(stack, root, tool, args)
        turns = TurnCounter(database_url)
        stack.callback(turns.engine.dispose)

        def make(name: str) -> Replica:
            return Replica(name, replica_env(tool, root, name, llm.url, args.answer_deadline), root)

        running: list[Replica] = []
        for wanted in args.setups:
            running = run_replicas(running, wanted, make, stack, args)
            log(f"{wanted} replica(s): {args.customers} customers x {args.questions} questions")
            results.append(measure_setup(running, questions, turns, args))
            log(json.dumps(results[-1]))
    return {"llm_server_config": llm_config, "setups": results}


def report(args: argparse.Namespace, measured: dict[str, Any], load_before: float) -> dict[str, Any]:
    setups = measured["setups"]
    rates = {s["replicas"]: s["answers_per_s"] for s in setups}
    return {
        "driver": "HTTP POST /api/chat, one thread per customer; client-side round robin over the replicas "
        "(customer w's r-th question to replica (w + r) mod n), no load balancer",
        "stack": "fresh PostgreSQL database, chroma run, python -m llama_cpp.server on the published models.json "
        "(one LLM server shared by every replica), bankbot serve replicas on the server backend",
        "llm_server_config": measured["llm_server_config"],
        # models.json sets no thread count: llama_cpp.server then generates on half the cores
        "llm_server_threads": measured["llm_server_config"]["models"][0].get(
            "n_threads", max((os.cpu_count() or 1) // 2, 1)
        ),
        "customers": args.customers,
        "questions_per_customer": args.questions,
        "max_new_tokens": args.max_new_tokens,
        "answer_deadline_s": args.answer_deadline,
        "cpu_count": os.cpu_count(),
        "load_avg_1m_before": round(load_before, 2),
        "load_avg_1m_after": round(os.getloadavg()[0], 2),
        "setups": setups,
        "answers_per_s_two_vs_one": round(rates[2] / rates[1], 3) if rates.get(1) and rates.get(2) else None,
        "no_turn_lost": all(s["turns_logged"] == s["requests"] == s["answered_turns_found"] for s in setups),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", metavar="PATH", help="write the JSON report here ('-' or nothing: stdout)")
    parser.add_argument("--customers", type=int, default=4, help="simulated customers, all at once")
    parser.add_argument("--questions", type=int, default=6, help="in-scope demo questions per customer")
    parser.add_argument("--setups", default="1,2", help="replica counts measured, in this order")
    parser.add_argument(
        "--llm-threads", type=int, default=os.cpu_count() or 1, help="the LLM server's threads (default: every core)"
    )
    parser.add_argument("--max-new-tokens", type=int, default=96, help="answer budget of the replicas")
    parser.add_argument(
        "--answer-deadline", type=float, default=300.0, help="replicas' chat deadline and LLM server timeout, s"
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per setup's load")
    parser.add_argument("--start-timeout", type=float, default=600.0, help="seconds per start-up step")
    parser.add_argument(
        "--model-cache",
        type=Path,
        default=Path(os.environ.get("BANKBOT_MODEL_CACHE_DIR", ROOT / "bankbot-data" / "models")),
        help="converted model cache (GGUF), shared across runs (default: the app's default cache)",
    )
    parser.add_argument("--postgres-admin-url", default=ADMIN_URL, help="server the fresh database is created on")
    parser.add_argument("--work-dir", type=Path, help="keep logs and data here (default: a temp dir, removed)")
    args = parser.parse_args(argv)
    args.setups = [int(n) for n in args.setups.split(",")]
    if min(args.setups) < 1 or args.customers < 1 or args.questions < 1:
        parser.error("--setups, --customers and --questions must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so every started process is stopped and the database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bankbot-replica-load-") as tmp:
        root = args.work_dir.resolve() if args.work_dir else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        measured = measure(args, root)
    emit_json(report(args, measured, load_before), args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
