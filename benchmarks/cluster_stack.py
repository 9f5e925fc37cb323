"""Starting the cluster's processes on localhost, shared by the topology test (tests/cluster_support.py) and the
replica load benchmark (benchmarks/replica_load.py): llama.cpp's server on a published models.json, `bankbot
serve` replicas, one-off `bankbot` commands and a fresh PostgreSQL database. Every wait has a deadline; logs go
to files instead of pipes (an unread pipe fills up and blocks the server).

``deadline_scale`` (a class attribute) multiplies the servers' start and request deadlines: the tests raise it on
a machine flagged as slow.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx

from retrieval.chroma_server import free_port

T = TypeVar("T")


def wait_for(condition: Callable[[], T | None], what: str, seconds: float, every: float = 0.25) -> T:
    """Poll ``condition`` until it returns something truthy; TimeoutError naming ``what`` after ``seconds``."""
    end = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise TimeoutError(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(every)


def tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.is_file() else ""


def stop_process(process: subprocess.Popen[Any] | None, timeout: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout`` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


class LlamaConfigServer:
    """``python -m llama_cpp.server --config_file models.json`` run in the config's folder (the published paths
    are relative to it), on a fixed localhost port so a restart keeps the URL the replicas use."""

    deadline_scale = 1.0

    def __init__(
        self, config: Path, log_path: Path, port: int | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.config, self.log_path, self.env = config, log_path, env
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None

    def start(self, start_deadline_s: float = 180.0) -> LlamaConfigServer:
        env = {**(self.env if self.env is not None else os.environ), "HOST": "127.0.0.1", "PORT": str(self.port)}
        self._log = open(self.log_path, "a")  # noqa: SIM115  (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--config_file", self.config.name],
            cwd=self.config.parent,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_for(self._ready, f"llama_cpp.server on {self.url}", start_deadline_s * self.deadline_scale)
        except BaseException:
            self.stop()  # a server that did not come up is not left behind
            raise
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {self.process.returncode}: {tail(self.log_path)}")
        return bool(self.models())

    def models(self) -> list[str]:
        """Model names the server lists, in its config's order."""
        try:
            response = httpx.get(f"{self.url}/v1/models", timeout=5.0)
        except httpx.HTTPError:
            return []
        return [m["id"] for m in response.json()["data"]] if response.status_code == 200 else []

    def complete(self, model: str, prompt: str, max_tokens: int = 4) -> dict[str, Any]:
        body = {"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0.0, "logprobs": 1}
        body["repeat_penalty"] = 1.0  # the server's default is 1.1, llama_cpp.Llama's 1.0
        response = httpx.post(f"{self.url}/v1/completions", json=body, timeout=120.0 * self.deadline_scale)
        response.raise_for_status()
        choice: dict[str, Any] = response.json()["choices"][0]
        return choice

    def stop(self, timeout: float = 20.0) -> None:
        stop_process(self.process, timeout)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> LlamaConfigServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def bankbot(args: list[str], env: dict[str, str], *, seconds: float, stdin: str | None = None) -> str:
    """Run one `bankbot` command to completion (bounded); its output, or RuntimeError with the output."""
    return run_module("chatbot.cli", args, env, seconds=seconds, stdin=stdin)


def run_module(module: str, args: list[str], env: dict[str, str], *, seconds: float, stdin: str | None = None) -> str:
    """``python -m module args`` to completion (bounded); its output, or RuntimeError with the output."""
    command = f"{module} {' '.join(args)}"
    try:
        done = subprocess.run(
            [sys.executable, "-m", module, *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=seconds,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"{command} did not finish within {seconds:.0f} s") from exc
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise RuntimeError(f"{command} exited {done.returncode}:\n{output[-4000:]}")
    return output


class Replica:
    """One `bankbot serve` process on a localhost port; its log goes to a file."""

    deadline_scale = 1.0

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name, self.env = name, env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[str] | None = None

    def launch(self) -> Replica:
        """Start the process without waiting (replicas start side by side; ``wait_ready`` then waits)."""
        command = [sys.executable, "-m", "chatbot.cli", "serve", "--no-ingest", "--host", "127.0.0.1"]
        with open(self.log_path, "a") as log_file:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port)],
                env=self.env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                text=True,
            )
        return self

    def wait_ready(self, start_deadline_s: float = 240.0) -> Replica:
        what = f"replica {self.name} on {self.url}"
        try:
            wait_for(self._ready, what, start_deadline_s * self.deadline_scale, every=0.5)
        except BaseException:
            self.stop()
            raise
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}: {tail(self.log_path)}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=5.0).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when a machine dies."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self, timeout: float = 30.0) -> None:
        stop_process(self.process, timeout)


@contextmanager
def fresh_postgres_database(admin_url: str, prefix: str = "bankbot_bench") -> Iterator[str]:
    """A new database on the server ``admin_url`` reaches; yields its URL, drops it afterwards (even if in use)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
