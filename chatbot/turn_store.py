"""Writes chat turns to the database, or to the local spool when the database is down, replaying later in order.

The customer always gets the answer: ``log_turn`` never raises. The turn id, conversation id and creation time
are fixed before the first attempt, so a replay stores exactly the turn that was answered, and
``crud.create_turn`` being idempotent on the id makes a repeated replay harmless. Spooled turns are replayed by a
background thread (``spool.BackgroundReplayer``), never on a customer's request.
"""

from __future__ import annotations

import logging
import threading
import uuid
from pathlib import Path
from typing import Any

from chatbot.db.models import TurnCreate, utcnow
from chatbot.errors import DatabaseUnavailable
from chatbot.spool import BackgroundReplayer, Spool

log = logging.getLogger(__name__)


def is_transient(exc: BaseException) -> bool:
    """True when the database could not be reached (retrying later can work), False for a bad record."""
    from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    return isinstance(
        exc, OperationalError | InterfaceError | DisconnectionError | PoolTimeout | DatabaseUnavailable | OSError
    )


class TurnStore:
    def __init__(self, engine: Any, spool_dir: Path) -> None:
        self.engine = engine
        self.spool = Spool(spool_dir)
        self._lock = threading.Lock()
        self.replayer = BackgroundReplayer(self.flush_spool, self.pending, name="turn-spool")
        if self.spool.pending():  # turns spooled by an earlier process
            self.replayer.wake()

    def log_turn(self, turn_create: TurnCreate) -> uuid.UUID:
        """Store the turn (one transaction: conversation if new + turn); on any database error spool it."""
        turn = turn_create.model_copy(
            update={
                "id": turn_create.id or uuid.uuid4(),
                "conversation_id": turn_create.conversation_id or uuid.uuid4(),
                "created_at": turn_create.created_at or utcnow(),
            }
        )
        assert turn.id is not None
        try:
            if self.spool.pending():
                # The database failed a moment ago: join the queue instead of making this customer wait for a
                # connection timeout; the background replay stores the turns oldest first.
                self._spool(turn, reason="older turns are still spooled")
                return turn.id
            self._write(turn.model_dump(mode="json"))
        except Exception as exc:
            log.error("could not store turn %s, spooled to %s: %s", turn.id, self.spool.directory, _one_line(exc))
            self._spool(turn, reason=_one_line(exc))
        return turn.id

    def flush_spool(self) -> int:
        """Replay spooled turns into the database, oldest first; returns how many were stored."""
        with self._lock:
            stored = self.spool.replay(self._write, is_transient=is_transient)
        if stored:
            log.info("stored %d spooled turn(s)", stored)
        return stored

    def pending(self) -> int:
        return len(self.spool)

    def close(self) -> None:
        """Stop the background replay (spooled turns stay on disk for the next process)."""
        self.replayer.stop()

    def _write(self, record: dict[str, Any]) -> None:
        from sqlmodel import Session

        from chatbot.db import crud

        with Session(self.engine) as session:
            crud.create_turn(session=session, turn_create=TurnCreate.model_validate(record))

    def _spool(self, turn: TurnCreate, *, reason: str) -> None:
        try:
            self.spool.write(turn.model_dump(mode="json"), name=str(turn.id))
        except Exception:
            # Nothing else can be done without failing the customer's answer; this is the one loss path.
            log.exception("turn %s could not be spooled either (%s); it is lost", turn.id, reason)
            return
        self.replayer.wake()


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
