"""The persistent Chroma collection of knowledge-base chunks, opened as a LangChain ``Chroma`` vector store.

Embedded Chroma at ``settings.effective_chroma_path`` by default, a Chroma server when ``settings.chroma_host``
is set. Chroma is always given our embeddings (its default embedding function would download an ONNX model).
Vectors from different embedders are not comparable, so a promoted fine-tuned embedder gets its own collections
(``<collection>-<version>``, the version of the production ``embedder_version`` row); see
``retrieval.embedder_registry.promote_embedder``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from chatbot.errors import BankbotError
from chatbot.settings import Settings
from retrieval.embeddings import as_embeddings

if TYPE_CHECKING:
    from langchain_chroma import Chroma

COSINE = {"hnsw": {"space": "cosine"}}
EXAMPLES_SUFFIX = "_examples"


def chroma_client(settings: Settings) -> Any:
    """The chromadb client of these settings: an HTTP client of the Chroma server when ``chroma_host`` is set (every
    replica then reads and writes the same collections), else the embedded store in one local folder."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    if not settings.chroma_host:
        path = settings.effective_chroma_path
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
    return _http_client(settings, settings.chroma_host)


def _http_client(settings: Settings, host: str) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from chromadb.errors import ChromaAuthError

    where = f"{'https' if settings.chroma_ssl else 'http'}://{host}:{settings.chroma_port}"
    auth: dict[str, Any] = {}
    if settings.chroma_auth_token is not None:
        auth = {
            "chroma_client_auth_provider": "chromadb.auth.token_authn.TokenAuthClientProvider",
            "chroma_client_auth_credentials": settings.chroma_auth_token.get_secret_value(),
        }
    try:
        # The client asks the server who it is on creation: a dead server or a refused token fails here, at start.
        return chromadb.HttpClient(
            host=host,
            port=settings.chroma_port,
            ssl=settings.chroma_ssl,
            settings=ChromaSettings(anonymized_telemetry=False, **auth),
        )
    except ChromaAuthError as exc:
        given = "BANKBOT_CHROMA_AUTH_TOKEN was refused" if auth else "it needs BANKBOT_CHROMA_AUTH_TOKEN"
        raise BankbotError(f"Chroma server at {where}: {given} ({_first_line(exc)})") from exc
    except Exception as exc:  # chromadb raises plain ValueError/ConnectError variants for an unreachable server
        raise BankbotError(
            f"cannot reach the Chroma server at {where} (BANKBOT_CHROMA_HOST/PORT): {_first_line(exc)}"
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def kb_collection_name(settings: Settings, embedder_version: str | None = None) -> str:
    """The KB collection for the active (or the given) embedder version."""
    from retrieval.embedder_registry import active_embedder_version

    version = embedder_version if embedder_version is not None else active_embedder_version(settings)
    return f"{settings.chroma_collection}-{version}" if version else settings.chroma_collection


def examples_collection_name(kb_collection: str) -> str:
    return f"{kb_collection}{EXAMPLES_SUFFIX}"


def open_vector_store(
    settings: Settings, embedder: Any, *, client: Any = None, collection_name: str | None = None
) -> Chroma:
    from langchain_chroma import Chroma

    return Chroma(
        collection_name=collection_name or kb_collection_name(settings),
        embedding_function=as_embeddings(embedder),
        client=client if client is not None else chroma_client(settings),
        collection_configuration=COSINE,  # type: ignore[arg-type]
    )


def store_client(vector_store: Chroma) -> Any:
    """The chromadb client behind a LangChain Chroma store (to open sibling collections on it)."""
    return vector_store._client


def store_collection(vector_store: Chroma) -> Any:
    return vector_store._collection


def copy_collection(
    client: Any, source: str, target: str, embedder: Any, *, target_client: Any = None, batch: int = 256
) -> int:
    """Copy every record of ``source`` into a fresh ``target`` collection (on ``target_client``, default the same
    client), re-embedding its documents with ``embedder``. Returns how many records were copied."""
    target_client = target_client if target_client is not None else client
    if target in _names(target_client) and (target_client is not client or target != source):
        target_client.delete_collection(target)
    dest = target_client.get_or_create_collection(target, embedding_function=None, configuration=COSINE)
    if source not in _names(client):
        return 0
    src = client.get_collection(source, embedding_function=None)
    embeddings = as_embeddings(embedder)
    copied = 0
    while True:
        page = src.get(include=["documents", "metadatas"], limit=batch, offset=copied)
        if not page["ids"]:
            return copied
        dest.add(
            ids=page["ids"],
            documents=page["documents"],
            metadatas=page["metadatas"],
            embeddings=embeddings.embed_documents(page["documents"]),
        )
        copied += len(page["ids"])


def _names(client: Any) -> set[str]:
    return {c if isinstance(c, str) else c.name for c in client.list_collections()}


def article_titles(vector_store: Chroma) -> dict[str, str]:
    """article id → title over the whole knowledge base (for a reviewer choosing the right article)."""
    records = store_collection(vector_store).get(include=["metadatas"])
    titles: dict[str, str] = {}
    for meta in records["metadatas"] or []:
        if meta and meta.get("article_id"):
            titles.setdefault(str(meta["article_id"]), str(meta.get("title") or meta["article_id"]))
    return dict(sorted(titles.items()))


def article_passages(vector_store: Chroma, article_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The first chunk of each article as a logged-source dict (``id``, ``title``, ``chunk``, ``intent``, ``text``):
    what a training prompt shows when a reviewer pointed a correction at an article retrieval had missed."""
    wanted = sorted({a for a in article_ids if a})
    if not wanted:
        return {}
    records = store_collection(vector_store).get(
        where={"article_id": {"$in": wanted}}, include=["metadatas", "documents"]
    )
    found: dict[str, dict[str, Any]] = {}
    for meta, text in zip(records["metadatas"] or [], records["documents"] or [], strict=False):
        article = str((meta or {}).get("article_id", ""))
        chunk = int((meta or {}).get("chunk", 0) or 0)
        if article and (article not in found or chunk < found[article]["chunk"]):
            found[article] = {
                "id": article,
                "title": str(meta.get("title", "")),
                "chunk": chunk,
                "intent": meta.get("intent") or None,
                "text": text or "",
            }
    return found
