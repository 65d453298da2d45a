"""Helpdesk shapes -> `TicketData`, the one form every feed (webhook, export, triage
sheet) is reduced to before it reaches the mirror.

Enum values are compared case-insensitively (Zendesk sends "OPEN", exports say "Open").
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings

from cloudcore_crm.lib.text import has_control, single_line
from customers.models import account_code
from support_bridge.choices import TicketPriority, TicketStatus

CODE_RE = re.compile(r"^\s*cc0*(\d{1,7})\s*$", re.IGNORECASE)

STATUSES = {
    "new": TicketStatus.NEW,
    "open": TicketStatus.OPEN,
    "pending": TicketStatus.PENDING,
    "waiting on customer": TicketStatus.PENDING,
    "waiting on third party": TicketStatus.PENDING,
    "hold": TicketStatus.ON_HOLD,
    "on hold": TicketStatus.ON_HOLD,
    "on-hold": TicketStatus.ON_HOLD,
    "solved": TicketStatus.SOLVED,
    "resolved": TicketStatus.SOLVED,
    "closed": TicketStatus.CLOSED,
}
PRIORITIES = {
    "low": TicketPriority.LOW,
    "normal": TicketPriority.MEDIUM,
    "medium": TicketPriority.MEDIUM,
    "high": TicketPriority.HIGH,
    "urgent": TicketPriority.URGENT,
    "1": TicketPriority.LOW,
    "2": TicketPriority.MEDIUM,
    "3": TicketPriority.HIGH,
    "4": TicketPriority.URGENT,
}
# Survey labels on a 0-10 scale: Freshdesk's three-point survey and Zendesk's good/bad
# (the defaults; `settings.SURVEY_LABEL_SCORES` is what is read).
SURVEY_LABELS = {"awesome": 10, "neutral": 5, "not good": 0, "good": 10, "bad": 0}
UNRATED_LABELS = {"", "offered", "unoffered", "not offered", "n/a", "-"}


class PayloadError(ValueError):
    """A value or payload the mirror cannot take; the message says which and why."""


@dataclass
class TicketData:
    """One ticket snapshot from any feed, already normalised."""

    source: str
    external_id: str
    subject: str
    status: str
    priority: str
    opened_at: dt.datetime
    resolved_at: dt.datetime | None = None
    resolution_hours: Decimal | None = None
    satisfaction: int | None = None
    customer_code: str = ""  # CC009, when the helpdesk carried one
    code_from_tag: bool = False
    organization_id: str = ""
    company_name: str = ""
    requester_email: str = ""
    product_name: str = ""
    updated_at: dt.datetime | None = None
    event_at: dt.datetime | None = None
    provenance: str = ""
    tags: list[str] = field(default_factory=list)
    survey_label: str = ""  # a survey label nobody has mapped yet: the ticket has no rating
    rating_event: bool = False  # a `.rated` event: its score applies even when it arrives late


def code_from(text: object) -> str:
    """'cc009', 'CC9', ' CC009 ' -> 'CC009'; anything else -> ''."""
    match = CODE_RE.match(str(text or ""))
    return account_code(int(match.group(1))) if match else ""


def status_from(value: object) -> str:
    text = str(value or "").strip().lower()
    if not text:
        raise PayloadError("Status is empty.")
    # Custom statuses the CRM does not know are still work in progress.
    return STATUSES.get(text, TicketStatus.OPEN)


def priority_from(value: object) -> str:
    text = str(value or "").strip().lower()
    if not text:
        return TicketPriority.MEDIUM
    try:
        return PRIORITIES[text]
    except KeyError:
        raise PayloadError(f"Unknown priority “{value}”.") from None


class UnknownSurveyLabel(PayloadError):
    """A survey label neither the settings nor a steward's mapping knows: the ticket is
    imported without a rating and the label reported (`label`)."""

    def __init__(self, label: str):
        super().__init__(f"Satisfaction “{label}” is neither a 0-10 score nor a known survey label.")
        self.label = label


_OUT_OF = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/|out of|of)\s*(\d+)\s*(?:stars?)?\s*$")


def survey_labels() -> dict[str, int]:
    """The survey labels of `settings.SURVEY_LABEL_SCORES` (0-10), by their compared form."""
    return {
        _label_key(label): score for label, score in getattr(settings, "SURVEY_LABEL_SCORES", SURVEY_LABELS).items()
    }


def _label_key(text: str) -> str:
    return " ".join(str(text or "").lower().split()).strip(" .!")


def satisfaction_from(value: object) -> int | None:
    """A rating on the 0-10 scale: a number (bare numbers on `settings.SURVEY_NUMERIC_SCALE`),
    "4/5" or "4 out of 5" (scaled), or a survey label (`settings.SURVEY_LABEL_SCORES`:
    Freshdesk's three- and five-point surveys, Zendesk's good/bad). Raises
    UnknownSurveyLabel for a label it does not know, PayloadError for a number off the scale."""
    if value is None or isinstance(value, bool):
        return None
    scale = Decimal(10)
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
        scale = Decimal(getattr(settings, "SURVEY_NUMERIC_SCALE", 10))
    else:
        text = _label_key(value)
        if text in UNRATED_LABELS:
            return None
        labels = survey_labels()
        if text in labels:
            return labels[text]
        out_of = _OUT_OF.match(text)
        try:
            if out_of:
                number, scale = Decimal(out_of.group(1)), Decimal(out_of.group(2))
            else:
                number = Decimal(text)
                scale = Decimal(getattr(settings, "SURVEY_NUMERIC_SCALE", 10))
        except InvalidOperation:
            raise UnknownSurveyLabel(str(value).strip()) from None
    if scale not in (5, 10):
        raise PayloadError(f"Satisfaction {value} is on a scale the CRM does not read (out of {scale}).")
    low = 1 if scale == 5 else 0
    if not low <= number <= scale:
        raise PayloadError(f"Satisfaction {value} is outside {low}-{scale}.")
    if scale == 5:
        number = (number - 1) * Decimal("2.5")  # 1-5 onto 0-10
    return int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def helpdesk_zone() -> ZoneInfo:
    return ZoneInfo(settings.SUPPORT_HELPDESK_TIME_ZONE)


def moment_from(value: object, *, required: bool = False, label: str = "time") -> dt.datetime | None:
    """ISO-8601 with a zone, or an export's local 'YYYY-MM-DD HH:MM:SS' / 'DD/MM/YYYY HH:MM'
    (read in the helpdesk's time zone), or an Excel datetime."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise PayloadError(f"{label.capitalize()} is empty.")
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    else:
        text = str(value).strip()
        moment = None
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            for pattern in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d %b %Y %H:%M", "%d %b %Y"):
                try:
                    moment = dt.datetime.strptime(text, pattern)
                    break
                except ValueError:
                    continue
        if moment is None:
            raise PayloadError(f"{label.capitalize()} “{value}” is not a date and time.")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=helpdesk_zone())
    return moment


def hours_from(value: object) -> Decimal | None:
    """'03:26:46' or '06:25' (HH:MM[:SS]) or '3.5' -> hours; blank -> None."""
    if value is None:
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)).quantize(Decimal("0.01"))
    if isinstance(value, dt.time):
        return Decimal(value.hour + value.minute / 60 + value.second / 3600).quantize(Decimal("0.01"))
    text = str(value).strip()
    if not text:
        return None
    if ":" in text:
        parts = text.split(":")
        try:
            numbers = [int(p) for p in parts]
        except ValueError:
            raise PayloadError(f"Duration “{value}” is not HH:MM:SS.") from None
        hours = numbers[0] + numbers[1] / 60 + (numbers[2] / 3600 if len(numbers) > 2 else 0)
        return Decimal(hours).quantize(Decimal("0.01"))
    try:
        return Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise PayloadError(f"Duration “{value}” is not a number of hours.") from None


def elapsed_hours(start: dt.datetime, end: dt.datetime | None) -> Decimal | None:
    if end is None or end < start:
        return None
    return Decimal((end - start).total_seconds() / 3600).quantize(Decimal("0.01"))


def tags_from(value: object) -> list[str]:
    if isinstance(value, list):
        return [_line(tag, 100) for tag in value if _line(tag, 100)]
    return [tag.strip() for tag in _line(value, 10_000).replace(";", ",").split(",") if tag.strip()]


def code_in_tags(tags: list[str]) -> str:
    return next((code for code in map(code_from, tags) if code), "")


# --- Zendesk ticket events -------------------------------------------------------------


@dataclass
class WebhookPayload:
    """The parts of a ticket event the inbox keeps, and the ticket snapshot in it."""

    event_id: str
    event_type: str
    ticket: TicketData


MAX_JSON_DEPTH = 20  # a ticket event nests 3 deep; far deeper is an attack, not a ticket
ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def _depth_within(value: object, limit: int) -> bool:
    """True when `value` nests no deeper than `limit` (iterative: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True


def _identifier(value: object, label: str, *, limit: int = 64) -> str:
    """An event or ticket id: a string or a whole number, plain characters, bounded."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PayloadError(f"`{label}` must be a string or a number.")
    text = str(value).strip()
    if not text:
        raise PayloadError(f"`{label}` is missing.")
    if not ID_RE.match(text[:limit]) or len(text) > limit:
        raise PayloadError(f"`{label}` must be 1-{limit} letters, digits, dots, dashes, colons or underscores.")
    return text


def _line(value: object, limit: int) -> str:
    """A single-line text field: control characters (NUL included) become spaces."""
    return str(single_line(str(value or "")))[:limit]


def parse_event(body: bytes) -> WebhookPayload:
    """A Zendesk ticket event (`type` zen:event-type:ticket.*) -> the ticket snapshot.

    Every event carries the whole ticket in `detail`, so created, updated, status-changed
    and solved events all reduce to "the ticket as of `detail.updated_at`". A rated event
    (our helpdesk's `ticket.rated`) carries the 0-10 score in `event.current`; any event
    may carry it as `detail.satisfaction_score`.
    """
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PayloadError(f"The body is not JSON: {error}") from None
    except RecursionError:
        raise PayloadError(f"The JSON nests deeper than {MAX_JSON_DEPTH} levels.") from None
    if not isinstance(payload, dict):
        raise PayloadError("The body is not a JSON object.")
    if not _depth_within(payload, MAX_JSON_DEPTH):
        raise PayloadError(f"The JSON nests deeper than {MAX_JSON_DEPTH} levels.")
    detail = payload.get("detail")
    if payload.get("id") in (None, "") or not isinstance(detail, dict):
        raise PayloadError("A ticket event needs `id` and a `detail` object.")
    event_id = _identifier(payload.get("id"), "id", limit=100)
    event_type = payload.get("type")
    if not isinstance(event_type, str) or has_control(event_type):
        raise PayloadError("`type` must be a one-line string.")
    event_type = event_type.strip()
    if not event_type.lower().startswith("zen:event-type:ticket."):
        raise PayloadError(f"`{event_type[:100]}` is not a ticket event.")
    if detail.get("id") in (None, ""):
        raise PayloadError("`detail.id` (the ticket id) is missing.")
    ticket_id = _identifier(detail.get("id"), "detail.id")
    event = payload.get("event") if isinstance(payload.get("event"), dict) else {}
    satisfaction = satisfaction_from(detail.get("satisfaction_score"))
    rating_event = event_type.lower().endswith(".rated")
    if rating_event:
        satisfaction = satisfaction_from(event.get("current"))
    raw_status = detail.get("status")
    if not isinstance(raw_status, str) or raw_status.strip().lower() not in STATUSES:
        raise PayloadError(f"Unknown ticket status “{_line(raw_status, 40)}”.")
    status = status_from(raw_status)
    opened = moment_from(detail.get("created_at"), required=True, label="detail.created_at")
    updated = moment_from(detail.get("updated_at"), label="detail.updated_at") or opened
    resolved = updated if status in (TicketStatus.SOLVED, TicketStatus.CLOSED) else None
    tags = tags_from(detail.get("tags"))
    return WebhookPayload(
        event_id=event_id[:100],
        event_type=event_type[:100],
        ticket=TicketData(
            source="zendesk",
            external_id=ticket_id[:64],
            subject=_line(detail.get("subject"), 300) or "(no subject)",
            status=status,
            priority=priority_from(detail.get("priority")),
            opened_at=opened,
            resolved_at=resolved,
            resolution_hours=elapsed_hours(opened, resolved),
            satisfaction=satisfaction,
            customer_code=code_from(detail.get("external_id")) or code_in_tags(tags),
            code_from_tag=not code_from(detail.get("external_id")) and bool(code_in_tags(tags)),
            organization_id=_line(detail.get("organization_id"), 64),
            updated_at=updated,
            event_at=moment_from(payload.get("time"), label="time") or updated,
            provenance=f"webhook event {event_id}"[:300],
            tags=tags,
            rating_event=rating_event,
        ),
    )
