"""Domain events: their payloads, how an in-app notification words them, and
the periodic checks that emit API_KEY_EXPIRING and ABTEST_SAMPLE_RATIO_MISMATCH.

Every event is written with ``expgraph.db.outbox.emit`` inside the transaction
of the change (the domains call ``emit`` directly, with the payload shape below:
most may not import this domain). ``user_id`` is the user the event concerns (the
experiment's creator, the key's owner); payload keys are snake_case JSON:

- EXPERIMENT_COMPLETED / EXPERIMENT_FAILED (experiments/service.py, when an
  update moves the status there from another one):
  ``{"experiment_id": int, "name": str, "kind": str, "old_status": str, "new_status": str}``
- EXECUTION_COMPLETED / EXECUTION_FAILED (execution/service.py, when a worker
  releases its claim with every expected run recorded, or with an error):
  ``{"experiment_id": int, "name": str, "completed_runs": int, "expected_runs": int,
  "error": str | None}``
- ABTEST_SAMPLE_RATIO_MISMATCH (abtest.service ``sample_ratio_alerts``, once per
  experiment, when the check first fires):
  ``{"experiment_id": int, "name": str, "p_value": float, "observed": {variant: n},
  "expected": {variant: share}}``
- API_KEY_EXPIRING (``api_keys_expiring``, once per key):
  ``{"api_key_id": int, "name": str, "prefix": str, "expires_at": ISO-8601 str}``
- HPO_CAMPAIGN_COMPLETED (training/hpo.py, when the campaign moves to COMPLETED;
  ``best_value``: the best trial's objective value, ``trials``: trials created,
  failed ones included): ``{"campaign_id": int, "name": str, "best_value": float | None,
  "best_experiment_id": int | None, "trials": int}``
- NAS_CAMPAIGN_COMPLETED (training/nas.py, likewise): ``{"campaign_id": int, "name": str,
  "best_accuracy": float | None, "best_trial_id": int | None, "trials": int}``
- DATASET_JOB_COMPLETED / DATASET_JOB_FAILED (training/dataset_jobs.py, when the
  holder finishes the job; ``kind``: GENERATION or IMPORT, ``status``: COMPLETED or
  FAILED, ``dataset_id``: the dataset it wrote): ``{"job_id": int, "kind": str,
  "name": str, "status": str, "dataset_id": int | None, "error": str | None}``
- WEBHOOK_DEACTIVATED: ``{"webhook_id": int, "name": str, "consecutive_failures": int,
  "last_error": str | None}``
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from expgraph.config import Settings
from expgraph.db.dialect import try_transaction_lock
from expgraph.db.engine import Database
from expgraph.db.outbox import EventType, OutboxEvent, emit
from expgraph.db.types import utcnow
from expgraph.domains.accounts.models import ApiKey


def _name(payload: dict[str, Any]) -> str:
    return str(payload.get("name") or "")


def describe(event_type: str, payload: dict[str, Any]) -> tuple[str, str]:
    """An in-app notification's title and body for an event."""
    name = _name(payload)
    try:
        kind = EventType(event_type)
    except ValueError:
        return event_type.replace("_", " ").capitalize(), ""
    if kind is EventType.EXPERIMENT_COMPLETED:
        return f"Experiment {name} completed", f"Its status went from {payload.get('old_status')}."
    if kind is EventType.EXPERIMENT_FAILED:
        return f"Experiment {name} failed", f"Its status went from {payload.get('old_status')}."
    if kind is EventType.EXECUTION_COMPLETED:
        runs = f"{payload.get('completed_runs')} of {payload.get('expected_runs')} runs"
        return f"Execution of {name} completed", f"{runs} recorded."
    if kind is EventType.EXECUTION_FAILED:
        return f"Execution of {name} failed", str(payload.get("error") or "")
    if kind is EventType.ABTEST_SAMPLE_RATIO_MISMATCH:
        return (
            f"Sample ratio mismatch in {name}",
            f"The assignments differ from the planned split (p = {payload.get('p_value')}).",
        )
    if kind is EventType.API_KEY_EXPIRING:
        return f"API key {name} expires soon", f"It expires at {payload.get('expires_at')}."
    if kind is EventType.WEBHOOK_DEACTIVATED:
        return (
            f"Webhook {name} was deactivated",
            f"After {payload.get('consecutive_failures')} failed deliveries in a row: "
            f"{payload.get('last_error') or ''}".rstrip(": "),
        )
    if kind is EventType.HPO_CAMPAIGN_COMPLETED:
        best = payload.get("best_value")
        found = "no trial completed" if best is None else f"best value {best}"
        return f"HPO campaign {name} completed", f"{payload.get('trials')} trials; {found}."
    if kind is EventType.NAS_CAMPAIGN_COMPLETED:
        best = payload.get("best_accuracy")
        found = "no trial completed" if best is None else f"best accuracy {best}"
        return f"NAS campaign {name} completed", f"{payload.get('trials')} trials; {found}."
    job = " ".join(w for w in ("Dataset", str(payload.get("kind") or "job").lower(), name) if w)
    if kind is EventType.DATASET_JOB_COMPLETED:
        return f"{job} completed", ""
    return f"{job} failed", str(payload.get("error") or "")


KEY_CHECK_LOCK = 0x6E6F7469_6B657973  # "notikeys": one key-expiry check at a time


async def api_keys_expiring(db: Database, settings: Settings) -> int:
    """Periodic (the deliverer's): one API_KEY_EXPIRING event per active key that
    expires within ``EXPGRAPH_API_KEY_EXPIRY_WARNING_DAYS`` and has not been
    warned about yet (an earlier event for the key in the outbox). Returns how
    many were emitted."""
    days = settings.api_key_expiry_warning_days
    if days <= 0:
        return 0
    seconds = int(timedelta(days=days).total_seconds())
    K = ApiKey
    async with db.transaction() as session:
        if not await try_transaction_lock(session, db.dialect, KEY_CHECK_LOCK):
            return 0  # another deliverer is checking right now
        now = (await session.execute(select(utcnow()))).scalar_one()  # the database clock
        keys = (
            await session.scalars(
                select(K).where(
                    K.is_active.is_(True),
                    K.expires_at.is_not(None),
                    K.expires_at > now,
                    K.expires_at <= now + timedelta(seconds=seconds),
                )
            )
        ).all()
        if not keys:
            return 0
        warned = {
            (event.payload or {}).get("api_key_id")
            for event in (
                await session.scalars(
                    select(OutboxEvent).where(
                        OutboxEvent.event_type == EventType.API_KEY_EXPIRING.value,
                        OutboxEvent.user_id.in_({k.user_id for k in keys}),
                    )
                )
            )
        }
        emitted = 0
        for key in keys:
            if key.id in warned:
                continue
            expires = key.expires_at
            await emit(
                session,
                EventType.API_KEY_EXPIRING,
                {
                    "api_key_id": key.id,
                    "name": key.name,
                    "prefix": key.prefix,
                    "expires_at": expires.isoformat() if expires is not None else None,
                },
                user_id=key.user_id,
            )
            emitted += 1
    return emitted
