"""The audit sink: one ``system_logs`` row per mutation, in its own transaction
(so a refused or failed mutation, whose own writes rolled back, is still recorded).

A record is never lost for what it holds: details that cannot be stored as they
are (too large once serialized, or refused by ``db.values`` or the database)
are replaced by a marker saying why, and if the row still cannot be written it
is written again without details, its action, user, status and error kept.
"""

from __future__ import annotations

import logging
from typing import Any

from expgraph.db.engine import Database
from expgraph.db.values import ValueRefused, check_json
from expgraph.domains.accounts import models
from expgraph.graphql.audit import TRUNCATED, storable
from expgraph.graphql.auth import Principal

logger = logging.getLogger("expgraph.audit")


class SystemLogSink:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self,
        principal: Principal,
        action: str,
        status: str,
        details: dict[str, Any],
        error: str | None,
    ) -> None:
        details = {**details}
        if principal.api_key_id is not None:
            details["apiKeyId"] = principal.api_key_id
        action = storable(action)[:100]
        error = storable(error) if error is not None else None
        try:
            check_json(details)
        except ValueRefused as exc:
            details = {TRUNCATED: f"details not recorded: {exc}"}
        try:
            await self._write(principal, action, status, details, error)
        except Exception:
            logger.exception("could not write the audit details of %s; writing it without", action)
            await self._write(
                principal, action, status, {TRUNCATED: "details could not be stored"}, error
            )

    async def _write(
        self,
        principal: Principal,
        action: str,
        status: str,
        details: dict[str, Any] | None,
        error: str | None,
    ) -> None:
        async with self.db.transaction() as session:
            session.add(
                models.SystemLog(
                    user_id=principal.user_id,
                    action=action,
                    status=status,
                    details=details,
                    error_message=error,
                )
            )
