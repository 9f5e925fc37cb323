"""Abuse limits under load: one client floods POST /api/chat at 200 requests/s while another customer keeps asking.

    python benchmarks/abuse_load.py --json -          # starts `bankbot serve` (fake LLM) on a free localhost port

Localhost only and bounded: it starts its own `bankbot serve` on 127.0.0.1 with the default limits (fake LLM: the
limits sit in front of the model, and a real model would only make the admitted answers slower), sends at most
``--rate`` x ``--seconds`` x ``--rounds`` flood requests, and stops the server at the end. The flooder is the peer
127.0.0.1; the other customer connects from 127.0.0.2 (a different TCP peer on the same loopback interface) and
asks one question every ``--victim-every`` seconds during each flood. Reported: the flooder's status counts and
achieved rate, the other customer's statuses and latencies, and the server's resident memory (VmRSS) after the
warm-up and after each round, plus its peak (VmHWM).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from json_output import emit_json  # benchmarks/json_output.py (the script's folder is on sys.path)

ROOT = Path(__file__).resolve().parents[1]
FLOODER, CUSTOMER, WARM_UP_CLIENT = "127.0.0.1", "127.0.0.2", "127.0.0.3"
QUESTION = json.dumps({"question": "How do I top up my account?"}).encode()


def log(message: str) -> None:
    print(f"[abuse-load] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of a process, in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


class Client:
    """One keep-alive HTTP connection from a chosen loopback address."""

    def __init__(self, port: int, source: str, timeout: float) -> None:
        self.port, self.source, self.timeout = port, source, timeout
        self.connection: http.client.HTTPConnection | None = None

    def post_chat(self) -> int:
        for attempt in range(2):  # the server may have closed an idle keep-alive connection: reconnect once
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=self.timeout, source_address=(self.source, 0)
                )
            try:
                self.connection.request("POST", "/api/chat", QUESTION, {"Content-Type": "application/json"})
                response = self.connection.getresponse()
                response.read()
                return response.status
            except (OSError, http.client.HTTPException):
                self.connection.close()
                self.connection = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def flood(port: int, rate: float, seconds: float, workers: int, timeout: float) -> dict[str, Any]:
    """``rate`` requests/s for ``seconds`` from the flooder, paced on a shared schedule by ``workers`` threads."""
    total = int(rate * seconds)
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    next_index = 0
    started = time.monotonic()
    stop_at = started + seconds + timeout

    def worker() -> None:
        nonlocal next_index
        client = Client(port, FLOODER, timeout)
        while True:
            with lock:
                index, next_index = next_index, next_index + 1
            if index >= total or time.monotonic() > stop_at:
                return
            delay = started + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                status = str(client.post_chat())
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
            with lock:
                statuses[status] += 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, stop_at - time.monotonic()) + 5)
    wall = time.monotonic() - started
    sent = sum(statuses.values())
    return {"sent": sent, "wall_s": round(wall, 2), "achieved_rate": round(sent / wall, 1), "statuses": dict(statuses)}


def customer(port: int, every: float, seconds: float, timeout: float) -> dict[str, Any]:
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    client = Client(port, CUSTOMER, timeout)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        asked = time.monotonic()
        try:
            status = str(client.post_chat())
            latencies.append(time.monotonic() - asked)
        except (OSError, http.client.HTTPException) as exc:
            status = type(exc).__name__
        statuses[status] += 1
        time.sleep(max(0.0, asked + every - time.monotonic()))
    return {
        "statuses": dict(statuses),
        "latency_median_s": round(statistics.median(latencies), 3) if latencies else None,
        "latency_max_s": round(max(latencies), 3) if latencies else None,
    }


def start_server(data_dir: Path, start_timeout: float) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANKBOT_")}
    env.update(
        BANKBOT_DATA_DIR=str(data_dir),
        BANKBOT_LLM_MODEL="fake",
        BANKBOT_CONFIG=str(data_dir / "no-config.toml"),
        HF_HUB_OFFLINE="1",
    )
    server_log = (data_dir / "server.log").open("wb")
    command = [sys.executable, "-m", "chatbot.cli", "serve", "--no-ingest", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=server_log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + start_timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the app exited with code {server.returncode}; see {data_dir / 'server.log'}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()  # uvicorn listens once the app is built
            return server, port
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"the app did not listen within {start_timeout:.0f} s")


def default_limits() -> dict[str, Any]:
    from chatbot.settings import Settings

    names = ("rate_limit_api_chat", "max_concurrent_chats", "chat_queue_size", "chat_deadline_s", "max_connections")
    return {name: Settings.model_fields[name].default for name in names}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", metavar="PATH", help="write the JSON report here ('-' for stdout)")
    parser.add_argument("--rate", type=float, default=200.0, help="flood requests per second")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one flood")
    parser.add_argument("--rounds", type=int, default=2, help="floods, one after another (memory after each)")
    parser.add_argument("--workers", type=int, default=16, help="flooder threads (keep-alive connections)")
    parser.add_argument("--victim-every", type=float, default=0.5, help="seconds between the other customer's asks")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--start-timeout", type=float, default=600.0, help="seconds to wait for the app to start")
    args = parser.parse_args(argv)
    if args.rate * args.seconds * args.rounds > 20_000:
        parser.error("bounded on purpose: at most 20,000 flood requests in all")

    with tempfile.TemporaryDirectory(prefix="bankbot-abuse-") as tmp:
        server, port = start_server(Path(tmp), args.start_timeout)
        try:
            log(f"warming up on port {port} (the first question loads the embedder)")
            warm = Client(port, WARM_UP_CLIENT, args.start_timeout).post_chat()
            memory = [{"after": "warm-up", **memory_kib(server.pid)}]
            rounds = []
            for n in range(args.rounds):
                log(f"round {n + 1}: {args.rate:g} requests/s for {args.seconds:g} s from {FLOODER}")
                result: dict[str, Any] = {}
                asks = (port, args.victim_every, args.seconds, args.timeout)
                other = threading.Thread(target=lambda into=result, asks=asks: into.update(customer(*asks)))
                other.start()
                flooded = flood(port, args.rate, args.seconds, args.workers, args.timeout)
                other.join(args.seconds + args.timeout + 5)
                rounds.append({"flooder": flooded, "other_customer": result})
                memory.append({"after": f"round {n + 1}", **memory_kib(server.pid)})
                log(json.dumps(rounds[-1]))
        finally:
            server.terminate()
            server.wait(30)
    report = {
        "driver": f"POST /api/chat: flooder {FLOODER} at --rate req/s, other customer {CUSTOMER}; `bankbot serve`",
        "settings": {"defaults": True, "llm_model": "fake", "knowledge_base": "empty", **default_limits()},
        "rate": args.rate,
        "seconds": args.seconds,
        "warm_up_status": warm,
        "rounds": rounds,
        "server_memory_kib": memory,
        "cpu_count": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
