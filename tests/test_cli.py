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


def expgraph(
    *args: str, database_url: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the command as a script would: no terminal on stdin."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "EXPGRAPH_ADMIN_PASSWORD"},
        "EXPGRAPH_DATABASE_URL": database_url,
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "expgraph.cli", *args],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
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


def _head_and_previous() -> tuple[str, str]:
    from alembic.script import ScriptDirectory

    from expgraph.db import migrate

    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    head = script.get_revision("head")
    assert head is not None and isinstance(head.down_revision, str)
    return head.revision, head.down_revision


def test_db_downgrade_and_upgrade_print_the_revision_reached(database_url):
    head, previous = _head_and_previous()
    one_step = expgraph("db", "downgrade", database_url=database_url)
    assert one_step.returncode == 0, one_step.stderr
    assert one_step.stdout.strip() == f"downgraded to {previous}"
    to_base = expgraph("db", "downgrade", "base", database_url=database_url)
    assert to_base.stdout.strip() == "downgraded to base"
    up = expgraph("db", "upgrade", database_url=database_url)
    assert up.stdout.strip() == f"upgraded to {head}"


def test_db_current_and_downgrade_create_no_sqlite_file(tmp_path):
    db_file = tmp_path / "typo.db"
    url = f"sqlite+aiosqlite:///{db_file}"
    for args in (("db", "current"), ("db", "downgrade")):
        result = expgraph(*args, database_url=url)
        assert result.returncode == 1
        assert f"no database at {db_file}" in result.stderr
        assert not db_file.exists()
    assert expgraph("db", "upgrade", database_url=url).returncode == 0
    head, _ = _head_and_previous()
    assert f"current: {head}" in expgraph("db", "current", database_url=url).stdout


def test_create_admin_without_a_terminal_says_how_to_give_the_password(database_url):
    args = ("users", "create-admin", "--username", "ops", "--email", "ops@example.com")
    refused = expgraph(*args, database_url=database_url)
    assert refused.returncode == 2
    assert "--password" in refused.stderr and "EXPGRAPH_ADMIN_PASSWORD" in refused.stderr
    assert "Aborted" not in refused.stderr + refused.stdout
    helped = expgraph("users", "create-admin", "--help", database_url=database_url)
    assert "asked for on the terminal" in " ".join(helped.stdout.split())
    created = expgraph(
        *args, database_url=database_url, env={"EXPGRAPH_ADMIN_PASSWORD": "a very long password"}
    )
    assert created.returncode == 0, created.stderr
    assert "created admin ops" in created.stdout


@pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)
def test_create_admin_prompts_for_the_password_on_a_terminal(tmp_path, dialect):
    """On a terminal the password is asked for, hidden, twice; then the admin exists."""
    import pty
    import select
    import signal
    import termios

    url = f"sqlite+aiosqlite:///{tmp_path}/t.db"
    assert expgraph("db", "upgrade", database_url=url).returncode == 0
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command on a terminal
        os.chdir(ROOT)
        os.environ["EXPGRAPH_DATABASE_URL"] = url
        os.environ.pop("EXPGRAPH_ADMIN_PASSWORD", None)
        os.execv(
            sys.executable,
            [sys.executable, "-m", "expgraph.cli", "users", "create-admin",
             "--username", "tty", "--email", "tty@example.com"],
        )  # fmt: skip
    output = b""
    prompts = [b"Password for tty", b"Repeat for confirmation"]  # each answered once
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if prompts and prompts[0] in output and not termios.tcgetattr(fd)[3] & termios.ECHO:
            # Answer only once echo is off: getpass turns it off with TCSAFLUSH,
            # which drops whatever was typed before (the prompt shows first).
            prompts.pop(0)
            os.write(fd, b"a very long password\n")
        ready, _, _ = select.select([fd], [], [], 0.05)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # the child exited
            break
        if not chunk:
            break
        output += chunk
    else:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    text = output.decode()
    assert "Password for tty (at least 12 characters)" in text
    assert "a very long password" not in text  # hidden
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "created admin tty" in text


def test_demo_twice_refuses_unless_append(database_url):
    first = expgraph("demo", "--experiments", "10", database_url=database_url)
    assert first.returncode == 0, first.stderr
    assert "experiments: 10" in first.stdout
    again = expgraph("demo", "--experiments", "10", database_url=database_url)
    assert again.returncode == 1
    assert "already holds demo data" in again.stderr and "--append" in again.stderr
    appended = expgraph("demo", "--experiments", "10", "--append", database_url=database_url)
    assert appended.returncode == 0, appended.stderr
    assert "experiments: 10" in appended.stdout


@pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)
def test_serve_with_more_workers_than_cpus_warns_and_starts_them_all(tmp_path, dialect):
    """Two workers pinned to one CPU: a warning, migrations once before the workers,
    and both workers up and answering (none killed by uvicorn's startup health check)."""
    port = _free_port()
    db_file = tmp_path / "workers.db"
    log = tmp_path / "serve.log"
    env = {**os.environ, "EXPGRAPH_DATABASE_URL": f"sqlite+aiosqlite:///{db_file}"}
    with log.open("w") as out:
        server = subprocess.Popen(
            ["taskset", "-c", "0", sys.executable, "-m", "expgraph.cli", "serve",
             "--port", str(port), "--workers", "2"],
            env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 90
            while log.read_text().count("Application startup complete.") < 2:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
            assert ready.json() == {"status": "ready"}
        finally:
            server.terminate()
            server.wait(timeout=30)
    text = log.read_text()
    assert "WARNING: 2 workers on 1 CPU(s)" in text
    assert "consider --workers 1" in text
    assert "died" not in text
