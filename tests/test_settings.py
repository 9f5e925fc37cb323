from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from chatbot.settings import BUILTIN_LLM, Settings, mask_url


def test_defaults_point_into_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.llm_model == BUILTIN_LLM
    assert settings.effective_database_url == f"sqlite:///{tmp_path.resolve() / 'bankbot.db'}"
    assert settings.effective_chroma_path == tmp_path / "chroma"
    assert settings.models_dir == tmp_path / "models"


def test_environment_overrides_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "bankbot.toml"
    config.write_text('retrieval_k = 7\nport = 9000\ndata_dir = "/srv/bankbot"\n')
    monkeypatch.setenv("BANKBOT_CONFIG", str(config))
    monkeypatch.setenv("BANKBOT_PORT", "9100")
    settings = Settings()
    assert settings.retrieval_k == 7  # from the file
    assert settings.port == 9100  # the environment wins over the file
    assert settings.data_dir == Path("/srv/bankbot")


def test_invalid_values_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANKBOT_RETRIEVAL_K", "0")
    with pytest.raises(ValidationError):
        Settings()


def test_masked_hides_database_password() -> None:
    settings = Settings(database_url="postgresql+psycopg://bank:hunter2@db:5432/bankbot")
    assert settings.masked()["database_url"] == "postgresql+psycopg://bank:***@db:5432/bankbot"
    assert mask_url("sqlite:///x.db") == "sqlite:///x.db"
