from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.errors import ModelLoadError
from chatbot.model_loading import SMOLLM2_CACHE_NAME, builtin_llm_dir, embedder_source, llm_source, load_llm
from chatbot.settings import Settings


def test_unknown_local_model_path_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="BANKBOT_LLM_MODEL=/no/such"):
        llm_source(Settings(data_dir=tmp_path, llm_model="/no/such"))
    with pytest.raises(ModelLoadError, match="BANKBOT_EMBEDDING_MODEL"):
        embedder_source(Settings(data_dir=tmp_path, embedding_model="./nothing-here"))


def test_builtin_embedder_comes_from_its_package(embedder) -> None:  # type: ignore[no-untyped-def]
    assert embedder.get_embedding_dimension() == 384
    vector = embedder.encode(["Where is my new card?"], normalize_embeddings=True)[0]
    assert abs(float((vector**2).sum()) - 1.0) < 1e-4


@pytest.mark.slow
def test_builtin_llm_converts_once_then_loads_the_cached_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(data_dir=tmp_path, model_cache_dir=tmp_path / "models")
    model, tokenizer = load_llm(settings)
    cached = tmp_path / "models" / SMOLLM2_CACHE_NAME
    assert (cached / "model.safetensors").is_file() and (cached / "tokenizer.json").is_file()
    assert not [p for p in (tmp_path / "models").iterdir() if p.name.startswith(f".{SMOLLM2_CACHE_NAME}-")]

    messages = [{"role": "user", "content": "Say hello."}]
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    out = model.generate(**inputs, max_new_tokens=8, do_sample=False)
    text = tokenizer.decode(out[0][inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    assert text.strip()

    # Second load: must read the cached safetensors, never the GGUF again.
    import transformers

    original = transformers.AutoModelForCausalLM.from_pretrained

    def no_gguf(*args, **kwargs):  # type: ignore[no-untyped-def]
        assert "gguf_file" not in kwargs, "second load converted the GGUF again"
        return original(*args, **kwargs)

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", no_gguf)
    assert builtin_llm_dir(settings) == cached
    model2, _ = load_llm(settings)
    out2 = model2.generate(**inputs, max_new_tokens=8, do_sample=False)
    assert out2.tolist() == out.tolist()  # same weights, same greedy output
