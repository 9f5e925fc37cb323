"""deploy/ cannot silently rot: every BANKBOT_* variable of the compose file is a real setting and validates, the
replicas only check the schema while one migrate service upgrades it, and the files the compose file, the Dockerfile
and nginx refer to exist. No container is built or started here (no registry for images on this machine)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from chatbot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
APP_REPLICAS = ("app1", "app2")
# ${NAME}, ${NAME:-default}, ${NAME:?message}: what compose substitutes from the shell or .env
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::(?P<op>[-?])(?P<rest>[^}]*))?\}")


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return dict(compose["services"])


def _interpolated(value: Any) -> str:
    """A value as compose would pass it with no variables set: defaults used, required ones given a stand-in."""
    return INTERPOLATION.sub(lambda m: m["rest"] if m["op"] == "-" else f"stand-in-{m['name'].lower()}", str(value))


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the `- NAME=value` form
        env = dict(item.split("=", 1) for item in env)
    return {str(name): _interpolated(value) for name, value in env.items()}


def _bankbot_services(services: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {name: env for name, spec in services.items() if (env := _environment(spec)) and "BANKBOT_DATA_DIR" in env}


def test_every_bankbot_variable_is_a_setting(services: dict[str, Any]) -> None:
    fields = set(Settings.model_fields)
    for name, spec in services.items():
        for variable in _environment(spec):
            if variable.startswith("BANKBOT_"):
                assert variable.removeprefix("BANKBOT_").lower() in fields, f"{name}: {variable} is not a setting"


def test_each_bankbot_service_environment_validates_as_settings(
    services: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    bankbot = _bankbot_services(services)
    assert {*APP_REPLICAS, "migrate", "ingest", "nightly"} <= set(bankbot)
    for name, env in bankbot.items():
        with monkeypatch.context() as scoped:
            for variable, value in env.items():
                if variable.startswith("BANKBOT_"):
                    scoped.setenv(variable, value)
            settings = Settings()  # raises on a value of the wrong shape (a port, a JSON list, a boolean)
        assert settings.database_url and settings.database_url.startswith("postgresql+psycopg://"), name
        assert settings.chroma_host == "chroma", name
        assert str(settings.data_dir) == "/srv/bankbot-data", name  # one artifact root, the same path everywhere
        # Replicas chat through the LLM server; the nightly gate must score its candidate adapter in-process.
        expected_llm_server = "http://llm:8001" if name in APP_REPLICAS else None
        assert settings.llm_server_url == expected_llm_server, name


def test_replicas_check_the_schema_and_one_migrate_service_upgrades_it_first(
    services: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert services["migrate"]["command"] == ["bankbot", "db", "upgrade"]
    assert services["migrate"].get("restart") == "no"
    for replica in APP_REPLICAS:
        env = _environment(services[replica])
        monkeypatch.setenv("BANKBOT_MIGRATE_ON_START", env["BANKBOT_MIGRATE_ON_START"])
        assert Settings().migrate_on_start is False, replica
        assert services[replica]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert services[replica]["command"][:2] == ["bankbot", "serve"]
        assert Settings(host=env["BANKBOT_HOST"]).host == "0.0.0.0", f"{replica} must listen beyond its container"


def test_the_load_balancer_reaches_both_replicas_and_is_their_only_trusted_proxy(services: dict[str, Any]) -> None:
    nginx = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    lb_address = services["lb"]["networks"]["default"]["ipv4_address"]
    for replica in APP_REPLICAS:
        env = _environment(services[replica])
        assert f"server {replica}:{env['BANKBOT_PORT']}" in nginx
        assert env["BANKBOT_TRUSTED_PROXIES"] == f'["{lb_address}/32"]'
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in services["lb"]["volumes"]
    assert "ports" not in services["postgres"] and "ports" not in services["chroma"]  # only the LB is published


def test_the_llm_server_serves_the_published_bundles_as_docs_deploy_requires(services: dict[str, Any]) -> None:
    from chatbot.settings import Settings
    from finetune.publish import PUBLISHED_NAME, SERVER_DIR, server_config

    llm = services["llm"]
    assert llm["command"] == ["python", "-m", "llama_cpp.server", "--config_file", "models.json"]
    assert llm["working_dir"] == f"/srv/bankbot-data/{SERVER_DIR}"  # the folder finetune.publish writes
    assert "publish" in llm["depends_on"] and services["publish"]["command"] == ["python", "-m", "finetune.publish"]
    app = _environment(services["app1"])
    assert app["BANKBOT_LLM_SERVER_MODEL"] == PUBLISHED_NAME
    assert app["BANKBOT_LLM_SERVER_URL"] == f"http://llm:{llm['environment']['PORT']}"
    # what the published models.json tells the server: log-probs on, one replica never cuts another's stream
    config = server_config(Settings(), ["bankbot-base"])
    assert config["interrupt_requests"] is False and config["models"][0]["logits_all"] is True
    assert "n_threads" not in config["models"][0]  # llama-cpp-python's default unless set
    assert server_config(Settings(llm_server_threads=2), ["bankbot-base"])["models"][0]["n_threads"] == 2
    assert _environment(services["nightly"])["BANKBOT_LLM_PUBLISH"] == "llama-cpp"


def test_what_the_dockerfile_copies_exists_and_the_build_context_is_the_repository(services: dict[str, Any]) -> None:
    build = services["chroma"]["build"]
    assert (DEPLOY / build["context"]).resolve() == ROOT and build["dockerfile"] == "deploy/Dockerfile"
    lines = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines()
    assert [line for line in lines if line.startswith("FROM ")] == ["FROM python:3.11-slim"]
    copies = [line.split()[1:-1] for line in lines if line.startswith("COPY ")]
    assert copies, "the Dockerfile copies nothing"
    for sources in copies:
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    dockerfile = "\n".join(lines)
    assert 'pip install ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch==2.13.0"' in dockerfile
    assert services["nightly"]["command"] == ["bankbot-nightly-loop"]
    assert "COPY deploy/nightly-loop.sh /usr/local/bin/bankbot-nightly-loop" in dockerfile


def test_compose_config_validates_when_a_compose_tool_is_installed(tmp_path: Path) -> None:
    """`docker compose config -q` (or the older `docker-compose`), which checks the file against the Compose schema."""
    commands = []
    if shutil.which("docker"):
        commands.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        commands.append(["docker-compose"])
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "POSTGRES_PASSWORD": "stand-in"}
    for command in commands:
        if subprocess.run([*command, "version"], capture_output=True, env=env, timeout=60).returncode != 0:
            continue
        result = subprocess.run(
            [*command, "-f", str(DEPLOY / "compose.yaml"), "config", "-q"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return
    pytest.skip("no compose tool: neither `docker compose` nor `docker-compose` is installed")
