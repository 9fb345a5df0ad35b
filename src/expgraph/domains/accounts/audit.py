"""The audit sink: one ``system_logs`` row per mutation, in its own transaction
(so a refused or failed mutation, whose own writes rolled back, is still recorded)."""

from __future__ import annotations

from typing import Any

from expgraph.db.engine import Database
from expgraph.domains.accounts import models
from expgraph.graphql.auth import Principal


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
