"""The audit trail hook: every mutation, allowed or refused, is reported once.

The kernel only knows the ``AuditSink`` protocol; the accounts domain writes
the rows. The ``Audited`` field extension wraps a mutation *outside* its
permission check, so refusals are recorded too.

What is recorded is the mutation's arguments with their secrets redacted
(``redact``) and made storable whatever they hold (``storable``): NUL
characters escaped, non-finite numbers and integers past 64 bits as strings,
values nested too deep or too large cut with a marker. A sink that still
cannot store the details stores the record without them (status and error
kept): a record is never dropped for what its input held.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import math
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

from strawberry.extensions import FieldExtension

from expgraph.graphql.auth import Principal
from expgraph.graphql.errors import as_expected, camel
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


TRUNCATED = "[TRUNCATED]"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates
MAX_DETAIL_DEPTH = 16
MAX_DETAIL_STRING = 10_000
MAX_DETAIL_ITEMS = 1_000
# A mutation's list arguments are recorded up to this many items, then counted: a
# batch of 1,000 events or runs is audited as its first items and how many more
# (walking and storing all of them cost a bulk write more than the write itself).
AUDIT_LIST_ITEMS = 100


def storable(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON any database stores: NUL (and lone surrogates) escaped
    as text (``\\u0000``),
    NaN/Infinity and integers past 64 bits as strings, strings longer than
    ``MAX_DETAIL_STRING`` and lists or objects longer than ``MAX_DETAIL_ITEMS``
    cut (with ``TRUNCATED``), and anything nested deeper than ``MAX_DETAIL_DEPTH``
    replaced by ``TRUNCATED``. Other values are kept as they are."""
    if isinstance(value, str):
        if len(value) > MAX_DETAIL_STRING:
            value = value[:MAX_DETAIL_STRING] + TRUNCATED
        return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict | list | tuple):
        if depth >= MAX_DETAIL_DEPTH:
            return TRUNCATED
        if isinstance(value, dict):
            items = list(value.items())
            out = {storable(str(k)): storable(v, depth + 1) for k, v in items[:MAX_DETAIL_ITEMS]}
            if len(items) > MAX_DETAIL_ITEMS:
                out[TRUNCATED] = f"{len(items) - MAX_DETAIL_ITEMS} more keys"
            return out
        kept = [storable(v, depth + 1) for v in value[:MAX_DETAIL_ITEMS]]
        if len(value) > MAX_DETAIL_ITEMS:
            kept.append(f"{TRUNCATED} {len(value) - MAX_DETAIL_ITEMS} more items")
        return kept
    return value


def _graphql_name(field: dataclasses.Field[Any]) -> str:
    """An input field's GraphQL name: its declared name, else its camelCase
    (the names a client sends, so the record reads like the request)."""
    declared = getattr(field, "graphql_name", None)
    return str(declared) if declared else camel(field.name.rstrip("_"))


def plain(value: Any) -> Any:
    """Input objects as JSON-ready data, keyed by their GraphQL field names; JSON
    values (dicts) keep the keys the client sent. Lists past ``AUDIT_LIST_ITEMS``
    keep their first items and say how many more there were."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            _graphql_name(f): plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if type(getattr(value, f.name)).__name__ != "UnsetType"
        }
    if isinstance(value, list | tuple):
        kept = [plain(v) for v in value[:AUDIT_LIST_ITEMS]]
        if len(value) > AUDIT_LIST_ITEMS:
            kept.append(f"{TRUNCATED} {len(value) - AUDIT_LIST_ITEMS} more items")
        return kept
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
        details = storable(redact(plain({camel(k.rstrip("_")): v for k, v in kwargs.items()})))
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
