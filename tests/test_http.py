"""What frontends on other origins and at scale need, over real HTTP through the
ASGI app on SQLite and PostgreSQL: CORS, persisted queries (Apollo's APQ and the
allow-list mode), gzip and ETags on GET queries (issue 14)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db.engine import Database

TAGS = "query Tags { tags(first: 10) { edges { node { name } } } }"
CREATE_TAG = "mutation($name: String!) { createTag(input: {name: $name}) { tag { name } } }"
# Introspection: a response well past 1 KiB.
LARGE = "{ __schema { types { name description } } }"

Client = Callable[..., Any]


def sha(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def apq(document: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha(document)}}


@pytest.fixture
def client(settings: Settings, db: Database) -> Client:
    """An HTTP client on an app built with ``settings`` changed by ``changes``."""

    @asynccontextmanager
    async def make(**changes: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings.model_copy(update=changes), db=db)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http

    return make


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


# --- CORS ---------------------------------------------------------------------------

FRONTEND = "https://app.example.com"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


async def test_cors_is_off_by_default(client: Client) -> None:
    async with client() as http:
        response = await http.post("/graphql", json={"query": TAGS}, headers={"Origin": FRONTEND})
        assert response.status_code == 200 and response.json()["data"]["tags"]
        assert cors_headers(response) == {}
        preflight = await http.options("/graphql", headers={"Origin": FRONTEND, **PREFLIGHT})
        assert preflight.status_code == 405
        assert cors_headers(preflight) == {}


async def test_a_listed_origin_may_call_with_credentials(client: Client) -> None:
    async with client(cors_origins=[FRONTEND, "http://localhost:3000"]) as http:
        preflight = await http.options("/graphql", headers={"Origin": FRONTEND, **PREFLIGHT})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == FRONTEND
        assert preflight.headers["access-control-allow-credentials"] == "true"
        assert "POST" in preflight.headers["access-control-allow-methods"]
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed and "content-type" in allowed

        response = await http.post("/graphql", json={"query": TAGS}, headers={"Origin": FRONTEND})
        assert response.status_code == 200 and response.json()["data"]["tags"]
        assert response.headers["access-control-allow-origin"] == FRONTEND
        assert response.headers["access-control-allow-credentials"] == "true"
        assert "etag" in response.headers["access-control-expose-headers"].lower()
        assert "origin" in response.headers["vary"].lower()


async def test_an_unknown_origin_gets_no_cors_headers(client: Client) -> None:
    async with client(cors_origins=[FRONTEND]) as http:
        evil = "https://evil.example.net"
        preflight = await http.options("/graphql", headers={"Origin": evil, **PREFLIGHT})
        assert preflight.status_code == 400
        assert cors_headers(preflight) == {}
        response = await http.post("/graphql", json={"query": TAGS}, headers={"Origin": evil})
        assert response.status_code == 200  # served: the browser keeps it from the page
        assert cors_headers(response) == {}
        assert "origin" in response.headers["vary"].lower()
        # Same-origin and non-browser callers (no Origin) are untouched.
        plain = await http.post("/graphql", json={"query": TAGS})
        assert plain.status_code == 200 and cors_headers(plain) == {}


async def test_a_star_lets_other_origins_in_without_credentials(client: Client) -> None:
    async with client(cors_origins=[FRONTEND, "*"]) as http:
        other = await http.post(
            "/graphql", json={"query": TAGS}, headers={"Origin": "https://other.example"}
        )
        assert other.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in other.headers
        listed = await http.post("/graphql", json={"query": TAGS}, headers={"Origin": FRONTEND})
        assert listed.headers["access-control-allow-origin"] == FRONTEND
        assert listed.headers["access-control-allow-credentials"] == "true"


def test_cors_origins_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPGRAPH_CORS_ORIGINS", "https://a.example, http://localhost:3000/")
    assert Settings(_env_file=None).cors_origins == [  # type: ignore[call-arg]
        "https://a.example",
        "http://localhost:3000",
    ]
    monkeypatch.setenv("EXPGRAPH_CORS_ORIGINS", '["https://b.example"]')
    assert Settings(_env_file=None).cors_origins == ["https://b.example"]  # type: ignore[call-arg]
    monkeypatch.setenv("EXPGRAPH_CORS_ORIGINS", "a.example")
    with pytest.raises(ValueError, match="not an origin"):
        Settings(_env_file=None)  # type: ignore[call-arg]


# --- Automatic Persisted Queries ----------------------------------------------------


async def test_apq_hash_then_register_then_hash_by_post_and_get(client: Client) -> None:
    async with client() as http:
        unknown = await http.post("/graphql", json={"extensions": apq(TAGS)})
        assert unknown.status_code == 200
        error = unknown.json()["errors"][0]
        assert error["message"] == "PersistedQueryNotFound"
        assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

        registered = await http.post("/graphql", json={"query": TAGS, "extensions": apq(TAGS)})
        assert registered.status_code == 200 and "errors" not in registered.json()

        by_hash = await http.post("/graphql", json={"extensions": apq(TAGS)})
        assert by_hash.json() == registered.json()
        # GET with only the hash (a browser's default Accept */* too): runs, no GraphiQL page.
        params = {"extensions": json.dumps(apq(TAGS)), "operationName": "Tags"}
        got = await http.get("/graphql", params=params, headers={"Accept": "*/*"})
        assert got.status_code == 200, got.text
        assert got.json() == registered.json()


async def test_apq_refuses_a_hash_that_is_not_the_documents(client: Client) -> None:
    async with client() as http:
        other = "{ tags(first: 1) { edges { node { name } } } }"
        response = await http.post("/graphql", json={"query": TAGS, "extensions": apq(other)})
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        bad = {"persistedQuery": {"version": 2, "sha256Hash": sha(TAGS)}}
        response = await http.post("/graphql", json={"query": TAGS, "extensions": bad})
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        # Nothing was kept under either hash.
        response = await http.post("/graphql", json={"extensions": apq(other)})
        assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_apq_never_runs_a_mutation_over_get(client: Client) -> None:
    async with client() as http:
        registered = await http.post(
            "/graphql",
            json={"query": CREATE_TAG, "variables": {"name": "one"}, "extensions": apq(CREATE_TAG)},
        )
        assert registered.json()["data"]["createTag"]["tag"]["name"] == "one"
        params = {"extensions": json.dumps(apq(CREATE_TAG)), "variables": '{"name": "two"}'}
        got = await http.get("/graphql", params=params, headers={"Accept": "application/json"})
        assert got.status_code == 400 and "etag" not in got.headers
        names = await http.post("/graphql", json={"query": TAGS})
        assert [e["node"]["name"] for e in names.json()["data"]["tags"]["edges"]] == ["one"]


async def test_request_limits_apply_to_persisted_documents(client: Client) -> None:
    async with client(max_query_depth=2) as http:
        response = await http.post("/graphql", json={"query": TAGS, "extensions": apq(TAGS)})
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        assert "deeper" in response.json()["errors"][0]["message"]
        # A refused document is not kept: its hash alone is still unknown.
        response = await http.post("/graphql", json={"extensions": apq(TAGS)})
        assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_apq_store_keeps_the_most_recently_used(client: Client) -> None:
    documents = [f"query Q{i} {{ tags(first: {i + 1}) {{ totalCount }} }}" for i in range(3)]
    async with client(persisted_queries_cache_size=2) as http:

        async def code(document: str) -> str | None:
            body = (await http.post("/graphql", json={"extensions": apq(document)})).json()
            return body["errors"][0]["extensions"]["code"] if "errors" in body else None

        for document in documents[:2]:
            await http.post("/graphql", json={"query": document, "extensions": apq(document)})
        assert await code(documents[0]) is None  # used: now the most recent
        await http.post("/graphql", json={"query": documents[2], "extensions": apq(documents[2])})
        assert await code(documents[1]) == "PERSISTED_QUERY_NOT_FOUND"  # the least recent went
        assert await code(documents[0]) is None
        assert await code(documents[2]) is None


async def test_persisted_queries_off(client: Client) -> None:
    async with client(persisted_queries="off") as http:
        response = await http.post("/graphql", json={"query": TAGS, "extensions": apq(TAGS)})
        error = response.json()["errors"][0]
        assert error["message"] == "PersistedQueryNotSupported"
        assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"
        assert "errors" not in (await http.post("/graphql", json={"query": TAGS})).json()


# --- the allow-list mode ------------------------------------------------------------


async def check_allowlist(http: httpx.AsyncClient) -> None:
    other = "{ tags(first: 1) { totalCount } }"
    by_hash = await http.post("/graphql", json={"extensions": apq(TAGS)})
    assert by_hash.status_code == 200 and "errors" not in by_hash.json(), by_hash.text
    whole = await http.post("/graphql", json={"query": TAGS})
    assert whole.json() == by_hash.json()
    for body in (
        {"query": other},
        {"query": other, "extensions": apq(other)},
        {"extensions": apq(other)},
    ):
        refused = await http.post("/graphql", json=body)
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    # Nothing registers at run time: the refused document is still refused by hash.
    refused = await http.post("/graphql", json={"extensions": apq(other)})
    assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"


async def test_allowlist_from_a_json_manifest(client: Client, tmp_path: Path) -> None:
    manifest = tmp_path / "persisted-documents.json"
    manifest.write_text(json.dumps({sha(TAGS): TAGS}))
    async with client(persisted_queries="allowlist", persisted_queries_file=manifest) as http:
        await check_allowlist(http)


async def test_allowlist_from_an_apollo_manifest(client: Client, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    operations = [{"id": sha(TAGS), "body": TAGS, "name": "Tags", "type": "query"}]
    manifest.write_text(
        json.dumps({"format": "apollo-persisted-query-manifest", "operations": operations})
    )
    async with client(persisted_queries="allowlist", persisted_queries_file=manifest) as http:
        await check_allowlist(http)


async def test_allowlist_from_a_directory(client: Client, tmp_path: Path) -> None:
    (tmp_path / "tags.graphql").write_text(TAGS)
    async with client(persisted_queries="allowlist", persisted_queries_file=tmp_path) as http:
        await check_allowlist(http)


async def test_allowlist_refuses_a_manifest_with_a_wrong_hash(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    manifest = tmp_path / "bad.json"
    manifest.write_text(json.dumps({sha("{ a }"): TAGS}))
    changes = {"persisted_queries": "allowlist", "persisted_queries_file": manifest}
    with pytest.raises(ValueError, match="not the SHA-256"):
        create_app(settings.model_copy(update=changes), db=db)
    with pytest.raises(ValueError, match="PERSISTED_QUERIES_FILE"):
        create_app(settings.model_copy(update={"persisted_queries": "allowlist"}), db=db)


# --- compression --------------------------------------------------------------------


async def test_large_responses_are_gzipped_when_asked(client: Client) -> None:
    async with client() as http:
        large = await http.post(
            "/graphql", json={"query": LARGE}, headers={"Accept-Encoding": "gzip"}
        )
        assert large.headers["content-encoding"] == "gzip"
        assert int(large.headers["content-length"]) < len(large.content)  # httpx decoded it
        assert large.json()["data"]["__schema"]["types"]
        small = await http.post(
            "/graphql", json={"query": TAGS}, headers={"Accept-Encoding": "gzip"}
        )
        assert "content-encoding" not in small.headers
        plain = await http.post(
            "/graphql", json={"query": LARGE}, headers={"Accept-Encoding": "identity"}
        )
        assert "content-encoding" not in plain.headers
        health = await http.get("/healthz", headers={"Accept-Encoding": "gzip"})
        assert health.json() == {"status": "ok"}
    async with client(gzip=False) as http:
        large = await http.post(
            "/graphql", json={"query": LARGE}, headers={"Accept-Encoding": "gzip"}
        )
        assert "content-encoding" not in large.headers


# --- ETags on GET queries -----------------------------------------------------------


async def test_get_queries_get_an_etag_and_304(client: Client) -> None:
    async with client(gzip=False) as http:
        params = {"query": TAGS}
        first = await http.get("/graphql", params=params, headers={"Accept": "application/json"})
        assert first.status_code == 200
        etag = first.headers["etag"]
        assert (
            etag.startswith('"')
            and etag == '"' + hashlib.sha256(first.content).hexdigest()[:40] + '"'
        )
        assert first.headers["cache-control"] == "private, no-cache"
        assert "authorization" in first.headers["vary"].lower()

        again = await http.get("/graphql", params=params, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag

        await http.post("/graphql", json={"query": CREATE_TAG, "variables": {"name": "new"}})
        changed = await http.get("/graphql", params=params, headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["etag"] != etag
        assert changed.json()["data"]["tags"]["edges"][0]["node"]["name"] == "new"


async def test_no_etag_on_post_mutations_or_errors(client: Client) -> None:
    async with client() as http:
        post = await http.post("/graphql", json={"query": TAGS})
        assert "etag" not in post.headers
        mutation = await http.post(
            "/graphql", json={"query": CREATE_TAG, "variables": {"name": "x"}}
        )
        assert "etag" not in mutation.headers
        error = await http.get("/graphql", params={"query": "{ tags(first: 1) { nope } }"})
        assert error.json()["errors"] and "etag" not in error.headers
        over_get = await http.get(
            "/graphql", params={"query": CREATE_TAG, "variables": '{"name": "y"}'}
        )
        assert over_get.status_code == 400 and "etag" not in over_get.headers
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "etag" not in page.headers  # GraphiQL
        health = await http.get("/healthz")
        assert "etag" not in health.headers


async def test_a_gzipped_get_has_a_weak_etag_that_revalidates(client: Client) -> None:
    async with client() as http:
        params = {"query": LARGE}
        first = await http.get("/graphql", params=params, headers={"Accept-Encoding": "gzip"})
        assert first.headers["content-encoding"] == "gzip"
        etag = first.headers["etag"]
        assert etag.startswith('W/"')
        again = await http.get(
            "/graphql", params=params, headers={"Accept-Encoding": "gzip", "If-None-Match": etag}
        )
        assert again.status_code == 304
