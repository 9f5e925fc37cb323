"""Shared fixtures: real SQLite and PostgreSQL databases, settings in a temp dir, the real embedder.

Only the LLM is replaced (by ``chatbot.generation.fake``) in the fast suite; tests marked ``slow`` use SmolLM2.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatbot.settings import Settings

POSTGRES_ADMIN_URL = os.environ.get("BANKBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@localhost:5432/test")
# The converted SmolLM2 and other model caches are shared by every test of a run (and across runs).
MODEL_CACHE = Path(os.environ.get("BANKBOT_TEST_MODEL_CACHE", Path.home() / ".cache" / "bankbot-test-models"))


@pytest.fixture(autouse=True)
def _isolate_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No developer's BANKBOT_* variables or bankbot.toml may leak into a test.
    for key in list(os.environ):
        if key.startswith("BANKBOT_") and key not in {
            "BANKBOT_TEST_POSTGRES_URL",
            "BANKBOT_TEST_MODEL_CACHE",
        }:
            monkeypatch.delenv(key)
    monkeypatch.setenv("BANKBOT_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "llm_model": "fake",
        "model_cache_dir": MODEL_CACHE,
        # Most tests are about the model's answers; tests/test_answer_mode.py holds the product default (off).
        "base_model_answers": True,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def serve_env(root: Path, **settings: str) -> dict[str, str]:
    """Environment for a `bankbot serve` subprocess: this process's variables without any BANKBOT_*, a data dir
    under ``root``, the fake LLM, the shared model cache, offline hub, then ``settings`` (BANKBOT_* names)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANKBOT_")}
    env.update(
        BANKBOT_DATA_DIR=str(root / "data"),
        BANKBOT_LLM_MODEL="fake",
        BANKBOT_MODEL_CACHE_DIR=str(MODEL_CACHE),
        BANKBOT_CONFIG=str(root / "no-config.toml"),
        BANKBOT_BASE_MODEL_ANSWERS="true",
        HF_HUB_OFFLINE="1",
        **settings,
    )
    return env


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def _postgres_database() -> Iterator[str]:
    """A fresh database on the local server for this test, dropped afterwards (tests may run in parallel)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"bankbot_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {str(exc).splitlines()[0]}")
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Run the test once on SQLite and once on the real PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bankbot.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bankbot.db'}"


@pytest.fixture
def migrated_engine(database_url: str):  # type: ignore[no-untyped-def]
    from chatbot.db.engine import make_engine
    from chatbot.db.migrate import upgrade

    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The real all-MiniLM-L6-v2 from its package, loaded once per test session."""
    from chatbot.model_loading import load_embedder

    return load_embedder(Settings(data_dir=Path("/nonexistent"), model_cache_dir=MODEL_CACHE))
