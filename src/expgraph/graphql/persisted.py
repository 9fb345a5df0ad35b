"""Persisted queries: Apollo's Automatic Persisted Queries (APQ) and an allow-list.

A client sends ``extensions: {"persistedQuery": {"version": 1, "sha256Hash": H}}``
(in the JSON body, or as the ``extensions`` parameter of a GET) where H is the
lowercase hex SHA-256 of the document's text:

- with H alone, the server runs the document it knows by H, or answers the error
  ``PersistedQueryNotFound`` (``extensions.code`` ``PERSISTED_QUERY_NOT_FOUND``,
  HTTP 200) so the client sends again with the document;
- with H and the document, the document's hash is checked (a mismatch is refused,
  BAD_REQUEST, HTTP 400), the document runs, and it is kept under H once it ran
  (a document refused by the request limits or validation is not kept).

Modes (``Settings.persisted_queries``):

- ``auto`` (default): the above; any document may still be sent whole. Documents
  are kept in process (per worker) in a least-recently-used store of at most
  ``persisted_queries_cache_size`` documents; a restart forgets them and clients
  register them again on their own.
- ``allowlist``: only the documents of ``persisted_queries_file`` run, sent by
  hash or whole; anything else is refused with ``PERSISTED_QUERY_NOT_IN_LIST``
  (HTTP 403), and nothing is registered at run time.
- ``off``: ``extensions.persistedQuery`` is refused with ``PersistedQueryNotSupported``
  (``PERSISTED_QUERY_NOT_SUPPORTED``), which makes Apollo's link send whole documents.

The allow-list file is either a JSON object mapping each hash to its document
(what graphql-codegen's client preset writes as ``persisted-documents.json``), an
Apollo persisted-query manifest (``{"operations": [{"id": H, "body": ...}]}``), or
a directory whose ``*.graphql`` files each hold one document, hashed as written.
Every hash in a JSON file is checked against its document at startup.

A persisted document is an ordinary document from there on: the request limits,
validation and permissions apply to it as to any other.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from expgraph.config import Settings

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
_HASH = re.compile(r"[0-9a-f]{64}")


class PersistedQueryRefused(Exception):
    """A request refused before it runs: the message, its code and HTTP status."""

    def __init__(self, message: str, code: str, status: int) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


def sha256_hex(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def load_allowlist(path: Path) -> dict[str, str]:
    """The documents of ``path`` by hash (see the module's docstring); a hash that
    does not match its document, or a file of another shape, raises ValueError."""
    if path.is_dir():
        documents = [file.read_text() for file in sorted(path.rglob("*.graphql"))]
        return {sha256_hex(document): document for document in documents}
    raw: Any = json.loads(path.read_text())
    if isinstance(raw, Mapping) and isinstance(raw.get("operations"), list):
        pairs = [(op.get("id"), op.get("body")) for op in raw["operations"]]
    elif isinstance(raw, Mapping):
        pairs = list(raw.items())
    else:
        raise ValueError(f"{path}: expected a JSON object of hash -> document")
    allowed: dict[str, str] = {}
    for key, document in pairs:
        if not isinstance(key, str) or not isinstance(document, str):
            raise ValueError(f"{path}: every entry needs a hash and a document (strings)")
        if sha256_hex(document) != key.lower():
            raise ValueError(f"{path}: {key} is not the SHA-256 of its document")
        allowed[key.lower()] = document
    return allowed


class PersistedQueries:
    """The documents known by hash, and what a request's ``persistedQuery`` asks."""

    def __init__(self, mode: str, capacity: int, allowed: Mapping[str, str]) -> None:
        self.mode = mode
        self.capacity = capacity
        self.allowed = dict(allowed)
        self.known: OrderedDict[str, str] = OrderedDict()

    @classmethod
    def of(cls, settings: Settings) -> PersistedQueries:
        allowed: dict[str, str] = {}
        if settings.persisted_queries == "allowlist":
            if settings.persisted_queries_file is None:
                raise ValueError(
                    "EXPGRAPH_PERSISTED_QUERIES=allowlist needs EXPGRAPH_PERSISTED_QUERIES_FILE"
                )
            allowed = load_allowlist(settings.persisted_queries_file)
        return cls(settings.persisted_queries, settings.persisted_queries_cache_size, allowed)

    def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> str | None:
        """The document to run for a request's ``query`` and ``extensions``;
        raises PersistedQueryRefused."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if (
                self.mode == "allowlist"
                and query is not None
                and sha256_hex(query) not in self.allowed
            ):
                raise _not_in_list()
            return query
        if self.mode == "off":
            raise PersistedQueryRefused("PersistedQueryNotSupported", NOT_SUPPORTED, 200)
        digest = _hash_of(persisted)
        if query is None:
            document = self.allowed.get(digest) if self.mode == "allowlist" else self._get(digest)
            if document is None:
                if self.mode == "allowlist":
                    raise _not_in_list()
                raise PersistedQueryRefused("PersistedQueryNotFound", NOT_FOUND, 200)
            return document
        if sha256_hex(query) != digest:
            raise PersistedQueryRefused(
                "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query",
                "BAD_REQUEST",
                400,
            )
        if self.mode == "allowlist" and digest not in self.allowed:
            raise _not_in_list()
        return query

    def register(self, query: str | None, extensions: Mapping[str, Any] | None) -> None:
        """Keep a document sent with its (checked) hash, once it ran (``auto`` only)."""
        if self.mode != "auto" or query is None:
            return
        persisted = (extensions or {}).get("persistedQuery")
        if isinstance(persisted, Mapping):
            digest = persisted.get("sha256Hash")
            if isinstance(digest, str) and sha256_hex(query) == digest:
                self.known[digest] = query
                self.known.move_to_end(digest)
                while len(self.known) > self.capacity:
                    self.known.popitem(last=False)

    def _get(self, digest: str) -> str | None:
        document = self.known.get(digest)
        if document is not None:
            self.known.move_to_end(digest)
        return document


def _hash_of(persisted: object) -> str:
    if not isinstance(persisted, Mapping) or persisted.get("version") != 1:
        raise PersistedQueryRefused(
            "extensions.persistedQuery needs version 1 and a sha256Hash", "BAD_REQUEST", 400
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _HASH.fullmatch(digest):
        raise PersistedQueryRefused(
            "extensions.persistedQuery.sha256Hash must be 64 lowercase hexadecimal digits",
            "BAD_REQUEST",
            400,
        )
    return digest


def _not_in_list() -> PersistedQueryRefused:
    return PersistedQueryRefused(
        "this server runs only its registered documents, and this is not one of them",
        NOT_IN_LIST,
        403,
    )
