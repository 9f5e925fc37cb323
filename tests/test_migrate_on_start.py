"""Migrations as a deploy step: `bankbot db upgrade` under the migration lock, and `bankbot serve` that upgrades at
start (migrate_on_start true, the one-box default) or refuses a schema behind the code (false, a cluster's replicas)."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from chatbot.cli import main
from chatbot.db.engine import make_engine
from chatbot.db.locks import MIGRATE_LOCK_KEY, database_lock
from chatbot.db.migrate import SchemaNotAtHead, alembic_config, current_revision, head_revision, require_head, upgrade


def _revision_before_head(engine: Any) -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(engine)).get_revision("head")
    assert head is not None and isinstance(head.down_revision, str), "the migrations are expected to be linear"
    return head.down_revision


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def serve_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """`bankbot serve` settings in the environment (SQLite in a temp dir, fake LLM); returns the database URL."""
    url = f"sqlite:///{tmp_path / 'bankbot.db'}"
    monkeypatch.setenv("BANKBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BANKBOT_DATABASE_URL", url)
    monkeypatch.setenv("BANKBOT_LLM_MODEL", "fake")
    return url


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Replaces only the blocking web server loop; records the schema revision the server would have started on."""
    import ui.server

    revisions: list[str | None] = []
    monkeypatch.setattr(ui.server, "serve", lambda app, **_: revisions.append(current_revision(app.engine)))
    return revisions


def _serve() -> int:
    return main(["serve", "--host", "127.0.0.1", "--port", str(_free_port()), "--no-ingest"])


def test_serve_upgrades_at_start_by_default(serve_settings: str, served: list[str | None]) -> None:
    engine = make_engine(serve_settings)
    upgrade(engine, _revision_before_head(engine))
    assert _serve() == 0
    assert served == [head_revision(engine)]
    engine.dispose()


def test_serve_without_migrate_on_start_starts_on_a_database_at_head(
    serve_settings: str, served: list[str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BANKBOT_MIGRATE_ON_START", "false")
    engine = make_engine(serve_settings)
    upgrade(engine)
    assert _serve() == 0
    assert served == [head_revision(engine)]
    engine.dispose()


@pytest.mark.parametrize("start_at", ["before_head", "empty"])
def test_serve_without_migrate_on_start_refuses_a_database_behind_with_one_line(
    serve_settings: str,
    served: list[str | None],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    start_at: str,
) -> None:
    monkeypatch.setenv("BANKBOT_MIGRATE_ON_START", "false")
    engine = make_engine(serve_settings)
    behind = _revision_before_head(engine) if start_at == "before_head" else None
    if behind is not None:
        upgrade(engine, behind)
    assert _serve() == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"bankbot serve: error: database at revision {behind or 'none'}, code needs {head_revision(engine)}: "
        "run `bankbot db upgrade`"
    ]
    assert served == [] and current_revision(engine) == behind  # not served, and not migrated either
    engine.dispose()


def test_require_head_on_a_revision_from_a_newer_release_says_so(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    require_head(engine)  # at head: nothing to say
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaNotAtHead, match="database at revision 9999, which this code does not know"):
        require_head(engine)
    engine.dispose()


def test_db_current_check_exits_1_until_db_upgrade_brings_the_database_to_head(
    serve_settings: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(serve_settings)
    behind = _revision_before_head(engine)
    upgrade(engine, behind)
    assert main(["db", "current", "--check"]) == 1
    assert f"database at revision {behind}, code needs {head_revision(engine)}" in capsys.readouterr().err
    assert main(["db", "upgrade"]) == 0
    assert f"at revision {head_revision(engine)} (was {behind})" in capsys.readouterr().out
    assert main(["db", "current", "--check"]) == 0
    engine.dispose()


def test_db_upgrade_waits_for_the_migration_lock(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another deploy step (or a replica upgrading at start) holds the lock: `db upgrade` waits, then migrates."""
    monkeypatch.setenv("BANKBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BANKBOT_DATABASE_URL", database_url)
    engine = make_engine(database_url)
    results: list[int] = []
    upgrader = threading.Thread(target=lambda: results.append(main(["db", "upgrade"])), daemon=True)
    with database_lock(engine, MIGRATE_LOCK_KEY, "migrate"):
        upgrader.start()
        upgrader.join(timeout=3)
        assert upgrader.is_alive() and current_revision(engine) is None  # waiting, nothing migrated
    upgrader.join(timeout=60)
    assert not upgrader.is_alive(), "db upgrade did not finish within 60 s of the lock's release"
    assert results == [0] and current_revision(engine) == head_revision(engine)
    engine.dispose()
