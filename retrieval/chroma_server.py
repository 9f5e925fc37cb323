"""Start a local Chroma server process: for the tests, the benchmarks and the topology test (localhost only).

Without a token this is ``chroma run`` (Chroma's own server). The ``chroma run`` of chromadb 1.x does not check
tokens (it accepts any ``Authorization`` header), so with a token this starts Chroma's Python server
(``uvicorn chromadb.app:app``) with its token authentication provider, which answers 403 to a wrong token. That
server needs the ``opentelemetry-instrumentation-fastapi`` package.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from chatbot.errors import BankbotError

HOST = "127.0.0.1"
TOKEN_PROVIDER = "chromadb.auth.token_authn.TokenAuthenticationServerProvider"


@dataclass
class ChromaServer:
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)

    def __enter__(self) -> ChromaServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def token_server_available() -> str | None:
    """None when a token-checking server can be started here, else why not."""
    try:
        import opentelemetry.instrumentation.fastapi  # noqa: F401  (chromadb.app imports it)
        import uvicorn  # noqa: F401
    except ImportError as exc:
        return f"Chroma's token-checking server needs {exc.name} (pip install opentelemetry-instrumentation-fastapi)"
    return None


def chroma_command(path: Path, port: int) -> list[str]:
    local = Path(sys.executable).parent / "chroma"  # the venv's console script, even when the venv is not on PATH
    found = str(local) if local.exists() else shutil.which("chroma")
    if found is None:
        raise BankbotError("the `chroma` command (package chromadb) is not installed")
    return [found, "run", "--path", str(path), "--host", HOST, "--port", str(port)]


def start_chroma_server(
    path: Path, *, port: int | None = None, token: str | None = None, deadline_s: float = 60.0
) -> ChromaServer:
    """Start a server persisting to ``path`` and wait (at most ``deadline_s``) until it answers its heartbeat."""
    port = port or free_port()
    path.mkdir(parents=True, exist_ok=True)
    log = path.parent / f"{path.name}-chroma-{port}.log"
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "FALSE"}
    if token is None:
        command = chroma_command(path, port)
    else:
        if (missing := token_server_available()) is not None:
            raise BankbotError(missing)
        env.update(
            CHROMA_SERVER_AUTHN_PROVIDER=TOKEN_PROVIDER,
            CHROMA_SERVER_AUTHN_CREDENTIALS=token,
            IS_PERSISTENT="TRUE",
            PERSIST_DIRECTORY=str(path),
        )
        command = [sys.executable, "-m", "uvicorn", "chromadb.app:app", "--host", HOST, "--port", str(port)]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    server = ChromaServer(HOST, port, process, log)
    try:
        wait_until_up(server, deadline_s)
    except BaseException:
        server.stop()
        raise
    return server


def wait_until_up(server: ChromaServer, deadline_s: float) -> None:
    url = f"http://{server.host}:{server.port}/api/v2/heartbeat"
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = server.log.read_text(errors="replace")[-400:]
            raise BankbotError(f"the Chroma server exited with {server.process.returncode}: {tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise BankbotError(f"the Chroma server on port {server.port} did not answer within {deadline_s:.0f} s")
