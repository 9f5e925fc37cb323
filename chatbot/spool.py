"""A durable local queue of JSON records: one file per record, written atomically, replayed in order.

Used when the database is unreachable so a chat turn is never lost. A record is first written to a temporary
file in the same folder, flushed and fsynced, then renamed into place (and the folder fsynced), so after a crash
a record is either complete or absent. File names start with a nanosecond timestamp and a per-process counter:
sorting them gives the order they were written. A record that cannot be replayed for a reason other than the
database being down (e.g. it violates a constraint) is moved to ``failed/`` so it does not block the others.

``BackgroundReplayer`` runs the replay on a thread of its own, so no customer request waits for it.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_counter = itertools.count()


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @property
    def failed_dir(self) -> Path:
        return self.directory / "failed"

    def write(self, record: dict[str, Any], *, name: str = "record") -> Path:
        """Persist ``record`` durably and return its file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = f"{time.time_ns():020d}-{os.getpid()}-{next(_counter):06d}-{name}"
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                # ASCII with escapes: text that is not valid Unicode (a lone surrogate) is still written, not lost.
                json.dump(record, handle, ensure_ascii=True)
                handle.flush()
                os.fsync(handle.fileno())
            target = self.directory / f"{stem}.json"
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(self.directory)
        return target

    def pending(self) -> list[Path]:
        """Spooled records, oldest first (temporary files of writes in progress are not listed)."""
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.glob("*.json") if not p.name.startswith("."))

    def __len__(self) -> int:
        return len(self.pending())

    def replay(
        self,
        handle: Callable[[dict[str, Any]], None],
        *,
        is_transient: Callable[[BaseException], bool] = lambda exc: True,
    ) -> int:
        """Feed records to ``handle`` oldest first, deleting each once handled; returns how many were handled.

        Stops at the first transient failure (the database is still down) so the order is kept; a record whose
        failure is not transient is moved to ``failed/`` and logged.
        """
        done = 0
        with self._lock():
            for path in self.pending():
                try:
                    record = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    self._quarantine(path, exc)
                    continue
                try:
                    handle(record)
                except Exception as exc:
                    if is_transient(exc):
                        log.warning("spool replay paused at %s: %s", path.name, _one_line(exc))
                        break
                    self._quarantine(path, exc)
                    continue
                path.unlink(missing_ok=True)
                done += 1
            if done:
                _fsync_dir(self.directory)
        return done

    @contextmanager
    def _lock(self) -> Iterator[None]:
        # Two threads or processes replaying at once would each insert the same record.
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _quarantine(self, path: Path, exc: BaseException) -> None:
        self.failed_dir.mkdir(parents=True, exist_ok=True)
        os.replace(path, self.failed_dir / path.name)
        log.error("spooled record %s cannot be replayed, moved to %s: %s", path.name, self.failed_dir, _one_line(exc))


class BackgroundReplayer:
    """Calls ``replay`` on a daemon thread: at once when woken, then every ``every_s`` seconds while ``pending``
    says records wait (the database is still down). The thread ends when nothing is pending; ``wake`` starts a new
    one, so an idle store holds no thread."""

    def __init__(
        self, replay: Callable[[], int], pending: Callable[[], int], *, every_s: float = 5.0, name: str = "spool"
    ) -> None:
        self._replay = replay
        self._pending = pending
        self.every_s = every_s
        self.name = f"{name}-replay"
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = False

    @property
    def running(self) -> bool:
        with self._lock:
            return self._thread is not None

    def wake(self) -> None:
        """Replay soon (call after writing a record). Set before the check, so a thread about to end sees it."""
        self._wake.set()
        with self._lock:
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._lock:
            self._stopped = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            self._wake.clear()
            if not self._stopped:
                try:
                    self._replay()
                except Exception:  # a bug in a handler must not end replays for good; the next wake retries
                    log.exception("spool replay failed")
            with self._lock:
                # Ends only when idle and not woken meanwhile (decided under the lock ``wake`` takes), so a record
                # written after this check finds no thread and starts one.
                if self._stopped or (not self._wake.is_set() and self._pending_or_zero() == 0):
                    self._thread = None
                    return
            self._wake.wait(self.every_s)

    def _pending_or_zero(self) -> int:
        try:
            return self._pending()
        except OSError as exc:
            log.warning("cannot list the spool: %s", exc)
            return 1  # keep trying: the folder may come back


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
