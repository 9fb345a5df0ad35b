"""The audit trail hook: every mutation, allowed or refused, is reported once.

The kernel only knows the ``AuditSink`` protocol; the accounts domain writes
the rows. The ``Audited`` field extension wraps a mutation *outside* its
permission check, so refusals are recorded too.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

from strawberry.extensions import FieldExtension

from expgraph.graphql.auth import Principal
from expgraph.graphql.errors import as_expected
from expgraph.graphql.redact import redact

logger = logging.getLogger("expgraph.audit")
REFUSED = {"FORBIDDEN", "UNAUTHENTICATED"}


class AuditSink(Protocol):
    async def record(
        self,
        principal: Principal,
        action: str,
        status: str,
        details: dict[str, Any],
        error: str | None,
    ) -> None: ...


def plain(value: Any) -> Any:
    """Input objects as JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if type(getattr(value, f.name)).__name__ != "UnsetType"
        }
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


class Audited(FieldExtension):
    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Any, **kwargs: Any
    ) -> Any:
        sink: AuditSink | None = getattr(info.context, "audit", None)
        action = info.field_name
        details = redact(plain(kwargs))
        try:
            result = await next_(source, info, **kwargs)
        except Exception as exc:
            expected = as_expected(exc)
            if expected is None:
                await _report(sink, info, action, "failure", details, "INTERNAL_SERVER_ERROR")
                raise
            status = "denied" if expected.code in REFUSED else "failure"
            error = f"{expected.code}: {expected.message}"
            await _report(sink, info, action, status, details, error)
            raise
        await _report(sink, info, action, "success", details, None)
        return result


async def _report(
    sink: AuditSink | None,
    info: Any,
    action: str,
    status: str,
    details: dict[str, Any],
    error: str | None,
) -> None:
    if sink is None:
        return
    try:
        await sink.record(info.context.principal, action, status, details, error)
    except Exception:  # the audit must never turn a result into another one
        logger.exception("could not write the audit record of %s", action)
