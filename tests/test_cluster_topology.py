"""The cluster on localhost: a Chroma server, llama-cpp-python's OpenAI-compatible server on the published
models.json, two `bankbot serve` replicas on one fresh PostgreSQL database and one shared artifact root (each
replica with its own data dir), migrations run once by `bankbot db upgrade` (the replicas only check).

Customers chat through both replicas; a reviewer logs in on one and works the queue on the other with the same
cookie; `bankbot nightly` (2 training steps on the real SmolLM2, a 2-question gate that lets anything through)
promotes a bundle and publishes its merged GGUF; both replicas switch to it without a restart, the LLM server is
restarted on the new config and serves the bundle's name; then one replica is SIGKILLed while clients send to
both: the other keeps answering, and every request that got HTTP 200 has its turn in SQL.

Every wait has a deadline (x3 with BANKBOT_TEST_SLOW_MACHINE set).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from chatbot import registry
from chatbot.app import build_app
from chatbot.db.models import Review, Turn
from chatbot.settings import BUILTIN_LLM
from finetune.publish import BASE_NAME, CONFIG_NAME, SERVER_DIR
from retrieval.chroma_server import start_chroma_server
from tests.cluster_support import LlamaConfigServer, Replica, bankbot, deadline, run_module, wait_for
from tests.conftest import _postgres_database, make_settings, serve_env
from tests.nightly_support import reviewed_turn, reviewers
from tests.test_chroma_server import small_kb

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.slow]

ARTICLES = ("activate_my_card", "card_arrival", "cancel_transfer", "apple_pay_or_google_pay")
QUESTIONS = [
    "How do I activate my new card?",
    "When will my card arrive?",
    "Can I cancel a transfer?",
    "Can I use Apple Pay?",
]
FILTERS = ["", "", 0, 1, "any", "", "open"]  # the review page's filter inputs: everything open
BUNDLE_CHECK_S = 1


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _postgres_database()


def common_env(root: Path, database_url: str, chroma_port: int) -> dict[str, str]:
    """What every bankbot process of the cluster shares: the database, the Chroma server, the artifact root."""
    env = serve_env(
        root,
        BANKBOT_DATABASE_URL=database_url,
        BANKBOT_CHROMA_HOST="127.0.0.1",
        BANKBOT_CHROMA_PORT=str(chroma_port),
        BANKBOT_ARTIFACT_ROOT=str(root / "artifacts"),
        BANKBOT_MIGRATE_ON_START="false",
        BANKBOT_REVIEW_CONSENSUS="1",
        BANKBOT_MAX_NEW_TOKENS="16",
        BANKBOT_FEW_SHOT_K="0",
    )
    return {**env, "BANKBOT_LLM_MODEL": BUILTIN_LLM}  # the real SmolLM2 (serve_env's default is the fake)


def replica_env(common: dict[str, str], root: Path, name: str, llm_url: str) -> dict[str, str]:
    return {
        **common,
        "BANKBOT_DATA_DIR": str(root / name / "data"),  # nothing shared through a replica's own folder
        "BANKBOT_LLM_SERVER_URL": llm_url,
        "BANKBOT_LLM_SERVER_MODEL": "bankbot-{adapter}",
        "BANKBOT_LLM_SERVER_TIMEOUT_S": str(deadline(120)),
        "BANKBOT_BUNDLE_CHECK_SECONDS": str(BUNDLE_CHECK_S),
        "BANKBOT_RATE_LIMIT_API_CHAT": "",  # every test client comes from 127.0.0.1
        "BANKBOT_CHAT_DEADLINE_S": str(deadline(300)),
    }


def nightly_env(common: dict[str, str], root: Path) -> dict[str, str]:
    """A tiny night that lets its candidate through (the gate's logic is tested in tests/test_gate.py)."""
    return {
        **common,
        "BANKBOT_DATA_DIR": str(root / "nightly" / "data"),
        "BANKBOT_LLM_PUBLISH": "llama-cpp",
        "BANKBOT_PROMOTION_MARGIN": "-1.0",
        "BANKBOT_REGRESSION_TOLERANCE": "1.0",
        "BANKBOT_MIN_NEW_EXAMPLES": "1",
        "BANKBOT_GATE_EVAL_QUESTIONS": "2",
        "BANKBOT_ABSTAIN_CONFIDENCE": "0.0",
    }


def chat(replica: Replica, question: str) -> tuple[int, str | None]:
    """(HTTP status, turn id) of one customer question; status 0 when the replica could not be reached."""
    try:
        reply = httpx.post(f"{replica.url}/api/chat", json={"question": question}, timeout=deadline(300))
    except httpx.HTTPError:
        return 0, None
    return reply.status_code, reply.json().get("turn_id") if reply.status_code == 200 else None


def logged(app: Any, turn_ids: list[str]) -> dict[str, Turn]:
    with app.session() as session:
        rows = session.exec(select(Turn).where(Turn.id.in_([uuid.UUID(t) for t in turn_ids]))).all()  # type: ignore[attr-defined]
        return {str(row.id): row for row in rows}


def _llama_server_can_run(tmp_path: Path) -> bool:
    """llama_cpp.server cannot turn off llama.cpp's extra CPU buffer types, which crash on some CPUs (a VM whose
    AMX faults); the in-process engine turns them off (``extra_buffers_usable``), the server dies on its first
    answer."""
    from chatbot.generation import build_generator
    from chatbot.generation.llamacpp_engine import LlamaCppGenerator, extra_buffers_usable

    settings = make_settings(tmp_path / "probe", llm_model=BUILTIN_LLM)
    local = build_generator(settings)
    return not isinstance(local, LlamaCppGenerator) or extra_buffers_usable(local.gguf_path, settings.models_dir)


def prepare_shared_state(common: dict[str, str], root: Path) -> None:
    """What a deployment does once, with the bankbot tool: migrate, ingest, add a reviewer, publish the base model."""
    tool = {**common, "BANKBOT_DATA_DIR": str(root / "tool" / "data")}
    bankbot(["db", "upgrade"], tool, seconds=120)  # the one migration step
    bankbot(["ingest", "--no-progress", str(small_kb(root, *ARTICLES))], tool, seconds=600)
    bankbot(["users", "add", "rita", "--role", "reviewer", "--password-stdin"], tool, stdin="rita-pass-1\n", seconds=60)
    # The LLM server's first config: the base model only (no bundle promoted yet).
    run_module("finetune.publish", [], {**tool, "BANKBOT_LLM_PUBLISH": "llama-cpp"}, seconds=300)


def start_replicas(stack: ExitStack, common: dict[str, str], root: Path, llm_url: str) -> tuple[Replica, Replica]:
    a, b = (Replica(n, replica_env(common, root, n, llm_url), root) for n in ("replica-a", "replica-b"))
    for replica in (a, b):
        stack.callback(replica.stop)
        replica.launch()
    for replica in (a, b):
        replica.wait_ready()
    return a, b


def customers_on_both_replicas(a: Replica, b: Replica, app: Any) -> None:
    # Customers on both replicas: every answer is logged in the one database, from the base model.
    answered = [chat(replica, q) for replica in (a, b) for q in QUESTIONS[:2]]
    assert [status for status, _ in answered] == [200] * 4
    turns = logged(app, [t for _, t in answered if t])
    assert len(turns) == 4 and {t.adapter_version for t in turns.values()} == {None}
    assert all((t.meta or {}).get("reason") != "llm_unavailable" for t in turns.values())


def promote_a_night(app: Any, common: dict[str, str], root: Path, config: Path) -> str:
    """Reviewed data, then a nightly run that promotes and publishes its bundle: the bundle's version."""
    # Reviewed data for the nightly job (through the real review path, in SQL).
    ids = reviewers(app, 1)
    for question in QUESTIONS:
        reviewed_turn(app, question, "See the article [1].", "approve", reviewer_ids=ids)
    hp = ["--set", "max_steps=2", "--set", "batch_size=2", "--set", "eval_steps=2", "--set", "warmup_steps=0"]
    out = bankbot(["nightly", "--force", "--no-indexes", *hp], nightly_env(common, root), seconds=1200)
    assert "promoted" in out, out
    version = registry.production_version(app)
    assert version is not None
    name = f"bankbot-{version}"
    publish = registry.get_model(app, version).eval_metrics["publish"]
    assert publish == {
        "backend": "llama-cpp",
        "name": name,
        "created": True,
        "location": f"{SERVER_DIR}/{name}.gguf",
    }
    assert [m["model_alias"] for m in json.loads(config.read_text())["models"]] == [name, BASE_NAME]
    return version


def follow_the_promotion(a: Replica, b: Replica, app: Any, llm: LlamaConfigServer, version: str) -> None:
    name = f"bankbot-{version}"
    # Both replicas follow the promotion by themselves (bundle watcher, every BUNDLE_CHECK_S seconds) ...
    for replica in (a, b):
        wait_for(partial(serves_version, app, replica, version), f"{replica.name} on {version}", 120)
    # ... and the LLM server serves the new name once restarted on the new config (it reads it only at start).
    llm.stop()
    llm.start()
    assert llm.models() == [name, BASE_NAME]
    for replica in (a, b):
        status, turn_id = chat(replica, QUESTIONS[2])
        assert status == 200 and turn_id is not None
        turn = logged(app, [turn_id])[turn_id]
        assert turn.adapter_version == version and (turn.meta or {}).get("reason") != "llm_unavailable"


def test_two_replicas_share_state_switch_bundles_and_survive_a_killed_peer(tmp_path: Path, postgres_url: str) -> None:
    if not _llama_server_can_run(tmp_path):
        pytest.skip("llama.cpp's extra CPU buffers crash on this machine and its server cannot turn them off")
    with ExitStack() as stack:
        chroma = stack.enter_context(start_chroma_server(tmp_path / "chroma", deadline_s=deadline(60)))
        common = common_env(tmp_path, postgres_url, chroma.port)
        prepare_shared_state(common, tmp_path)
        config = tmp_path / "artifacts" / SERVER_DIR / CONFIG_NAME
        llm = LlamaConfigServer(config, tmp_path / "llm.log")
        stack.callback(llm.stop)
        llm.start()
        assert llm.models() == [BASE_NAME]
        a, b = start_replicas(stack, common, tmp_path, llm.url)
        app = build_app(make_settings(tmp_path / "tool", database_url=postgres_url))  # reads SQL as a test client

        customers_on_both_replicas(a, b, app)
        review_on_other_replica(a, b, app)
        version = promote_a_night(app, common, tmp_path, config)
        follow_the_promotion(a, b, app, llm, version)
        kill_one_under_load(a, b, app)


def serves_version(app: Any, replica: Replica, version: str) -> bool:
    """Whether the replica's next answer is logged as coming from the bundle ``version``."""
    status, turn_id = chat(replica, QUESTIONS[0])
    return status == 200 and turn_id is not None and logged(app, [turn_id])[turn_id].adapter_version == version


def review_on_other_replica(login_on: Replica, work_on: Replica, app: Any) -> None:
    """Log in on one replica; the other replica's review page takes the same cookie and records the verdict."""
    from gradio_client import Client

    login = httpx.post(
        f"{login_on.url}/review/login", data={"username": "rita", "password": "rita-pass-1"}, timeout=deadline(60)
    )
    assert login.status_code == 200
    cookie_name, cookie_value = login.headers.get_list("set-cookie")[0].split(";")[0].split("=", 1)
    assert httpx.get(f"{work_on.url}/review/config", timeout=deadline(60)).status_code == 401  # no cookie: refused
    rita = Client(  # the cookie only: no login on this replica
        f"{work_on.url}/review/",
        httpx_kwargs={"cookies": {cookie_name: cookie_value}, "timeout": deadline(120)},
        verbose=False,
    )
    rita.predict(*FILTERS, api_name="/on_load")  # the queue, lowest confidence first: its first turn is selected
    rita.predict("", None, "checked on the other replica", *FILTERS, api_name="/handler")  # approve
    with app.session() as session:
        reviews = session.exec(select(Review)).all()
    assert [(r.verdict, r.comment) for r in reviews] == [("approve", "checked on the other replica")]


def kill_one_under_load(victim: Replica, survivor: Replica, app: Any) -> None:
    """Clients send to both; the victim is SIGKILLed; the survivor keeps answering and no 200 loses its turn."""
    results: dict[str, list[tuple[int, str | None, bool]]] = {victim.name: [], survivor.name: []}
    killed, stop = threading.Event(), threading.Event()

    def client(replica: Replica) -> None:
        n = 0
        while not stop.is_set():
            status, turn_id = chat(replica, QUESTIONS[n % len(QUESTIONS)])
            results[replica.name].append((status, turn_id, killed.is_set()))
            n += 1
            if status == 0:
                stop.wait(0.5)  # a dead replica refuses at once: do not spin

    threads = [threading.Thread(target=client, args=(r,), daemon=True) for r in (victim, survivor)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: all(any(s == 200 for s, *_ in results[r.name]) for r in (victim, survivor)), "answers", 300)
        victim.kill()
        killed.set()
        after = lambda: sum(1 for s, _, late in results[survivor.name] if late and s == 200)  # noqa: E731
        wait_for(lambda: after() >= 3, f"{survivor.name} answering after {victim.name} was killed", 300)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=deadline(300))
    assert all(s == 200 for s, *_ in results[survivor.name]), results[survivor.name]
    assert any(late and s == 0 for s, _, late in results[victim.name])  # the victim is really gone
    ok = [t for rows in results.values() for s, t, _ in rows if s == 200 and t]
    assert sorted(logged(app, ok)) == sorted(set(ok))  # no turn lost
