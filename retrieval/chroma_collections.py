"""The chromadb client and its raw collections: client, collection names, copies, deletion.

Kept apart from ``retrieval.vector_store`` because ``retrieval.embedder_registry`` re-embeds collections when it
promotes an embedder, while ``retrieval.vector_store`` asks the registry which embedder's collection to open; with
both halves in one module the two imported each other. Nothing here reads the registry: a collection name is built
from a version the caller passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chatbot.errors import BankbotError
from chatbot.settings import Settings
from retrieval.embeddings import as_embeddings

COSINE = {"hnsw": {"space": "cosine"}}
EXAMPLES_SUFFIX = "_examples"
FEWSHOT_SUFFIX = "_fewshot"  # chatbot.fewshot's collection, next to the KB collection like the example index


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


def versioned_collection_name(settings: Settings, embedder_version: str | None) -> str:
    """The KB collection of an embedder version (the configured collection itself for no version)."""
    return f"{settings.chroma_collection}-{embedder_version}" if embedder_version else settings.chroma_collection


def examples_collection_name(kb_collection: str) -> str:
    return f"{kb_collection}{EXAMPLES_SUFFIX}"


def embedder_collections(kb_collection: str) -> tuple[str, str, str]:
    """Every collection embedded by the embedder of ``kb_collection``: the knowledge base, the example index and
    the few-shot store. A new embedder needs all three re-embedded."""
    return kb_collection, examples_collection_name(kb_collection), f"{kb_collection}{FEWSHOT_SUFFIX}"


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


def delete_collections(client: Any, names: Sequence[str]) -> list[str]:
    """Delete those of ``names`` that exist on ``client``; returns the ones deleted."""
    existing = _names(client)
    deleted = []
    for name in names:
        if name in existing:
            client.delete_collection(name)
            deleted.append(name)
    return deleted


def _names(client: Any) -> set[str]:
    return {c if isinstance(c, str) else c.name for c in client.list_collections()}
