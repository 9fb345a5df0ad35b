"""The `expgraph` command, run as a user would: a real process, real databases."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


def expgraph(*args: str, database_url: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "EXPGRAPH_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "expgraph.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_export_schema_check_passes_on_the_committed_file(tmp_path):
    result = expgraph(
        "export-schema",
        "--check",
        "schema.graphql",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db",
    )
    assert result.returncode == 0, result.stderr
    stale = tmp_path / "stale.graphql"
    stale.write_text("type Query { old: Int }\n")
    result = expgraph(
        "export-schema", "--check", str(stale), database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db"
    )
    assert result.returncode == 1


def test_db_commands_and_serve_refuses_a_postgres_database_behind(database_url, dialect):
    # The per-test database is migrated; take it back to empty first.
    assert expgraph("db", "downgrade", "base", database_url=database_url).returncode == 0
    current = expgraph("db", "current", database_url=database_url)
    assert "current: none" in current.stdout
    if dialect == "postgresql":
        refused = expgraph("serve", "--port", str(_free_port()), database_url=database_url)
        assert refused.returncode == 1
        assert "expgraph db upgrade" in refused.stderr
    assert expgraph("db", "upgrade", database_url=database_url).returncode == 0
    current = expgraph("db", "current", database_url=database_url)
    head = current.stdout.split("head: ")[1].strip()
    assert f"current: {head}" in current.stdout


@pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)
def test_serve_creates_migrates_and_answers(tmp_path, dialect):
    """`expgraph serve` on a fresh SQLite file: migrated on start, GraphQL answers."""
    port = _free_port()
    db_file = tmp_path / "fresh.db"
    env = {**os.environ, "EXPGRAPH_DATABASE_URL": f"sqlite+aiosqlite:///{db_file}"}
    server = subprocess.Popen(
        [sys.executable, "-m", "expgraph.cli", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.2)
        created = httpx.post(
            f"{base}/graphql",
            json={"query": 'mutation { createTag(input: {name: "served"}) { tag { slug } } }'},
        )
        assert created.json() == {"data": {"createTag": {"tag": {"slug": "served"}}}}
        page = httpx.get(f"{base}/graphql", headers={"accept": "text/html"})
        assert "graphiql" in page.text.lower()
        assert db_file.exists()
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_create_admin_bootstraps_a_signed_in_admin(database_url):
    args = (
        "users",
        "create-admin",
        "--username",
        "root",
        "--email",
        "root@example.com",
        "--password",
        "a very long password",
    )
    created = expgraph(*args, database_url=database_url)
    assert created.returncode == 0, created.stderr
    assert "created admin root" in created.stdout
    again = expgraph(*args, database_url=database_url)
    assert again.returncode == 1
    assert "taken" in again.stderr
    short = expgraph(
        "users",
        "create-admin",
        "--username",
        "x1x",
        "--email",
        "x@example.com",
        "--password",
        "short",
        database_url=database_url,
    )
    assert short.returncode == 1


def test_serve_warns_when_exposed_without_auth(tmp_path):
    env = {**os.environ, "EXPGRAPH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/w.db"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "expgraph.cli",
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            str(_free_port()),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        lines = []
        assert server.stderr is not None
        while time.monotonic() < deadline:
            line = server.stderr.readline()
            lines.append(line)
            if "WARNING" in line or not line:
                break
        assert any("authentication is off" in line for line in lines), lines
    finally:
        server.terminate()
        server.wait(timeout=20)
