"""GraphiQL's vendored assets are exactly what scripts/vendor-graphiql copied from
the npm packages locked in scripts/graphiql/package-lock.json (a hand edit, a
missing or extra file, or a lock moved without re-vendoring fails), and the page
and its files are served by expgraph, publicly, with a same-origin-only CSP."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.graphql.graphiql import STATIC_DIR

ROOT = Path(__file__).resolve().parents[1]
VENDORED = STATIC_DIR / "graphiql"
LOCK = ROOT / "scripts" / "graphiql" / "package-lock.json"
PACKAGE = ROOT / "scripts" / "graphiql" / "package.json"
HTML = {"accept": "text/html"}


def manifest() -> list[dict[str, str]]:
    files: list[dict[str, str]] = json.loads((VENDORED / "MANIFEST.json").read_text())["files"]
    return files


def test_vendored_files_are_those_of_the_manifest():
    entries = manifest()
    on_disk = {path.name for path in VENDORED.iterdir()} - {"MANIFEST.json"}
    assert on_disk == {entry["file"] for entry in entries}
    for entry in entries:
        digest = hashlib.sha256((VENDORED / entry["file"]).read_bytes()).hexdigest()
        assert digest == entry["sha256"], f"{entry['file']} differs from {entry['package']}'s"
    # Every package has its licence beside its files.
    packages = {entry["package"] for entry in entries}
    licensed = {entry["package"] for entry in entries if entry["kind"] == "licence"}
    assert packages == licensed


def test_manifest_versions_are_the_locked_ones():
    locked = json.loads(LOCK.read_text())["packages"]
    wanted = json.loads(PACKAGE.read_text())["dependencies"]
    for entry in manifest():
        package = entry["package"]
        assert locked[f"node_modules/{package}"]["version"] == entry["version"], package
        assert wanted[package] == entry["version"], f"{package}: pin an exact version"
    # The lock is the package.json's: its own record of the pins matches.
    assert locked[""]["dependencies"] == wanted


async def test_the_page_loads_only_same_origin_files(http: httpx.AsyncClient):
    page = await http.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self';" in csp
    assert "connect-src 'self' ws://test wss://test" in csp
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s == "data:," or s.startswith("graphql/static/") for s in sources), (
        sources  # relative to /graphql: no other origin, and a proxy's prefix is kept
    )
    for source in sources[1:]:
        asset = await http.get(f"/{source}")
        assert asset.status_code == 200, source


@pytest.fixture
def auth_app(settings: Settings, db: Database) -> Any:
    return create_app(settings.model_copy(update={"auth_enabled": True}), db=db)


async def test_page_and_files_are_public_and_queries_still_need_a_credential(auth_app: Any):
    transport = httpx.ASGITransport(app=auth_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        assert (await http.get("/graphql", headers=HTML)).status_code == 200
        script = await http.get("/graphql/static/graphiql/graphiql.min.js")
        assert script.status_code == 200 and len(script.content) > 1_000_000
        body = (
            await http.post("/graphql", json={"query": "{ experiments { totalCount } }"})
        ).json()
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_graphiql_off_serves_neither_page_nor_files(settings: Settings, db: Database):
    app = create_app(settings.model_copy(update={"graphiql": False}), db=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        page = await http.get("/graphql", headers=HTML)
        assert not page.headers["content-type"].startswith("text/html")
        assert (await http.get("/graphql/static/expgraph-graphiql.js")).status_code == 404
