"""The per-request context: database, settings, caller, and lazily made loaders."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.db.notify import Broker
from expgraph.graphql.audit import AuditSink
from expgraph.graphql.auth import Principal

MAX_BATCH = 1000


class LoaderSpec(Hashable, Protocol):
    """What a DataLoader loads; equal specs share one loader per request."""

    async def load(self, db: Database, keys: list[Any]) -> list[Any]: ...


@dataclass
class Context:
    db: Database
    settings: Settings
    principal: Principal
    request: Any = None
    response: Any = None
    audit: AuditSink | None = None
    broker: Broker | None = None
    # A WebSocket's connection_init payload (strawberry sets it; None over HTTP).
    connection_params: dict[str, Any] | None = None
    memo: dict[Hashable, Any] = field(default_factory=dict)  # per-request answers
    # What answered the whole operation when compiled statements did, by
    # response key: (statement, nullable); see graphql/compiled/answers.py.
    compiled: dict[str, tuple[Any, bool]] | None = None
    _loaders: dict[Hashable, DataLoader[Any, Any]] = field(default_factory=dict)
    _by_identity: dict[int, tuple[Any, DataLoader[Any, Any]]] = field(default_factory=dict)

    async def notify(self, experiment_id: int) -> None:
        """Tell subscribers (in every process) that an execution changed."""
        if self.broker is not None:
            await self.broker.publish("execution_updates", str(experiment_id))

    async def publish(self, channel: str, message: str) -> None:
        """Send ``message`` to the subscribers of ``channel`` in every process."""
        if self.broker is not None:
            await self.broker.publish(channel, message)

    def fresh(self) -> Context:
        """The same caller with empty loader caches (long-lived subscriptions)."""
        return Context(
            db=self.db,
            settings=self.settings,
            principal=self.principal,
            request=self.request,
            audit=self.audit,
            broker=self.broker,
        )

    def loader(self, spec: LoaderSpec) -> DataLoader[Any, Any]:
        # Most specs are constants (a field's), asked for once per row of a
        # page: found by identity first, without hashing a nested dataclass.
        known = self._by_identity.get(id(spec))
        if known is not None and known[0] is spec:
            return known[1]
        loader = self._loaders.get(spec)
        if loader is None:
            db = self.db

            async def batch(keys: list[Any]) -> list[Any]:
                return await spec.load(db, keys)

            loader = DataLoader(load_fn=batch, max_batch_size=MAX_BATCH)
            self._loaders[spec] = loader
        self._by_identity[id(spec)] = (spec, loader)  # (the spec kept alive with it)
        return loader


Info = strawberry.Info[Context, None]


class SharedReadsForQueries(SchemaExtension):
    """A query reads through one session for the whole request (one connection
    checkout instead of one per loader batch); mutations keep a session per read."""

    def on_execute(self) -> Iterator[None]:
        query = self.execution_context.operation_type is OperationType.QUERY
        self.execution_context.context.db.share_reads(query)
        yield
