"""One settings object for the whole product.

Sources, highest priority first: keyword arguments, ``BANKBOT_*`` environment variables, a TOML file
(``BANKBOT_CONFIG`` or ``./bankbot.toml`` when it exists), then the defaults below.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

# Sentinels for the models that ship inside PyPI packages (no hub download at run time).
BUILTIN_LLM = "builtin:smollm2-135m-instruct"
BUILTIN_EMBEDDER = "builtin:all-minilm-l6-v2"
FAKE_LLM = "fake"


def config_file_path() -> Path:
    return Path(os.environ.get("BANKBOT_CONFIG", "bankbot.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BANKBOT_", extra="ignore", validate_default=True)

    # Storage
    data_dir: Path = Field(Path("bankbot-data"), description="Where the database, Chroma, models and runs live")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite file in data_dir")
    migrate_on_start: bool = Field(
        True, description="bankbot serve upgrades the schema at start; false: it only checks (`bankbot db upgrade`)"
    )
    chroma_path: Path | None = Field(None, description="Embedded Chroma folder; default: data_dir/chroma")
    chroma_host: str | None = Field(None, description="Chroma server host; when set, chromadb.HttpClient is used")
    chroma_port: int = Field(8000, ge=1, le=65535)
    # Chroma server (retrieval/vector_store.py): the token goes out as "Authorization: Bearer <token>"
    chroma_auth_token: SecretStr | None = Field(None, description="Token the Chroma server (or its proxy) checks")
    chroma_ssl: bool = Field(False, description="HTTPS to the Chroma server")
    chroma_collection: str = "bankbot_kb"
    model_cache_dir: Path | None = Field(None, description="Converted/merged model cache; default data_dir/models")
    artifact_root: Path | None = Field(
        None,
        description="Shared folder of adapters and fine-tuned embedders (SQL stores paths relative to it); "
        "default: data_dir",
    )

    # Models
    llm_model: str = Field(BUILTIN_LLM, description="builtin, 'fake', a local folder or a hub id")
    embedding_model: str = Field(BUILTIN_EMBEDDER, description="builtin, a local folder or a hub id")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    llm_engine: Literal["llama-cpp", "transformers"] = Field(
        "llama-cpp", description="llama-cpp: merged GGUF in llama.cpp (serving); transformers: the reference path"
    )
    llm_gguf: Path | None = Field(
        None, description="GGUF of the base LLM (tokenizer and chat template); builtin: the packaged file"
    )
    gguf_quant: Literal["Q8_0", "Q4_0", "Q4_1", "Q5_K_M", "Q6_K", "F16", "F32"] = Field(
        "Q8_0", description="Weight type of the served GGUF (docs/inference.md: why Q8_0)"
    )
    llm_threads: int | None = Field(None, ge=1, description="llama.cpp threads; default: every core")
    llm_server_threads: int | None = Field(
        None,
        ge=1,
        description="Threads the llama.cpp server gives each published model (models.json n_threads); default: "
        "llama-cpp-python's, half the server's cores",
    )
    hf_offline: bool = Field(True, description="Set HF_HUB_OFFLINE=1 so nothing is fetched from a hub")

    # Generation
    max_new_tokens: int = Field(160, ge=1, le=2048)
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="0 means greedy")
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    repetition_penalty: float = Field(
        1.0, ge=1.0, le=2.0, description="1 = off: a penalty on prompt tokens discourages reusing the approved answer"
    )
    context_window: int = Field(2048, ge=256, description="Prompt + answer budget in tokens")
    max_concurrent_chats: int = Field(
        16, ge=1, le=256, description="Chats the web app runs at once; the engine answers them one at a time"
    )

    # Retrieval and answering
    retrieval_k: int = Field(4, ge=1, le=20)
    example_head: bool = Field(
        True, description="Rank with a classifier over the example questions too, once there are enough of them"
    )
    example_head_min_examples: int = Field(300, ge=1, description="Visible example questions the classifier needs")
    few_shot_k: int = Field(1, ge=0, le=8, description="Approved answers looked up (the prompt shows the first)")
    # The adapter learns from single questions, and the small default model given the conversation so far repeats its
    # previous answer to a new question (seen in the browser: "how long does delivery take?" after "I lost my card"
    # got the lost-card steps again). Retrieval reads the question alone either way.
    prompt_history_messages: int = Field(
        0, ge=0, le=40, description="Earlier messages of the conversation put in the prompt (0: each question alone)"
    )
    min_retrieval_score: float = Field(0.30, ge=0.0, le=1.0, description="Below: out of scope, abstain")
    abstain_confidence: float = Field(0.35, ge=0.0, le=1.0, description="Below: hand off to an agent")
    target_wrong_rate: float = Field(
        0.02, gt=0.0, lt=1.0, description="Wrong shown answers allowed; sets the abstention threshold at promotion"
    )
    spot_check_share: float = Field(
        0.25,
        ge=0.0,
        le=1.0,
        description="Share of reviews given to a random spot check of answered turns, whatever their confidence: "
        "the unbiased sample the abstention threshold and the estimated risk come from. Keep it fixed once set",
    )
    # benchmarks/article_threshold_fit.py: from the spot check's 150-200 reviews at 600-800 reviews in all, a 95 %
    # bound cannot certify a 2 % target and keeps about half the answers drawn from articles; at 50 % the wrong
    # articles among them fall from about 5 % to 2.3-2.7 % while 70-82 % of them stay.
    article_threshold_level: float = Field(
        0.5,
        gt=0.0,
        lt=1.0,
        description="Confidence level of the wrong-article rate's upper bound when the retrieval certainty that "
        "answers drawn from the top article need is fitted at promotion (target: target_wrong_rate)",
    )
    passage_min_retrieval_score: float = Field(
        0.55, ge=0.0, le=1.0, description="A failed generated answer becomes the article's passage at or above this"
    )
    # benchmarks/retrieval_confidence.py: at 0.55 the top article is right for 95-96 % of the held-out queries that
    # pass once 600-800 questions are indexed (91 % at 150); with no indexed questions almost none pass.
    passage_min_retrieval_certainty: float = Field(
        0.55,
        ge=0.0,
        le=1.0,
        description="... and only when the retrieval certainty (score and gap to the runner-up) is at least this",
    )
    # The same measurement holds for a generated answer: one about the wrong article is wrong however well written,
    # and the wrong article was most wrong shown answers in the feedback-loop simulation (docs/benchmarks.md).
    answer_min_retrieval_certainty: float = Field(
        0.55,
        ge=0.0,
        le=1.0,
        description="A generated answer is shown only when the retrieval certainty is at least this; "
        "below it the turn is handed off (0 turns the check off)",
    )
    handoff_suggestions: int = Field(
        3,
        ge=0,
        le=5,
        description="A hand-off for an uncertain article offers up to this many retrieved articles to pick from "
        "(chatbot.suggestions; 0: none)",
    )
    # Until a night's gate has shown that the model's answers give customers more right answers than the articles'
    # own (finetune.gate.generated_answers_earned), a customer gets the approved answer or passage, else a hand-off.
    base_model_answers: bool = Field(
        False, description="Show the base model's answers before any bundle is promoted (a model you trust)"
    )
    max_question_chars: int = Field(1000, ge=10)

    # Review
    review_consensus: int = Field(2, ge=1, le=10, description="Reviews needed per turn")

    # Nightly
    min_new_examples: int = Field(20, ge=1, description="Fewer new reviewed examples: nightly skips")
    promotion_margin: float = Field(0.0, description="Candidate must beat production by this much")
    regression_tolerance: float = Field(0.02, ge=0.0)
    gate_noise_p: float = Field(
        0.3,
        ge=0.0,
        le=1.0,
        description="A guarded yes/no metric (right answers, probe refusals, out-of-scope hand-offs) that drops by "
        "more than regression_tolerance still blocks promotion only when a one-sided sign test over the gate "
        "questions whose outcome changed gives p below this; one question lost and none gained (p 0.5) is noise. "
        "0: every drop beyond the tolerance blocks",
    )
    generated_answers_p: float = Field(
        0.05,
        gt=0.0,
        le=1.0,
        description="A bundle's model answers are shown only when, on the gate's in-scope questions, they beat the "
        "articles' own answers question by question with a one-sided sign test p below this, and show no more "
        "wrong answers (1.0: any net win is enough)",
    )
    gate_eval_questions: int = Field(60, ge=1, description="Frozen demo-eval questions the nightly gate uses")

    # Web app
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    bundle_check_seconds: float = Field(
        30.0, ge=0, description="How often the server checks for a newly promoted bundle and switches to it; 0 = never"
    )

    # Staff accounts (ui/auth.py, chatbot/audit.py): login throttling, lockout and session lifetime
    staff_login_max_failures: int = Field(5, ge=1, description="Consecutive failed logins that lock an account")
    staff_lockout_minutes: float = Field(15.0, gt=0, description="How long a locked account stays locked")
    staff_client_max_failures: int = Field(
        20, ge=1, description="Failed logins from one address within the lockout window before it is refused"
    )
    staff_session_idle_minutes: float = Field(30.0, gt=0, description="A staff session ends after this idle time")
    staff_session_max_hours: float = Field(12.0, gt=0, description="A staff session ends this long after login")
    staff_cookie_samesite: Literal["strict", "lax"] = Field("strict", description="SameSite of the login cookie")

    # Abuse limits (ui/limits.py): per-client rates in the `limits` notation ("60/minute;1000/hour"; "" = no limit)
    rate_limit_api_chat: str = Field("60/minute;1000/hour", description="Per client: POST /api/chat")
    rate_limit_web_chat: str = Field(
        "20/minute;200/hour", description="Per client: events of the chat page (questions, thumbs, comments)"
    )
    rate_limit_articles: str = Field("60/minute", description="Per client: the article pages")
    rate_limit_login: str = Field("10/minute", description="Per client: staff login attempts on /review, /dashboard")
    rate_limit_other: str = Field("600/minute", description="Per client: any other request except static assets")
    rate_limit_storage: str = Field(
        "memory://", description="limits storage URI: memory:// (this process) or redis://host:6379 (shared)"
    )
    trusted_proxies: list[str] = Field(
        default_factory=list, description="Proxy addresses/networks whose X-Forwarded-For names the client"
    )
    max_body_bytes: int = Field(65536, ge=1024, description="Larger request bodies get 413 before they are parsed")
    chat_queue_size: int = Field(
        32, ge=1, description="Chats waiting beyond max_concurrent_chats (web queue, /api/chat); more get 503"
    )
    chat_deadline_s: float = Field(120.0, gt=0, description="/api/chat answers 504 after this; the turn still logs")
    max_connections: int = Field(1000, ge=10, description="Open connections the server accepts; more get 503")

    # LLM server (chatbot/generation/openai_server.py): an OpenAI-compatible server instead of in-process llama.cpp
    llm_server_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible server (vLLM, llama.cpp), e.g. http://gpu:8000"
    )
    llm_server_model: str = Field(
        "bankbot", description="Model name to request; {adapter} becomes the production adapter's version or 'base'"
    )
    llm_server_api_key: SecretStr | None = Field(None, description="Bearer token the LLM server expects")
    llm_server_timeout_s: float = Field(60.0, gt=0, description="Per request to the LLM server (the whole answer)")
    llm_server_retries: int = Field(2, ge=0, le=10, description="Retries on connection errors and 5xx, with backoff")
    # Publishing a promoted bundle to the LLM server (finetune/publish.py), set where bundles are promoted
    llm_publish: Literal["none", "llama-cpp", "vllm"] = Field(
        "none", description="At promotion: llama-cpp: merged GGUF + models.json; vllm: load the adapter; none: nothing"
    )
    llm_publish_url: str | None = Field(
        None, description="vLLM server that loads published adapters; default: llm_server_url"
    )

    @field_validator(
        "rate_limit_api_chat", "rate_limit_web_chat", "rate_limit_articles", "rate_limit_login", "rate_limit_other"
    )
    @classmethod
    def _rate(cls, value: str) -> str:
        if value.strip():
            from limits import parse_many

            parse_many(value)  # raises ValueError with the offending text
        return value.strip()

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for entry in value:
            ipaddress.ip_network(entry.strip(), strict=False)  # a typo must not silently trust nobody
        return [entry.strip() for entry in value]

    @field_validator("data_dir", "chroma_path", "model_cache_dir", "artifact_root", "llm_gguf", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_file_path()
        if path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    # Derived locations ---------------------------------------------------------------------------
    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'bankbot.db').resolve()}"

    @property
    def effective_chroma_path(self) -> Path:
        return self.chroma_path or self.data_dir / "chroma"

    @property
    def models_dir(self) -> Path:
        return self.model_cache_dir or self.data_dir / "models"

    @property
    def effective_artifact_root(self) -> Path:
        """Where adapters and fine-tuned embedders live; replicas may mount it at different paths."""
        return self.artifact_root or self.data_dir

    @property
    def spool_dir(self) -> Path:
        return self.data_dir / "spool"

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"

    def masked(self) -> dict[str, Any]:
        """Effective settings for display, with credentials in URLs replaced by ***."""
        shown = self.model_dump(mode="json")
        shown["database_url"] = mask_url(self.effective_database_url)
        shown["chroma_path"] = str(self.effective_chroma_path)
        shown["config_file"] = str(config_file_path()) if config_file_path().is_file() else None
        return shown


_URL_PASSWORD = re.compile(r"(?P<head>://[^:/@]+:)(?P<secret>[^@]+)(?P<tail>@)")


def mask_url(url: str) -> str:
    return _URL_PASSWORD.sub(r"\g<head>***\g<tail>", url)
