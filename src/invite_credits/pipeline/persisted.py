"""Persisted documents: Apollo's automatic persisted queries (a bounded cache of documents by sha256), and a
trusted-documents mode for locked-down deployments (only the documents of a manifest run).

Manifests in either format GraphQL clients emit: Apollo's persisted query manifest
(`{"format": "apollo-persisted-query-manifest", "operations": [{"id", "body", ...}]}`) or GraphQL Codegen's
client preset (`{"<id>": "<document>"}`). A trusted document is asked for by `extensions.persistedQuery
.sha256Hash`, by `documentId`, or by its full text.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..domain.errors import DocumentRefused, PersistedQueryNotFound, PersistedQueryNotInList

_SHA256 = re.compile(r"[0-9a-f]{64}")


class ManifestError(ValueError):
    """The trusted documents manifest cannot be used; the message says why."""


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def load_manifest(path: Path) -> dict[str, str]:
    """Document id -> document, from either manifest format."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ManifestError(f"INVITE_CREDITS_TRUSTED_DOCUMENTS: cannot read {path}: {exc}") from None
    if isinstance(data, dict) and data.get("format") == "apollo-persisted-query-manifest":
        operations = data.get("operations")
        if not isinstance(operations, list):
            raise ManifestError(f"INVITE_CREDITS_TRUSTED_DOCUMENTS: {path} has no operations list")
        pairs = [(op.get("id"), op.get("body")) for op in operations if isinstance(op, dict)]
    elif isinstance(data, dict):
        pairs = list(data.items())
    else:
        raise ManifestError(f"INVITE_CREDITS_TRUSTED_DOCUMENTS: {path} is neither manifest format")
    documents = {key: body for key, body in pairs if isinstance(key, str) and isinstance(body, str)}
    if len(documents) != len(pairs) or not documents:
        raise ManifestError(f"INVITE_CREDITS_TRUSTED_DOCUMENTS: {path} has entries that are not id -> document text")
    return documents


class PersistedDocuments:
    def __init__(self, *, cache_size: int = 1000, trusted: Mapping[str, str] | None = None) -> None:
        self.cache_size = cache_size
        self._cache: OrderedDict[str, str] = OrderedDict()
        self.trusted = dict(trusted) if trusted is not None else None
        self._trusted_text = {document: key for key, document in (trusted or {}).items()}

    def resolve(self, query: str | None, extensions: Any, document_id: Any) -> str | None:
        """The document to run for this request, or a DocumentRefused (not found, not in the list, malformed)."""
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if persisted is not None and not (isinstance(persisted, dict) and persisted.get("version") == 1
                                          and isinstance(persisted.get("sha256Hash"), str)):
            raise DocumentRefused("extensions.persistedQuery needs version 1 and a sha256Hash.")
        key = persisted["sha256Hash"] if persisted else document_id
        if key is not None and not isinstance(key, str):
            raise DocumentRefused("documentId must be a string.")
        if self.trusted is not None:
            return self._trusted(query, key)
        if persisted is None:
            return query
        key = str(persisted["sha256Hash"])
        if not _SHA256.fullmatch(key):
            raise DocumentRefused("sha256Hash must be 64 lowercase hex digits.")
        if query is None:
            found = self._cache.get(key)
            if found is None:
                raise PersistedQueryNotFound("PersistedQueryNotFound")
            self._cache.move_to_end(key)
            return found
        if sha256(query) != key:
            raise DocumentRefused("provided sha does not match query")
        self._cache[key] = query
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return query

    def _trusted(self, query: str | None, key: str | None) -> str:
        assert self.trusted is not None
        if key is not None:
            document = self.trusted.get(key)
            if document is None:  # not "not found": a client must not retry by sending the text
                raise PersistedQueryNotInList("This server runs only its trusted documents, and this id is not one.")
            if query is not None and query != document:
                raise DocumentRefused("The query is not the trusted document of this id.")
            return document
        if query is not None and query in self._trusted_text:
            return query
        raise PersistedQueryNotInList("This server runs only its trusted documents: send one by its id.")
