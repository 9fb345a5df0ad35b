"""Forwarded headers through a real uvicorn on 127.0.0.1, on SQLite and PostgreSQL:
``X-Forwarded-For`` is believed only from the proxies in
``EXPGRAPH_FORWARDED_ALLOW_IPS`` (none by default), and the address sign-in
records and throttles on is the one uvicorn settled on."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from expgraph.app import create_app
from expgraph.cli import proxy_options
from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.domains.accounts import models, service
from tests.auth_helpers import LOGIN, PASSWORD, rows

WRONG = "not the password at all"


@contextmanager
def served(settings: Settings) -> Iterator[str]:
    """The app (its own database connections, on the server's loop) behind uvicorn
    configured as ``expgraph serve`` configures it, on a free port; stopped after."""
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=5,
        **proxy_options(settings),
    )
    server = uvicorn.Server(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not stop"


@pytest.fixture
async def member(db: Database) -> int:
    async with db.transaction() as session:
        user = await service.create_user(
            session,
            username="member",
            email="member@example.com",
            role=models.UserRole.MEMBER,
            password=PASSWORD,
        )
    return user.id


def _settings(settings: Settings, **changes: Any) -> Settings:
    base = {"auth_enabled": True, "request_log_enabled": False, "login_delay_base_seconds": 60}
    return settings.model_copy(update={**base, **changes})


async def _attempts(url: str, count: int) -> list[str]:
    """Wrong passwords, each claiming another client address."""
    codes = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        for i in range(count):
            response = await http.post(
                "/graphql",
                json={"query": LOGIN, "variables": {"u": "member", "p": WRONG}},
                headers={"x-forwarded-for": f"203.0.113.{i + 1}"},
            )
            codes.append(response.json()["errors"][0]["extensions"]["code"])
    return codes


async def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(settings, db, member):
    assert proxy_options(settings) == {"proxy_headers": False}
    limit = settings.login_max_failures
    with served(_settings(settings)) as url:
        codes = await _attempts(url, limit + 2)
    # A rotating header neither escapes the throttle nor is recorded.
    assert codes == ["UNAUTHENTICATED"] * limit + ["RATE_LIMITED"] * 2
    history = await rows(db, "login_history")
    assert {r["ip_address"] for r in history} == {"127.0.0.1"}


async def test_forwarded_for_is_honoured_from_a_trusted_proxy(settings, db, member):
    trusted = _settings(settings, forwarded_allow_ips="127.0.0.1")
    assert proxy_options(trusted) == {"proxy_headers": True, "forwarded_allow_ips": "127.0.0.1"}
    limit = settings.login_max_failures
    with served(trusted) as url:
        codes = await _attempts(url, limit + 2)
    # Each forwarded client is its own address (the proxy vouches for it).
    assert codes == ["UNAUTHENTICATED"] * (limit + 2)
    history = await rows(db, "login_history")
    assert sorted(r["ip_address"] for r in history) == sorted(
        f"203.0.113.{i + 1}" for i in range(limit + 2)
    )
