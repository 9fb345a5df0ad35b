"""Settings, read from the environment (prefix ``EXPGRAPH_``) and ``.env``.

Nothing else in expgraph reads the environment: every knob is a field here.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SQLITE_PATH = Path("expgraph.db")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="EXPGRAPH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///file.db or postgresql+asyncpg://...",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    log_level: str = "info"

    # Garbage collector: freeze what exists at startup (the schema, mappers, caches)
    # and collect the youngest generation every this many allocations (CPython's
    # default is 700). 0 leaves the collector as CPython sets it.
    gc_threshold: int = Field(default=10_000, ge=0)

    db_pool_size: int = 10
    db_max_overflow: int = 10
    # A round trip to the server at every checkout (SQLAlchemy's pre-ping). Off,
    # a connection the server has closed (a restart, a terminated backend) is
    # still found and replaced at checkout, from its socket, without a round trip.
    db_pre_ping: bool = False
    # PostgreSQL: a statement running longer than this is cancelled by the server
    # and the request answers TIMEOUT (set on every connection at connect); 0: no limit.
    db_statement_timeout_ms: int = Field(default=15_000, ge=0)
    # Seconds a request waits for a pooled connection when all are busy before it
    # answers UNAVAILABLE (SQLAlchemy's pool_timeout), so slow queries cannot queue
    # every other request behind them.
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    sqlite_busy_timeout_ms: int = 15_000
    echo_sql: bool = False

    page_size_default: int = 50
    page_size_max: int = 500
    # Request limits (graphql/limits.py), each checked in time linear in the request.
    # Nesting of fields with a selection (introspection fields aside).
    max_query_depth: int = 12
    # Aliases, counted where they end up once fragments are expanded.
    max_aliases: int = 30
    # Tokens of a document (the parser stops past it).
    max_tokens: int = 5_000
    # Characters of a document, comments and whitespace included (checked before parsing).
    max_query_chars: int = Field(default=100_000, ge=1)
    # Fragment spreads written in a document (`...Name`, not expanded).
    max_fragment_spreads: int = Field(default=100, ge=0)
    # Fields of a document once its fragments are expanded.
    max_fields: int = Field(default=1_000, ge=1)
    # Cost of an operation: each page costs its size (`first`/`last` or the default)
    # and each item of a list argument (`nodes(ids:)`) one, summed over the operation.
    max_query_cost: int = Field(default=10_000, ge=1)
    # Bytes of an HTTP request body; past it the request is refused with 413.
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1)
    # JSON values (inputs of the JSON scalar and JSON columns): at most this many
    # bytes once serialized, and nested at most this deep; larger ones are refused.
    max_json_bytes: int = Field(default=256 * 1024, ge=1)
    max_json_depth: int = Field(default=32, ge=1)
    # GraphiQL at GET /graphql for browsers, every file served by expgraph itself
    # (graphql/graphiql.py, /graphql/static/); false: no page and no static files.
    graphiql: bool = True
    # CORS (graphql/http.py): the origins (scheme://host[:port]) whose pages may call
    # the API from a browser, with credentials (cookies, Authorization); "*" also lets
    # any other origin in, without credentials. Empty (the default): no CORS headers,
    # only same-origin pages. Comma-separated or a JSON list.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Persisted queries (graphql/persisted.py): "auto" (Apollo's Automatic Persisted
    # Queries, documents kept in a per-process LRU of persisted_queries_cache_size),
    # "allowlist" (only the documents of persisted_queries_file run: a JSON object
    # hash -> document, an Apollo manifest, or a directory of .graphql files) or "off".
    persisted_queries: Literal["auto", "allowlist", "off"] = "auto"
    persisted_queries_cache_size: int = Field(default=1_000, ge=1)
    persisted_queries_file: Path | None = None
    # gzip a response when the client accepts it and the body has at least this many bytes.
    gzip: bool = True
    gzip_min_bytes: int = Field(default=1024, ge=0)
    # The fast path (graphql/fastpath/, db/direct.py, db/records.py): expgraph's own
    # executor, pages' relationships loaded ahead, loader statements straight on
    # asyncpg, rows as bare records. Off: strawberry's stock execution and SQLAlchemy's
    # ORM, same answers, slower. It also turns itself off, with one warning, when a
    # private part of graphql-core, strawberry or SQLAlchemy it needs is not there
    # (expgraph/compat.py checks them at startup).
    fast_path: bool = True
    # The read-query compiler (graphql/compiled/): a query's root field it covers
    # (node(id:), top-level connections, their nodes' columns and to-one
    # relationships) is answered by one SQL statement building its JSON in the
    # database; everything else takes the executor. Off: every field takes the executor.
    compile_queries: bool = True

    # Authentication (off for the local embedded server: every caller is an admin).
    auth_enabled: bool = False
    session_ttl_hours: int = 24 * 7
    session_cookie_name: str = "expgraph_session"
    cookie_secure: bool = Field(default=False, description="Mark the session cookie Secure.")
    # Sign-in throttling (see domains/accounts/sessions.py): failures per (account,
    # client address) pair within the window; from this many on, the pair waits
    # base * 2^(failures - max) seconds after its last failure, at most the cap.
    # One address gets the same treatment across accounts at 4x as many failures.
    login_max_failures: int = Field(default=5, ge=1)
    login_failure_window_minutes: int = Field(default=15, ge=1)
    login_delay_base_seconds: int = Field(default=1, ge=1)
    login_delay_max_seconds: int = Field(default=900, ge=1)
    # Proxies trusted to say who the client is (comma-separated addresses or
    # networks, or "*"): uvicorn then takes the client address and scheme from their
    # X-Forwarded-For / X-Forwarded-Proto. Empty: forwarded headers are ignored and
    # the client is the connection's peer (what sign-in throttling and logs use).
    forwarded_allow_ips: str = ""
    totp_issuer: str = "expgraph"
    # Execution claims: a claim whose last heartbeat is older than this many seconds
    # is orphaned (another worker may take it over). A toggle within the cooldown of
    # the last one is refused with COOLDOWN.
    execution_stale_seconds: int = 600
    execution_toggle_cooldown_seconds: int = 5
    # Fernet key (urlsafe base64, 32 bytes) encrypting custom-provider credentials.
    encryption_key: str | None = None
    # Request logging: a bounded queue drained by a background writer.
    request_log_enabled: bool = True
    request_log_queue_size: int = 10_000
    request_log_sample_rate: float = Field(default=0.1, ge=0, le=1)
    request_log_flush_seconds: float = 1.0
    # A/B metric aggregates: `serve` refreshes metric_aggregates (only the buckets with new
    # events) every this many seconds; 0 turns the periodic task off (`expgraph abtest
    # aggregate` does it on demand).
    abtest_aggregate_interval: float = Field(default=0, ge=0)
    # abTestUpdates subscriptions re-read their counts at least this often (seconds), also
    # when no assignment notification arrived (writes made outside the API).
    abtest_updates_poll_seconds: float = Field(default=10, gt=0)
    # Notifications delivery (domains/notifications/deliver.py): `serve` runs a deliverer
    # in the background unless disabled (`expgraph deliver` runs one on its own). It polls
    # every poll_seconds, claims batch_size outbox events / deliveries at a time, takes over
    # a deliverer's claims older than stale_seconds, and retries a failed e-mail or webhook
    # up to max_attempts times, the n-th retry after about backoff_base_seconds * 2^(n-1)
    # (with jitter). API keys expiring within api_key_expiry_warning_days get one warning.
    delivery_enabled: bool = True
    delivery_poll_seconds: float = Field(default=5, gt=0)
    delivery_batch_size: int = Field(default=50, ge=1)
    delivery_stale_seconds: int = Field(default=300, ge=1)
    delivery_max_attempts: int = Field(default=5, ge=1)
    delivery_backoff_base_seconds: float = Field(default=30, ge=0)
    api_key_expiry_warning_days: int = Field(default=7, ge=0)
    # E-mail (domains/notifications/email.py, digests.py), sent over SMTP with aiosmtplib:
    # the server's host and port; TLS "none" (plain), "starttls" (upgrade after
    # connecting, usually port 587) or "tls" (TLS from the start, usually port 465);
    # credentials (no login when the username is empty; the password is never
    # logged, stored or served); the From address; seconds an SMTP exchange may take.
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_tls: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = "expgraph@localhost"
    smtp_timeout_seconds: float = Field(default=30, gt=0)
    # Webhooks (domains/notifications/webhooks.py): seconds one delivery request may
    # take (connect, send, answer) before it fails as a timeout; after this many
    # failed deliveries in a row a webhook is deactivated and its owner notified;
    # how many bytes of a receiver's answer each webhook_logs row keeps.
    webhook_timeout_seconds: float = Field(default=10, gt=0)
    webhook_max_consecutive_failures: int = Field(default=10, ge=1)
    webhook_response_body_max_bytes: int = Field(default=2_000, ge=0)
    # Off: webhook URLs whose host resolves to a loopback, private, link-local,
    # multicast, reserved or unspecified address are refused (at creation and at
    # every delivery). On: allowed (tests, receivers on a private network).
    webhook_allow_private_addresses: bool = False

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        """A comma-separated string or a JSON list; each origin without a trailing /."""
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if isinstance(value, list):
            origins = [str(origin).strip().rstrip("/") for origin in value]
            origins = [origin for origin in origins if origin]
            for origin in origins:
                if origin != "*" and not origin.startswith(("http://", "https://")):
                    raise ValueError(f"{origin!r} is not an origin (scheme://host[:port])")
            return origins
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()
