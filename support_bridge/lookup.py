"""The agent lookup: find a client from whatever the caller gives, then everything an
agent needs on a call (seed 001 section 7), in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from customers.models import Account, Activity, Contact, Opportunity, Subscription
from support_bridge.models import Ticket
from support_bridge.payloads import code_from
from support_bridge.querysets import OPEN_TICKETS_SHOWN

MAX_CANDIDATES = 10
LAST_ACTIVITIES = 5
MAX_QUERY_LENGTH = 100


@dataclass
class LookupResult:
    query: str
    account: Account | None = None  # exactly one client found
    candidates: list[Account] = field(default_factory=list)  # several: the agent picks


def _for_call() -> QuerySet:
    return (
        Account.objects.for_list()
        .select_related("risk_score")
        .prefetch_related(
            Prefetch("contacts", queryset=Contact.objects.all()),
            Prefetch(
                "subscriptions",
                queryset=Subscription.objects.live().select_related("product"),
                to_attr="live_subscriptions",
            ),
            Prefetch(
                "opportunities",
                queryset=Opportunity.objects.open().select_related("owner", "product"),
                to_attr="open_opportunities",
            ),
            Prefetch("activities", queryset=Activity.objects.timeline()[:LAST_ACTIVITIES], to_attr="last_activities"),
            Prefetch("tickets", queryset=Ticket.objects.for_panel()[:OPEN_TICKETS_SHOWN], to_attr="open_tickets"),
        )
    )


def _account_ids(text: str) -> list[int]:
    """Accounts matching the text, by the kinds of search its shape allows.

    Unordered, limited queries: ordering by an indexed column under a LIMIT would let the
    planner walk that index through every row when nothing matches.
    """
    code = code_from(text)
    if code:
        return list(Account.objects.filter(code=code).values_list("pk", flat=True))
    found: list[int] = []
    ticket_id = text.lstrip("#").strip()
    if ticket_id and " " not in ticket_id and "@" not in ticket_id:
        tickets = Ticket.objects.filter(external_id=ticket_id).order_by().values_list("account_id", flat=True)
        found = list(dict.fromkeys(tickets[:MAX_CANDIDATES]))
        # "#2734" is a ticket; so is a bare number that names one (not a phone fragment).
        if text.startswith("#") or (found and ticket_id.isdigit()):
            return found
    queries = []
    if "@" not in text:  # an email address names a person, not a company
        queries.append(Account.objects.search(text).order_by().values_list("pk", flat=True))
    queries.append(Contact.objects.search(text).order_by().values_list("account_id", flat=True))
    for queryset in queries:
        for pk in queryset[:MAX_CANDIDATES]:
            if pk not in found:
                found.append(pk)
    return found[:MAX_CANDIDATES]


def find(text: str) -> LookupResult:
    """By client code, name or alias, contact email or phone, or helpdesk ticket id."""
    text = (text or "").strip()[:MAX_QUERY_LENGTH]
    result = LookupResult(query=text)
    if not text:
        return result
    ids = _account_ids(text)
    if len(ids) == 1:
        result.account = _for_call().get(pk=ids[0])
    elif ids:
        result.candidates = list(Account.objects.for_list().filter(pk__in=ids))
    return result


def _person(user) -> dict | None:
    return {"name": user.get_full_name() or user.username, "email": user.email} if user else None


def as_json(result: LookupResult) -> dict:
    """The lookup for the helpdesk's sidebar: plain JSON, dates as ISO strings."""
    if result.account is None:
        return {
            "query": result.query,
            "matches": [
                {"code": a.code, "name": a.display_name, "url": a.get_absolute_url()} for a in result.candidates
            ],
            "account": None,
        }
    a = result.account
    risk = getattr(a, "risk_score", None)  # None when the account has no score yet
    return {
        "query": result.query,
        "matches": [{"code": a.code, "name": a.display_name, "url": a.get_absolute_url()}],
        "account": {
            "code": a.code,
            "name": a.display_name,
            "legal_name": a.legal_name,
            "segment": a.segment,
            "status": a.lifecycle_status,
            "contract_value": f"{Decimal(a.contract_value or 0):.2f}",
            "next_renewal": a.next_renewal.isoformat() if a.next_renewal else None,
            "owner": _person(a.owner),
            "coordinator": _person(a.relations_coordinator),
            "products": [
                {
                    "product": s.product.name,
                    "seats": s.seats,
                    "annual_value": str(s.annual_value),
                    "renewal_date": s.renewal_date.isoformat() if s.renewal_date else None,
                    "status": s.status,
                }
                for s in a.live_subscriptions
            ],
            "contacts": [
                {"name": c.full_name, "email": c.email, "phone": c.phone, "primary": c.is_primary}
                for c in a.contacts.all()
            ],
            "open_opportunities": [
                {"name": o.name, "kind": o.kind, "stage": o.stage, "amount": str(o.amount), "owner": _person(o.owner)}
                for o in a.open_opportunities
            ],
            "last_activities": [
                {"when": x.occurred_at.isoformat(), "kind": x.kind, "summary": x.summary} for x in a.last_activities
            ],
            "open_tickets": [
                {
                    "id": t.external_id,
                    "source": t.source,
                    "subject": t.subject,
                    "status": t.status,
                    "priority": t.priority,
                    "opened": t.opened_at.isoformat(),
                }
                for t in a.open_tickets
            ],
            "churn_risk": (
                {
                    "score": risk.score,
                    "band": risk.band,
                    "reasons": risk.reasons,
                    "computed_at": risk.computed_at.isoformat(),
                }
                if risk
                else None
            ),
        },
    }
