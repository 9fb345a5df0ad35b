"""What other domains attach to the experiments hub, which imports none of them.

- A kind's check: the domain that owns a kind (evaluation: execution; training:
  training) checks the values of its input block against its own and other
  domains' tables (a dataset that exists, a version of that dataset) and turns
  their global ids into keys. Registered with ``check_kind``.
- Lifecycle listeners: after an experiment is created (with the whole create
  input, e.g. the tags to put on it) and after it is soft-deleted or restored
  (e.g. the usage counts of its tags). Registered with ``after_create`` and
  ``after_delete_or_restore``.

Each runs in the write's transaction: an error it raises undoes the whole write.
A domain registers when its module is imported; ``expgraph.schema`` imports
every domain.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.domains.experiments.models import Experiment, ExperimentKind

KindCheck = Callable[[AsyncSession, MutableMapping[str, Any], Experiment | None], Awaitable[None]]
"""``(session, values, stored)``: the block's column values (to check and
rewrite in place), and the stored experiment on update (None on create)."""
Created = Callable[[AsyncSession, str, Experiment, Any, int | None], Awaitable[None]]
"""``(session, dialect, experiment, create input, creating user id)``."""
DeletedOrRestored = Callable[[AsyncSession, int, bool], Awaitable[None]]
"""``(session, experiment id, deleted)``: True when soft-deleted, False when restored."""

_KIND_CHECKS: dict[ExperimentKind, list[KindCheck]] = {}
_CREATED: list[Created] = []
_DELETED_OR_RESTORED: list[DeletedOrRestored] = []


def check_kind(kind: ExperimentKind, check: KindCheck) -> KindCheck:
    """Run ``check`` on every create and update of an experiment of ``kind``."""
    _KIND_CHECKS.setdefault(kind, []).append(check)
    return check


def after_create(listener: Created) -> Created:
    _CREATED.append(listener)
    return listener


def after_delete_or_restore(listener: DeletedOrRestored) -> DeletedOrRestored:
    _DELETED_OR_RESTORED.append(listener)
    return listener


async def run_kind_checks(
    session: AsyncSession,
    kind: ExperimentKind,
    values: MutableMapping[str, Any],
    stored: Experiment | None,
) -> None:
    for check in _KIND_CHECKS.get(kind, ()):
        await check(session, values, stored)


async def run_created(
    session: AsyncSession, dialect: str, experiment: Experiment, input: Any, user_id: int | None
) -> None:
    for listener in _CREATED:
        await listener(session, dialect, experiment, input, user_id)


async def run_deleted_or_restored(session: AsyncSession, pk: int, deleted: bool) -> None:
    for listener in _DELETED_OR_RESTORED:
        await listener(session, pk, deleted)
