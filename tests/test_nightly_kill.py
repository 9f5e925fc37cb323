"""SIGKILL in the middle of training: production stays, the run is left 'running' (nobody could mark it), and the
next nightly run marks it failed, removes the half-written adapter folder and starts cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from chatbot import registry
from chatbot.app import build_app
from chatbot.cli import main
from chatbot.settings import Settings
from finetune import training_runs
from tests.conftest import MODEL_CACHE, make_settings
from tests.nightly_support import QUESTIONS, fake_production, make_tiny_model, reviewed_turn, reviewers


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory)


def wait_for_training(adapters: Path, proc: subprocess.Popen[str], timeout: float = 300) -> Path:
    """The temporary adapter folder once its train log has a record (training is under way)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"nightly exited early ({proc.returncode}): {proc.stderr.read() if proc.stderr else ''}"
            )
        for folder in adapters.glob(".lora-*") if adapters.is_dir() else []:
            log = folder / "train_log.jsonl"
            if log.is_file() and log.read_text().strip():
                return folder
        time.sleep(0.5)
    raise AssertionError("training did not start in time")


def start_nightly(settings: Settings, tmp_path: Path, tiny_model: Path) -> subprocess.Popen[str]:
    """A nightly run in its own process, set to train for far longer than the test waits."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANKBOT_")}
    env.update(
        {
            "BANKBOT_DATA_DIR": str(settings.data_dir),
            "BANKBOT_LLM_MODEL": str(tiny_model),
            "BANKBOT_MODEL_CACHE_DIR": str(MODEL_CACHE),
            "BANKBOT_MIN_NEW_EXAMPLES": "3",
            "BANKBOT_CONFIG": str(tmp_path / "none.toml"),
        }
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chatbot.cli",
            "nightly",
            "--no-indexes",
            "--set",
            "max_steps=100000",
            "--set",
            "eval_steps=100000",
            "--set",
            "batch_size=2",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_mid_training(settings: Settings, proc: subprocess.Popen[str]) -> Path:
    """SIGKILL once training is under way; the half-written adapter folder it leaves behind."""
    try:
        partial = wait_for_training(settings.data_dir / "adapters", proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    return partial


def test_sigkill_mid_training_leaves_production_and_the_next_run_marks_it_failed(
    tmp_path: Path, tiny_model: Path, monkeypatch: Any, capsys: Any
) -> None:
    settings = make_settings(tmp_path, llm_model=str(tiny_model), min_new_examples=3)
    app = build_app(settings)
    app.upgrade_database()
    fake_production(app, tmp_path, tiny_model)
    ids = reviewers(app, 2)
    for question, answer, verdict, fix in QUESTIONS:
        reviewed_turn(app, question, answer, verdict, correction=fix, reviewer_ids=ids)

    partial = kill_mid_training(settings, start_nightly(settings, tmp_path, tiny_model))

    assert registry.production_version(app) == "prod-0"
    killed = training_runs.list_runs(app)[0]
    assert killed.status == "running"  # a killed process cannot mark itself
    assert [m.version for m in registry.list_models(app)] == ["prod-0"]
    assert partial.is_dir() and not [p for p in partial.parent.iterdir() if not p.name.startswith(".")]

    # Next run (too little new data this time: it only cleans up and skips). The lock died with its holder.
    monkeypatch.setenv("BANKBOT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BANKBOT_LLM_MODEL", str(tiny_model))
    monkeypatch.setenv("BANKBOT_MIN_NEW_EXAMPLES", "100")
    assert main(["nightly"]) == 0
    assert "skipped" in capsys.readouterr().out
    runs = {str(r.id): r for r in training_runs.list_runs(app)}
    assert runs[str(killed.id)].status == "failed"
    assert "process died" in (runs[str(killed.id)].message or "")
    assert not partial.exists()
    assert registry.production_version(app) == "prod-0"
