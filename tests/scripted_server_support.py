"""A scripted OpenAI-style HTTP server in a thread, for the tests of clients of llama.cpp's and vLLM's servers.

Each test scripts the replies (``Reply``: the request's JSON body → status, payload and a delay); the server records
every request's path, body and headers. A payload that is a list is sent as server-sent events (each event a JSON
value, or a raw string such as ``[DONE]``), a string as plain text, anything else as JSON.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

Reply = Callable[[dict[str, Any]], tuple[int, Any, float]]  # request body -> (status, payload, delay in seconds)


@dataclass
class ScriptedServer:
    """One running server: its URL, its script and what it was sent."""

    reply: Reply
    paths: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""


class ScriptedServers:
    """Starts scripted servers on free localhost ports; leaving the ``with`` block stops them all."""

    def __init__(self) -> None:
        self._running: list[ThreadingHTTPServer] = []

    def start(self, reply: Reply) -> ScriptedServer:
        state = ScriptedServer(reply)
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(state))
        httpd.daemon_threads = True
        self._running.append(httpd)
        threading.Thread(target=httpd.serve_forever, name="scripted-server", daemon=True).start()
        state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        return state

    def __enter__(self) -> ScriptedServers:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        for httpd in self._running:
            httpd.shutdown()
            httpd.server_close()


def _handler_for(state: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.paths.append(self.path)
            state.requests.append(body)
            state.headers.append(dict(self.headers))
            status, payload, delay = state.reply(body)
            time.sleep(delay)
            if isinstance(payload, list):
                self._send_events(status, payload)
            elif isinstance(payload, str):
                self._send(status, "text/plain", payload.encode())
            else:
                self._send(status, "application/json", json.dumps(payload).encode())

        def _send(self, status: int, content_type: str, raw: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _send_events(self, status: int, events: list[Any]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for event in events:
                data = event if isinstance(event, str) else json.dumps(event)
                self.wfile.write(f"data: {data}\r\n\r\n".encode())
                self.wfile.flush()

        def log_message(self, *args: Any) -> None:
            pass  # a test's output stays its own

    return Handler
