"""One web server, three Gradio apps: the public chat at /, the review queue at /review, the dashboard at /dashboard.

Gradio's ``auth=`` guards a whole app, so each protected page is mounted as its own app with a login that only
admits its roles, while the chat stays open to customers.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from chatbot.passage_answer import ARTICLE_PATH
from ui.auth import DASHBOARD_ROLES, REVIEW_ROLES, install_staff_auth, login_checker

if TYPE_CHECKING:
    from fastapi import FastAPI

    from chatbot.app_services import AppServices

log = logging.getLogger(__name__)


class ChatRequest(BaseModel):
    question: str
    conversation_id: uuid.UUID | None = None
    # The customer picked this article from the previous answer's ``suggestions`` for the same question.
    article_id: str | None = Field(default=None, max_length=255)


REVIEW_PATH = "/review"
DASHBOARD_PATH = "/dashboard"


def chat_request_model(max_chars: int) -> type[ChatRequest]:
    """ChatRequest with the question capped at ``max_chars``: a longer one is a 422 before the pipeline runs."""
    from pydantic import Field, create_model

    return create_model("ChatRequest", __base__=ChatRequest, question=(str, Field(max_length=max_chars)))


def _one_line_invalid_unicode(server: FastAPI) -> None:
    """A lone surrogate in a JSON body fails validation, and FastAPI's 422 echoes the input, which cannot be encoded
    as UTF-8 (a 500): answer those with one line instead; other validation errors keep FastAPI's answer."""
    from fastapi.exception_handlers import request_validation_exception_handler
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    from chatbot.turn_text import INVALID_UNICODE

    async def handler(request: Any, exc: Exception) -> Any:
        assert isinstance(exc, RequestValidationError)  # registered for that class only
        if any(error.get("type") == "string_unicode" for error in exc.errors()):
            return JSONResponse({"error": INVALID_UNICODE}, status_code=422)
        return await request_validation_exception_handler(request, exc)

    server.add_exception_handler(RequestValidationError, handler)


def create_server(app: AppServices) -> FastAPI:
    from fastapi import FastAPI

    server = FastAPI(title="bankbot", docs_url=None, redoc_url=None, openapi_url=None)
    _one_line_invalid_unicode(server)
    _add_health_and_redirects(server)
    _add_chat_api(server, app)
    _add_article_page(server, app)
    _mount_pages(server, app)
    # Staff sessions expire and end when an account is disabled; login cookies get SameSite (and Secure on HTTPS).
    install_staff_auth(server, app, {REVIEW_PATH: REVIEW_ROLES, DASHBOARD_PATH: DASHBOARD_ROLES})
    _add_abuse_limits(server, app.settings)
    return server


def _add_health_and_redirects(server: FastAPI) -> None:
    from fastapi.responses import RedirectResponse

    @server.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # The chat app mounted at "/" catches "/review" and "/dashboard" without their trailing slash (a 404), so the
    # addresses `bankbot serve` prints and people type go to the mounted apps explicitly.
    for path in (REVIEW_PATH, DASHBOARD_PATH):
        server.add_api_route(path, lambda path=path: RedirectResponse(f"{path}/"), include_in_schema=False)


def _add_chat_api(server: FastAPI, app: AppServices) -> None:
    """A JSON endpoint for integrations and the load benchmark: the same pipeline as the web chat,
    logged the same way. Answers run in ChatRunner's worker threads: as many in flight as the web chat runs and
    queues (more: 503 at once), each awaited for chat_deadline_s (then 504; the answer still finishes and is
    logged)."""
    from fastapi.responses import JSONResponse

    from ui.limits import BUSY_RETRY_AFTER_S, Busy, ChatRunner, DeadlineExceeded

    settings = app.settings
    runner = ChatRunner(settings.max_concurrent_chats + settings.chat_queue_size, settings.chat_deadline_s)

    async def api_chat(request: ChatRequest) -> Any:
        from chatbot.errors import BankbotError, InvalidQuestion

        try:
            answer = await runner.run(lambda: _answer(app, request))
        except Busy:
            busy = {"error": "the chat is busy: too many questions at once; please try again in a few seconds"}
            return JSONResponse(busy, status_code=503, headers={"Retry-After": str(BUSY_RETRY_AFTER_S)})
        except DeadlineExceeded:
            late = {"error": f"no answer within {settings.chat_deadline_s:g} s; please try again in a minute"}
            return JSONResponse(late, status_code=504)
        except InvalidQuestion as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        except BankbotError as exc:
            log.warning("chat API: %s", exc)
            return JSONResponse({"error": str(exc)}, status_code=503)
        return JSONResponse(answer.to_json())

    api_chat.__annotations__["request"] = chat_request_model(settings.max_question_chars)  # what FastAPI validates
    server.add_api_route("/api/chat", api_chat, methods=["POST"], response_model=None)


def _answer(app: AppServices, request: ChatRequest) -> Any:
    if request.article_id:
        return app.pipeline.answer_chosen_article(
            request.question, request.article_id, conversation_id=request.conversation_id
        )
    return app.pipeline.answer(request.question, conversation_id=request.conversation_id)


def _add_article_page(server: FastAPI, app: AppServices) -> None:
    """Passage answers link here: the whole article the quoted sentences come from, read-only and open to
    customers."""
    from fastapi.responses import HTMLResponse

    @server.get(ARTICLE_PATH, response_class=HTMLResponse)
    def article(article_id: str) -> Any:
        from ui.articles import article_page

        page = article_page(app.vector_store, article_id)
        if page is None:
            return HTMLResponse("<p>No such article. <a href='/'>Back to the support chat</a></p>", status_code=404)
        return HTMLResponse(page)


def _mount_pages(server: FastAPI, app: AppServices) -> None:
    """The three Gradio apps: review and dashboard behind their own logins, the chat open at "/"."""
    import gradio as gr

    from ui.chat import build_chat
    from ui.dashboard import build_dashboard
    from ui.review import build_review

    # Footer links to the API page would advertise the protected apps' endpoints; keep the footer minimal.
    footer: list[Any] = ["gradio"]
    # The protected apps first: a mount at "/" would otherwise swallow their paths.
    gr.mount_gradio_app(
        server,
        build_review(app),
        path=REVIEW_PATH,
        auth=login_checker(app, REVIEW_ROLES),
        auth_message="Reviewers and engineers: log in with the account created by bankbot users add.",
        footer_links=footer,
        run_history=False,
    )
    gr.mount_gradio_app(
        server,
        build_dashboard(app),
        path=DASHBOARD_PATH,
        auth=login_checker(app, DASHBOARD_ROLES),
        auth_message="Engineers only: log in with an engineer account.",
        footer_links=footer,
        run_history=False,
    )
    gr.mount_gradio_app(server, build_chat(app), path="/", footer_links=footer, run_history=False)


def _add_abuse_limits(server: FastAPI, settings: Any) -> None:
    """Added last, so outermost: per-client rates and the body cap apply before anything parses a request."""
    from ui.limits import AbuseLimits, rates_from_settings

    server.add_middleware(
        AbuseLimits,
        rates=rates_from_settings(settings),
        storage_uri=settings.rate_limit_storage,
        max_body_bytes=settings.max_body_bytes,
        trusted_proxies=settings.trusted_proxies,
    )


_UNKNOWN = object()  # no bundle switched to yet: the first check after the model loaded re-reads the registry


class BundleWatcher:
    """Switches this server to a bundle another process promoted or rolled back (the nightly job, `bankbot models`,
    another replica's dashboard): every ``every`` seconds it reads the production bundle's version and promotion
    time and the production embedder from SQL and, only when they differ from what it last switched to, switches
    retrieval to the embedder (its model and collections together), points the few-shot store and example index at
    the bundle's snapshot and reloads the pipeline (``finetune.bundle.follow_production``). Nothing is loaded that
    was not loaded yet; errors are logged and the next check tries again."""

    def __init__(self, app: AppServices, every: float) -> None:
        self.app, self.every = app, every
        self._served: object = _UNKNOWN
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.every > 0:
            self._thread = threading.Thread(target=self._run, name="bundle-watch", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.check()

    def check(self) -> bool:
        """One check; True when the pipeline was reloaded for a changed production bundle."""
        from chatbot.registry import production_embedder_row, production_row
        from finetune.bundle import follow_production

        try:
            with self.app.session() as session:
                row = production_row(session)
                embedder = production_embedder_row(session)
                # With the promotion time, a version promoted again (its threshold refitted) counts as a change too;
                # with the embedder, one that changed without the bundle (an older release's pointer imported:
                # retrieval.embedder_registry.import_legacy_pointer).
                bundle = None if row is None else (row.version, row.promoted_at)
                production = (bundle, embedder.version if embedder is not None else None)
        except Exception as exc:  # the database is down: keep serving what is loaded
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            log.warning("cannot read the production bundle (%s); checking again in %g s", reason, self.every)
            return False
        if production == self._served or not self._model_loaded():
            return False
        try:
            follow_production(self.app)
            self.app.pipeline.reload()
        except Exception:
            shown = bundle[0] if bundle is not None else "(base model)"
            log.exception("could not switch to the production bundle %s; trying again in %g s", shown, self.every)
            return False
        self._served = production
        return True

    def _model_loaded(self) -> bool:
        # Until the model is loaded there is nothing to switch: while it is being built it reads the registry itself.
        return bool(self.app.generator_loaded and self.app.pipeline_loaded)


def _warm_up(app: AppServices) -> None:
    """Load the model (and build its GGUF on a first start) while the page is already up, not at the first question."""
    try:
        app.pipeline.generator  # noqa: B018  (the property loads and caches it)
    except Exception as exc:  # the first chat reports the same error to its customer; the server stays up
        logging.getLogger(__name__).error("model warm-up failed: %s", exc)


def serve(app: AppServices, *, host: str, port: int) -> None:
    import uvicorn

    from ui.limits import uvicorn_options

    server = create_server(app)
    watcher = BundleWatcher(app, app.settings.bundle_check_seconds)
    watcher.start()
    threading.Thread(target=_warm_up, args=(app,), name="warm-up", daemon=True).start()
    try:
        uvicorn.run(server, host=host, port=port, log_level="warning", **uvicorn_options(app.settings))
    finally:
        watcher.stop()
