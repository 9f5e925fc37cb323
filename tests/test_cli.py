"""The `bankbot` console script as a user runs it: subprocesses, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chatbot.cli import COMMANDS


def bankbot(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BANKBOT_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "chatbot.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        input=stdin,
        timeout=120,
    )


def test_help_lists_every_subcommand() -> None:
    result = bankbot("--help")
    assert result.returncode == 0
    expected = {"config", "db", "ingest", "ask", "serve", "users", "nightly", "models", "eval", "simulate"}
    assert set(COMMANDS) == expected
    for name in expected:
        assert name in result.stdout


def test_config_prints_effective_settings_with_secrets_masked(tmp_path: Path) -> None:
    env = {"BANKBOT_DATA_DIR": str(tmp_path), "BANKBOT_DATABASE_URL": "postgresql+psycopg://u:topsecret@h/db"}
    result = bankbot("config", "--json", env=env)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["database_url"] == "postgresql+psycopg://u:***@h/db"
    assert "topsecret" not in result.stdout


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"BANKBOT_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none"}, "BANKBOT_DATABASE_URL"),
        ({"BANKBOT_DATABASE_URL": "not a url"}, "BANKBOT_DATABASE_URL"),
        ({"BANKBOT_LLM_MODEL": "/no/such/model"}, "BANKBOT_LLM_MODEL"),
        ({"BANKBOT_EMBEDDING_MODEL": "./missing-embedder"}, "BANKBOT_EMBEDDING_MODEL"),
        ({"BANKBOT_PORT": "eighty"}, "BANKBOT_PORT"),
    ],
)
def test_bad_settings_exit_non_zero_with_one_line(tmp_path: Path, env: dict[str, str], needle: str) -> None:
    result = bankbot("config", "--check", env={"BANKBOT_DATA_DIR": str(tmp_path), **env})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr


def test_db_upgrade_and_users_add(tmp_path: Path) -> None:
    env = {"BANKBOT_DATA_DIR": str(tmp_path)}
    upgraded = bankbot("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "at revision" in upgraded.stdout
    added = bankbot("users", "add", "rita", "--role", "reviewer", "--password-stdin", env=env, stdin="long-password\n")
    assert added.returncode == 0, added.stderr
    listed = bankbot("users", "list", env=env)
    assert "rita\treviewer" in listed.stdout
    short = bankbot("users", "add", "sam", "--role", "reviewer", "--password-stdin", env=env, stdin="short\n")
    assert short.returncode == 2 and "8 characters" in short.stderr


@pytest.mark.postgres
def test_db_upgrade_on_postgres(tmp_path: Path) -> None:
    from tests.conftest import _postgres_database

    gen = _postgres_database()
    url = next(gen)
    try:
        result = bankbot("db", "upgrade", env={"BANKBOT_DATA_DIR": str(tmp_path), "BANKBOT_DATABASE_URL": url})
        assert result.returncode == 0, result.stderr
        assert "at revision 0001" in result.stdout or "at revision" in result.stdout
    finally:
        gen.close()
