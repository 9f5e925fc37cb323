"""Publishing a promoted bundle to the LLM server under an immutable name, so replicas can ask for it by name.

Replicas on the server backend request ``bankbot-<version>`` (``BANKBOT_LLM_SERVER_MODEL=bankbot-{adapter}``,
``chatbot.generation.openai_server.server_model_name``; ``bankbot-base`` without an adapter) and switch names when
their bundle watcher sees a promotion. ``registry.promote_version`` calls ``publish_bundle`` before it flips
production, so the name exists on the server (or is on its way) when the replicas start asking for it.

``settings.llm_publish`` picks how:

- ``llama-cpp``: the bundle's merged GGUF (``ensure_served_gguf``, the file an in-process replica would serve) is
  placed at ``<artifact root>/llm-server/bankbot-<version>.gguf``, never overwritten, and ``models.json`` there is
  rewritten (atomically, only when it changes) to list every published file plus ``bankbot-base``, for
  ``python -m llama_cpp.server --config_file models.json`` started in that folder. That server reads its config
  only at start: serving a new bundle means restarting the LLM server (not the replicas). Until then it answers a
  name it does not know with its first model (the newest published bundle) instead of an error.
- ``vllm``: ``POST /v1/load_lora_adapter`` with the adapter folder (vLLM started with ``--enable-lora`` and
  ``VLLM_ALLOW_RUNTIME_LORA_UPDATING=True``); an adapter already loaded under the name counts as published.
- ``none`` (default): nothing.

A failed publish does not stop the promotion (the bundle passed its gate; the LLM server can catch up with
``python -m finetune.publish``): it is recorded in the bundle's ``eval_metrics["publish"]`` and logged in one line.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatbot.errors import BankbotError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from chatbot.app_services import AppDatabase
    from chatbot.settings import Settings

log = logging.getLogger(__name__)

PUBLISHED_NAME = "bankbot-{adapter}"  # what replicas' BANKBOT_LLM_SERVER_MODEL must be for published bundles
BASE_NAME = "bankbot-base"
SERVER_DIR = "llm-server"  # under the artifact root
CONFIG_NAME = "models.json"
ALREADY_LOADED = "already been loaded"  # vLLM's 400 for a name it serves already


class PublishError(BankbotError):
    """The LLM server could not be given the bundle (unreachable, refused, or nothing to publish with)."""


@dataclass(frozen=True)
class Published:
    backend: str  # llama-cpp | vllm
    name: str  # the model name replicas request
    created: bool  # False: the name was published before and nothing was rewritten
    location: str  # llama-cpp: the GGUF relative to the artifact root; vllm: the server URL

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def published_name(version: str | None) -> str:
    from chatbot.generation.openai_server import server_model_name

    return server_model_name(PUBLISHED_NAME, version)


def server_dir(settings: Any) -> Path:
    """The folder the llama.cpp server's GGUFs and models.json live in, on this host."""
    from chatbot.artifacts import artifact_root

    return artifact_root(settings) / SERVER_DIR


# --- at promotion ---------------------------------------------------------------------------------------------
def publish_bundle(app: AppDatabase, version: str) -> dict[str, Any]:
    """Publish the bundle ``version`` as settings.llm_publish says and record the outcome in its eval_metrics.

    A failed publish does not raise: it is recorded (``{"backend", "name", "error"}``) and logged in one line, and
    the caller goes on with the promotion (only the database failing while recording raises, as the promotion
    would). Returns what was recorded ({} when publishing is off)."""
    settings = app.settings
    if settings.llm_publish == "none":
        return {}
    name = published_name(version)
    try:
        from chatbot.registry import adapter_ref, get_model

        adapter = adapter_ref(settings, get_model(app, version))
        name = published_name(adapter.version if adapter is not None else None)
        record = publish_adapter(settings, adapter).to_json()
    except Exception as exc:  # recorded and logged: the promotion itself goes on
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        record = {"backend": settings.llm_publish, "name": name, "error": f"{type(exc).__name__}: {reason}"}
        log.warning(
            "publishing bundle %s to the LLM server (%s) failed: %s; replicas asking for %s will not get it until "
            "it is published (python -m finetune.publish --version %s)",
            version,
            settings.llm_publish,
            record["error"],
            name,
            version,
        )
    else:
        restart = " (restart the LLM server to serve it)" if record["backend"] == "llama-cpp" else ""
        log.info("bundle %s published to the LLM server as %s%s", version, name, restart)
    _record(app, version, record)
    return record


def publish_adapter(settings: Any, adapter: Any) -> Published:
    """Publish one adapter (``chatbot.registry.AdapterRef``; None: the base model) with settings.llm_publish."""
    if settings.llm_publish == "llama-cpp":
        return publish_gguf(settings, adapter)
    if settings.llm_publish == "vllm":
        return load_lora_adapter(settings, adapter)
    raise PublishError(f"BANKBOT_LLM_PUBLISH={settings.llm_publish}: nothing to publish with")


def _record(app: AppDatabase, version: str, record: dict[str, Any]) -> None:
    from chatbot.db import crud

    with app.session() as session:
        row = crud.get_model_version(session=session, version=version)
        if row is None:
            return
        row.eval_metrics = {**(row.eval_metrics or {}), "publish": record}
        session.add(row)
        session.commit()


# --- llama.cpp: merged GGUF files and the server's config file -------------------------------------------------
def publish_gguf(settings: Any, adapter: Any) -> Published:
    """``bankbot-<version>.gguf`` (and ``bankbot-base.gguf``) in the server folder, then models.json.

    A file already there is kept as it is: a published name never changes what it serves."""
    from chatbot.generation.gguf_export import ensure_served_gguf
    from chatbot.generation.hf import merge_adapter

    folder = server_dir(settings)
    name = published_name(adapter.version if adapter is not None else None)
    with _folder_lock(folder):
        created = _place(
            folder / f"{BASE_NAME}.gguf", lambda: ensure_served_gguf(settings, None, lambda: merge_adapter(settings))
        )
        if adapter is not None:
            target = folder / f"{name}.gguf"
            created = _place(
                target, lambda: ensure_served_gguf(settings, adapter, lambda: merge_adapter(settings, adapter))
            )
        write_server_config(settings)
    return Published("llama-cpp", name, created, f"{SERVER_DIR}/{name}.gguf")


def _place(target: Path, build: Callable[[], Path]) -> bool:
    """Copy the file ``build()`` returns to ``target``, read-only, unless ``target`` exists. True when placed.

    The copy is hard-linked into place, which fails rather than replace a file another publisher placed first."""
    if target.is_file():
        return False
    source = build()
    partial = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        shutil.copyfile(source, partial)
        os.chmod(partial, 0o444)
        os.link(partial, target)
    except FileExistsError:
        return False
    finally:
        partial.unlink(missing_ok=True)
    return True


def server_config(settings: Any, names: Sequence[str]) -> dict[str, Any]:
    """llama-cpp-python's server config for the published ``names``: the newest bundle first (the server loads the
    first model at start and answers unknown names with it), ``bankbot-base`` last. Paths are relative to the
    config's folder, the server's working directory, so any host can mount the artifact root anywhere."""
    adapters = sorted((n for n in names if n != BASE_NAME), reverse=True)  # versions start with a UTC timestamp
    ordered = [*adapters, *([BASE_NAME] if BASE_NAME in names else [])]
    threads = {"n_threads": settings.llm_server_threads} if settings.llm_server_threads else {}
    models = [
        {"model": f"{n}.gguf", "model_alias": n, "n_ctx": settings.context_window, "logits_all": True, **threads}
        for n in ordered
    ]
    # interrupt_requests false: one replica's request must not cut another's stream short
    return {"interrupt_requests": False, "models": models}


def write_server_config(settings: Any) -> bool:
    """Rewrite ``models.json`` from the GGUFs in the server folder, atomically; True when its content changed."""
    folder = server_dir(settings)
    names = [p.name[: -len(".gguf")] for p in folder.glob("bankbot-*.gguf") if p.is_file()]
    text = json.dumps(server_config(settings, names), indent=2) + "\n"
    path = folder / CONFIG_NAME
    if path.is_file() and path.read_text() == text:
        return False
    partial = folder / f".{CONFIG_NAME}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        partial.write_text(text)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return True


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """One publisher at a time per folder (a promotion from the dashboard may meet the nightly job's)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".publish.lock", "a") as handle:  # "a": taking the lock leaves the file untouched
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- vLLM: load the adapter at run time ------------------------------------------------------------------------
def load_lora_adapter(settings: Any, adapter: Any) -> Published:
    """``POST <url>/v1/load_lora_adapter {"lora_name": "bankbot-<version>", "lora_path": <adapter folder>}``.

    The folder is this host's path of the adapter under the artifact root: the vLLM server must mount the root
    at the same path. The base model needs nothing (vLLM serves it as ``--served-model-name bankbot-base``)."""
    import httpx

    url = (settings.llm_publish_url or settings.llm_server_url or "").rstrip("/")
    if not url:
        raise PublishError("BANKBOT_LLM_PUBLISH=vllm needs BANKBOT_LLM_PUBLISH_URL (or BANKBOT_LLM_SERVER_URL)")
    if adapter is None:
        return Published("vllm", BASE_NAME, False, url)
    name = published_name(adapter.version)
    headers = {}
    if settings.llm_server_api_key is not None:
        headers["Authorization"] = f"Bearer {settings.llm_server_api_key.get_secret_value()}"
    body = {"lora_name": name, "lora_path": str(adapter.path)}
    try:
        response = httpx.post(
            f"{url}/v1/load_lora_adapter", json=body, headers=headers, timeout=settings.llm_server_timeout_s
        )
    except httpx.HTTPError as exc:
        raise PublishError(f"cannot reach the vLLM server at {url}: {type(exc).__name__}: {exc}") from exc
    if response.status_code == 200:
        return Published("vllm", name, True, url)
    if response.status_code == 400 and ALREADY_LOADED in response.text:
        return Published("vllm", name, False, url)
    raise PublishError(f"the vLLM server at {url} refused {name}: HTTP {response.status_code}: {response.text[:200]}")


# --- python -m finetune.publish --------------------------------------------------------------------------------
@dataclass(frozen=True)
class RegistryDatabase:
    """All that publishing reads and records: the settings and the model registry's database. The command needs
    no model or index, and the whole app (``chatbot.app``) is built above this layer."""

    settings: Settings
    engine: Engine

    @classmethod
    def from_environment(cls) -> RegistryDatabase:
        from chatbot.db.engine import make_engine
        from chatbot.settings import Settings

        settings = Settings()
        return cls(settings, make_engine(settings.effective_database_url))

    def session(self) -> Session:
        from sqlmodel import Session

        return Session(self.engine)


def main(argv: Sequence[str] | None = None, *, app: AppDatabase | None = None) -> int:
    """Publish the production bundle (or ``--version``) again: the first models.json before the LLM server's first
    start, after a failed publish, or after a vLLM restart (runtime-loaded adapters do not survive one)."""
    from chatbot.registry import production_version

    parser = argparse.ArgumentParser(prog="python -m finetune.publish", description=main.__doc__)
    parser.add_argument("--version", help="bundle version (default: the production bundle, or the base model)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if app is None:  # run as `python -m finetune.publish`: the settings and database from the environment
        app = RegistryDatabase.from_environment()
    if app.settings.llm_publish == "none":
        print("python -m finetune.publish: BANKBOT_LLM_PUBLISH is none: nothing to publish with")
        return 2
    version = args.version or production_version(app)
    if version is None:
        try:
            print(json.dumps(publish_adapter(app.settings, None).to_json()))
        except BankbotError as exc:
            print(f"python -m finetune.publish: {exc}")
            return 1
        return 0
    record = publish_bundle(app, version)
    print(json.dumps(record))
    return 1 if "error" in record else 0


if __name__ == "__main__":
    raise SystemExit(main())
