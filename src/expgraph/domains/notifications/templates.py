"""E-mail templates: a subject, a plain-text body and an HTML body per event
type (``EventType``), and the digest that lists several events grouped by type.

Templates are ``string.Template`` texts filled from the event's payload. A key
the payload lacks (or holds as null) takes the template's fallback ("an
experiment", "unknown"), so an event emitted with less than the template names
still renders; an event type no template knows renders with a generic one. In
the HTML body every value is escaped (``html.escape``); subjects are one line
(line breaks in values become spaces).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from string import Template
from typing import Any

from expgraph.db.outbox import EventType
from expgraph.domains.notifications.models import EmailFrequency


@dataclass(frozen=True)
class Rendered:
    """One e-mail's subject and bodies."""

    subject: str
    text: str
    html: str
    template_name: str


@dataclass(frozen=True)
class _EventTemplate:
    title: str  # the subject, and a digest line's text
    body: str  # one paragraph (plain text; escaped values in HTML)
    defaults: Mapping[str, str]


# Fallbacks for payload keys an event lacks; the keys are the payloads documented
# in events.py (every domain emits those shapes).
_COMMON = {
    "name": "(unnamed)",
    "experiment_id": "unknown",
    "new_status": "unknown",
    "completed_runs": "unknown",
    "expected_runs": "unknown",
    "error": "no error message was given",
    "campaign_id": "unknown",
    "best_value": "none yet",
    "best_accuracy": "none yet",
    "trials": "unknown",
    "job_id": "unknown",
    "kind": "dataset",
    "p_value": "unknown",
    "prefix": "unknown",
    "expires_at": "soon",
    "consecutive_failures": "several",
    "last_error": "unknown",
}

_TEMPLATES: dict[str, _EventTemplate] = {
    EventType.EXPERIMENT_COMPLETED.value: _EventTemplate(
        "Experiment ${name} completed",
        "Experiment ${name} (id ${experiment_id}) has completed.",
        _COMMON,
    ),
    EventType.EXPERIMENT_FAILED.value: _EventTemplate(
        "Experiment ${name} failed",
        "Experiment ${name} (id ${experiment_id}) has failed.",
        _COMMON,
    ),
    EventType.EXECUTION_COMPLETED.value: _EventTemplate(
        "Execution of ${name} completed",
        "The execution of experiment ${name} (id ${experiment_id}) has completed: "
        "${completed_runs} of ${expected_runs} runs recorded.",
        _COMMON,
    ),
    EventType.EXECUTION_FAILED.value: _EventTemplate(
        "Execution of ${name} failed",
        "The execution of experiment ${name} (id ${experiment_id}) has failed after "
        "${completed_runs} of ${expected_runs} runs: ${error}.",
        _COMMON,
    ),
    EventType.HPO_CAMPAIGN_COMPLETED.value: _EventTemplate(
        "Hyperparameter search ${name} finished",
        "The hyperparameter search ${name} (id ${campaign_id}) has finished after "
        "${trials} trials; best objective value: ${best_value}.",
        _COMMON,
    ),
    EventType.NAS_CAMPAIGN_COMPLETED.value: _EventTemplate(
        "Architecture search ${name} finished",
        "The architecture search ${name} (id ${campaign_id}) has finished after "
        "${trials} trials; best validation accuracy: ${best_accuracy}.",
        _COMMON,
    ),
    EventType.DATASET_JOB_COMPLETED.value: _EventTemplate(
        "Dataset job ${name} completed",
        "The ${kind} job ${name} (id ${job_id}) has completed.",
        _COMMON,
    ),
    EventType.DATASET_JOB_FAILED.value: _EventTemplate(
        "Dataset job ${name} failed",
        "The ${kind} job ${name} (id ${job_id}) has failed: ${error}.",
        _COMMON,
    ),
    EventType.ABTEST_SAMPLE_RATIO_MISMATCH.value: _EventTemplate(
        "Sample ratio mismatch in ${name}",
        "The A/B test ${name} (id ${experiment_id}) assigns units in proportions its "
        "allocation does not explain (p-value ${p_value}); its results may be biased.",
        _COMMON,
    ),
    EventType.API_KEY_EXPIRING.value: _EventTemplate(
        "API key ${name} expires ${expires_at}",
        "Your API key ${name} (prefix ${prefix}) expires ${expires_at}. "
        "Create a new key before then to keep your clients working.",
        _COMMON,
    ),
    EventType.WEBHOOK_DEACTIVATED.value: _EventTemplate(
        "Webhook ${name} was deactivated",
        "Your webhook ${name} was deactivated after ${consecutive_failures} failed "
        "deliveries in a row (last error: ${last_error}). Fix the receiver, then enable "
        "it again.",
        _COMMON,
    ),
}

_GENERIC = _EventTemplate("Notification: ${event_label}", "Event ${event_label}.", {})


class _Values(dict[str, str]):
    """A template's values: the payload's (escaped for HTML), else its fallback."""

    def __init__(
        self, payload: Mapping[str, Any], defaults: Mapping[str, str], escape: bool
    ) -> None:
        super().__init__()
        self._payload = payload
        self._defaults = defaults
        self._escape = escape

    def __missing__(self, key: str) -> str:
        value = self._payload.get(key)
        text = self._defaults.get(key, "unknown") if value is None else _text(value)
        return html.escape(text) if self._escape else text


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def event_label(event_type: str) -> str:
    """An event type as words: "experiment_completed" -> "Experiment completed"."""
    words = event_type.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else "Event"


def _template(event_type: str) -> _EventTemplate:
    return _TEMPLATES.get(event_type, _GENERIC)


def _fill(
    template: str,
    event_type: str,
    payload: Mapping[str, Any],
    defaults: Mapping[str, str],
    *,
    escape: bool,
) -> str:
    values = _Values(payload, defaults, escape)
    label = event_label(event_type)
    values["event_label"] = html.escape(label) if escape else label
    return Template(template).substitute(values)


def render_event(event_type: str, payload: Mapping[str, Any] | None) -> Rendered:
    """The e-mail for one event (an immediate notification)."""
    data = payload or {}
    spec = _template(event_type)
    subject = _one_line(_fill(spec.title, event_type, data, spec.defaults, escape=False))
    body = _fill(spec.body, event_type, data, spec.defaults, escape=False)
    body_html = _fill(spec.body, event_type, data, spec.defaults, escape=True)
    text = (
        f"{body}\n\n-- \nexpgraph: change which e-mails you get in your notification preferences.\n"
    )
    page = (
        "<!DOCTYPE html>\n<html><body>\n"
        f"<h1>{html.escape(subject)}</h1>\n<p>{body_html}</p>\n"
        "<p><small>expgraph: change which e-mails you get in your notification "
        "preferences.</small></p>\n</body></html>\n"
    )
    return Rendered(subject, text, page, f"event/{event_type}")


@dataclass(frozen=True)
class DigestItem:
    """One event of a digest."""

    event_type: str
    payload: Mapping[str, Any]
    at: datetime


def render_digest(
    frequency: EmailFrequency,
    period_start: datetime,
    period_end: datetime,
    items: Iterable[DigestItem],
) -> Rendered:
    """One digest: its events grouped by type (types in ``EventType``'s order,
    unknown types after them by name; events oldest first within a type)."""
    order = {member.value: index for index, member in enumerate(EventType)}
    groups: dict[str, list[DigestItem]] = {}
    for item in items:
        groups.setdefault(item.event_type, []).append(item)
    kinds = sorted(groups, key=lambda kind: (order.get(kind, len(order)), kind))
    count = sum(len(group) for group in groups.values())
    word = "Daily" if frequency is EmailFrequency.DAILY else "Weekly"
    last_day = (period_end - timedelta(days=1)).date()
    span = (
        period_start.date().isoformat()
        if frequency is EmailFrequency.DAILY
        else f"{period_start.date().isoformat()} to {last_day.isoformat()}"
    )
    subject = f"{word} digest for {span}: {count} notification{'s' if count != 1 else ''}"
    text_parts = [f"{subject}\n"]
    html_parts = [f"<!DOCTYPE html>\n<html><body>\n<h1>{html.escape(subject)}</h1>\n"]
    for kind in kinds:
        group = sorted(groups[kind], key=lambda item: item.at)
        heading = f"{event_label(kind)} ({len(group)})"
        text_parts.append(f"\n{heading}\n{'-' * len(heading)}\n")
        html_parts.append(f"<h2>{html.escape(heading)}</h2>\n<ul>\n")
        spec = _template(kind)
        for item in group:
            line = _one_line(_fill(spec.body, kind, item.payload, spec.defaults, escape=False))
            line_html = _fill(spec.body, kind, item.payload, spec.defaults, escape=True)
            when = item.at.strftime("%Y-%m-%d %H:%M UTC")
            text_parts.append(f"- {when}: {line}\n")
            html_parts.append(f"<li>{html.escape(when)}: {line_html}</li>\n")
        html_parts.append("</ul>\n")
    footer = "expgraph: change which e-mails you get in your notification preferences."
    text_parts.append(f"\n-- \n{footer}\n")
    html_parts.append(f"<p><small>{footer}</small></p>\n</body></html>\n")
    return Rendered(subject, "".join(text_parts), "".join(html_parts), f"digest/{frequency.value}")


def digest_items(
    rows: Sequence[tuple[str, Mapping[str, Any] | None, datetime]],
) -> list[DigestItem]:
    """Queue rows (event type, data, scheduled_for) as digest items."""
    return [DigestItem(kind, data or {}, at) for kind, data, at in rows]
