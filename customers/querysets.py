"""Named reads for the golden record. Each method owns its joins, so pages never run a
query per row and their query count does not grow with the data."""

from __future__ import annotations

import datetime as dt
import re

from django.apps import apps
from django.db import connection, models
from django.db.models import Exists, Min, OuterRef, Prefetch, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from rapidfuzz import fuzz

from customers.choices import DuplicateStatus, OpportunityStage, SubscriptionStatus
from customers.matching import normalise_name, phone_digits

TIMELINE_LENGTH = 20
ALIAS_MATCH_LIMIT = 1000
FUZZY_MIN_LENGTH = 4  # shorter words match too much to be a typo of anything
FUZZY_CANDIDATES = 2000  # SQLite: names compared in Python at most
FUZZY_MIN_SCORE = 80
FUZZY_PG_THRESHOLD = 0.5
_CODE_RE = re.compile(r"^cc\d+$", re.IGNORECASE)
# What the customer list's table prints (templatetags/customer_list.py), besides the
# contract value and next renewal that `for_list()` annotates.
LIST_TABLE_COLUMNS = (
    "code",
    "legal_name",
    "trading_name",
    "office",
    "lifecycle_status",
    "owner__first_name",
    "owner__last_name",
    "relations_coordinator__first_name",
    "relations_coordinator__last_name",
)

# The customer list's sortable columns: ?sort=<key> or ?sort=-<key>.
LIST_SORTS = {
    "code": ("number",),
    "name": ("legal_name",),
    "office": ("office",),
    "status": ("lifecycle_status",),
    "owner": ("owner__first_name", "owner__last_name"),
    "coordinator": ("relations_coordinator__first_name", "relations_coordinator__last_name"),
    "value": ("contract_value",),
    "renewal": ("next_renewal",),
}


def _model(name: str) -> type[models.Model]:
    # Models import these querysets, so look them up lazily to avoid an import cycle.
    return apps.get_model("customers", name)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


_RELATED_COUNTS = (
    ("contact", "Contact"),
    ("subscription", "Subscription"),
    ("opportunity", "Opportunity"),
    ("activity", "Activity"),
    ("alias", "AccountAlias"),
)


def _count(model: type[models.Model], field: str) -> Coalesce:
    """COUNT of `model` rows pointing at the outer row, as a correlated subquery."""
    rows = model.objects.filter(**{field: OuterRef("pk")}).order_by().values(field)
    return Coalesce(
        Subquery(rows.annotate(n=models.Count("pk")).values("n"), output_field=models.IntegerField()),
        models.Value(0),
    )


class AccountQuerySet(models.QuerySet):
    def active_records(self) -> AccountQuerySet:
        """Accounts that were not merged into another (a merged code redirects instead)."""
        return self.filter(merged_into__isnull=True)

    def merged_chain_ids(self, account) -> list[int]:
        """Ids of every account merged into `account`, directly or through another merge
        (one query per level; chains are rarely more than one deep)."""
        found: list[int] = []
        level = [account.pk]
        while level:
            level = list(self.filter(merged_into__in=level).values_list("pk", flat=True))
            found.extend(level)
        return found

    def for_merge_review(self) -> AccountQuerySet:
        """Two accounts side by side: people joined, related rows counted (fixed queries)."""
        counts = {f"{name}_count": _count(_model(model), "account") for name, model in _RELATED_COUNTS}
        return (
            self.select_related("owner", "relations_coordinator", "billing_contact").annotate(**counts).order_by("pk")
        )

    def live_subscriptions(self) -> models.QuerySet:
        return _model("Subscription").objects.filter(
            account=OuterRef("pk"), status__in=[SubscriptionStatus.ACTIVE, SubscriptionStatus.PENDING]
        )

    def with_list_figures(self) -> AccountQuerySet:
        """Live contract value and next renewal as correlated subqueries (evaluated only for
        the rows read, or for every filtered row when the list is sorted by one of them)."""
        live = self.live_subscriptions()
        value = live.values("account").annotate(total=Sum("annual_value")).values("total")
        next_renewal = (
            live.filter(renewal_date__isnull=False)
            .values("account")
            .annotate(first=Min("renewal_date"))
            .values("first")
        )
        return self.annotate(
            contract_value=Coalesce(Subquery(value), models.Value(0), output_field=models.DecimalField()),
            next_renewal=Subquery(next_renewal, output_field=models.DateField()),
        )

    def for_list(self) -> AccountQuerySet:
        """Customer list rows: owner and coordinator joined, live contract value and next
        renewal as correlated subqueries (evaluated only for the rows on the page)."""
        return self.active_records().select_related("owner", "relations_coordinator").with_list_figures()

    def sorted_by(self, key: str) -> AccountQuerySet:
        """The list in the order of one of its columns (`LIST_SORTS`), `-key` for descending;
        the client code breaks ties so pages never overlap."""
        descending = key.startswith("-")
        columns = LIST_SORTS.get(key.lstrip("-"))
        if columns is None:
            return self.order_by("number")
        queryset = self.with_list_figures() if key.lstrip("-") in ("value", "renewal") else self
        nulls = {"nulls_last": True}
        order = [(models.F(c).desc(**nulls) if descending else models.F(c).asc(**nulls)) for c in columns]
        return queryset.order_by(*order, "number")

    def for_list_table(self, accounts: models.QuerySet) -> AccountQuerySet:
        """The customer list's table rows for `accounts`, one page of the filtered list
        (a sliced queryset): `for_list()` reading only the columns the table shows.

        The list is counted and sliced on the filtered accounts alone, and the page's rows
        are read by id (one query, with the slice as a subquery): slicing `for_list()`
        itself, PostgreSQL would compute the contract value and next renewal for every row
        the OFFSET skips too (page 1,000 of the whole list took 640 ms; this way 30 ms).
        """
        rows = self.for_list().only(*LIST_TABLE_COLUMNS).filter(pk__in=accounts.values("pk"))
        return rows.order_by(*accounts.query.order_by) if accounts.query.order_by else rows

    def for_export(self, accounts: models.QuerySet) -> AccountQuerySet:
        """Every filtered account, in the list's order, for a CSV or XLSX export."""
        rows = self.for_list().filter(pk__in=accounts.order_by().values("pk"))
        return rows.order_by(*accounts.query.order_by) if accounts.query.order_by else rows.order_by("number")

    def for_360(self) -> AccountQuerySet:
        """Everything the customer 360 page shows, in a fixed number of queries."""
        Subscription, Opportunity, Activity, Contact = (
            _model("Subscription"),
            _model("Opportunity"),
            _model("Activity"),
            _model("Contact"),
        )
        return self.select_related("owner", "relations_coordinator", "billing_contact").prefetch_related(
            Prefetch("contacts", queryset=Contact.objects.active_records()),
            Prefetch("subscriptions", queryset=Subscription.objects.select_related("product")),
            Prefetch(
                "opportunities",
                queryset=Opportunity.objects.open().select_related("owner", "product"),
                to_attr="open_opportunities",
            ),
            Prefetch(
                "activities",
                queryset=Activity.objects.select_related("actor", "contact")[:TIMELINE_LENGTH],
                to_attr="recent_activities",
            ),
            "aliases",
        )

    def search(self, text: str) -> AccountQuerySet:
        """Accounts matching a client code, ABN, legal or trading name, or a known alias."""
        text = (text or "").strip()
        if not text:
            return self.active_records()
        condition = Q(legal_name__icontains=text) | Q(trading_name__icontains=text)
        key = normalise_name(text)
        if key:
            condition |= Q(normalised_name__contains=key)
            # The alias ids are fetched first (one small query): inside the OR as a subquery
            # PostgreSQL would scan every account instead of combining the trigram indexes.
            alias_ids = list(
                _model("AccountAlias")
                .objects.filter(normalised_value__contains=key)
                .values_list("account_id", flat=True)[:ALIAS_MATCH_LIMIT]
            )
            if alias_ids:
                condition |= Q(pk__in=alias_ids)
        if _CODE_RE.match(text):
            condition |= Q(code=text.upper())  # codes are stored upper case; UPPER(code) would scan
        digits = _digits(text)
        if len(digits) == 11:
            condition |= Q(abn=digits)
        return self.active_records().filter(condition)

    def close_spellings(self, text: str, *, limit: int) -> list:
        """Accounts whose name is spelt close to `text` ("merdian" finds Meridian), best first,
        for when `search()` finds nothing. PostgreSQL: trigram word similarity on the
        normalised name (the pg_trgm GIN index of migration 0003). SQLite: the duplicate
        engine's normalisation and its one-typo rule, over names sharing a word's first or
        last letters."""
        key = normalise_name(text)
        if len(key.replace(" ", "")) < FUZZY_MIN_LENGTH:
            return []
        accounts = self.for_list()
        if connection.vendor == "postgresql":
            from django.contrib.postgres.lookups import TrigramWordSimilar
            from django.contrib.postgres.search import TrigramWordSimilarity

            # pg_trgm's default word-similarity threshold (0.6) misses one dropped letter in
            # a short name ("merdian" ~ "meridian ..." is 0.55); only this query uses the operator.
            with connection.cursor() as cursor:
                cursor.execute(f"SET pg_trgm.word_similarity_threshold = {FUZZY_PG_THRESHOLD}")
            similar = TrigramWordSimilar(models.F("normalised_name"), models.Value(key))
            return list(
                accounts.filter(similar)
                .annotate(closeness=TrigramWordSimilarity(models.Value(key), "normalised_name"))
                .order_by("-closeness", "number")[:limit]
            )
        return _close_in_python(accounts, key, limit=limit)

    def owned_or_coordinated_by(self, user) -> AccountQuerySet:
        return self.filter(Q(owner=user) | Q(relations_coordinator=user))

    # These filters are IN (SELECT account_id ...) rather than EXISTS: PostgreSQL then reads
    # the partial live-subscription indexes and the office index alone (23 ms, not 55 ms,
    # to count 100,000 accounts filtered three ways).
    def with_product(self, product) -> AccountQuerySet:
        live = _model("Subscription").objects.live()
        return self.filter(pk__in=live.filter(product=product).values("account_id"))

    def renewing_within(self, days: int, *, today: dt.date | None = None) -> AccountQuerySet:
        today = today or timezone.localdate()
        window = (
            _model("Subscription")
            .objects.live()
            .filter(renewal_date__gte=today, renewal_date__lte=today + dt.timedelta(days=days))
        )
        return self.filter(pk__in=window.values("account_id"))


def _close_in_python(accounts: AccountQuerySet, key: str, *, limit: int) -> list:
    from customers.dedupe import _one_typo

    words = [w for w in key.split() if len(w) >= FUZZY_MIN_LENGTH] or [key.replace(" ", "")]
    probe = Q()
    for word in words:
        probe |= Q(normalised_name__contains=word[:3]) | Q(normalised_name__contains=word[-3:])
    scored = []
    for pk, name in accounts.filter(probe).values_list("pk", "normalised_name")[:FUZZY_CANDIDATES]:
        names = name.split()
        if not names:
            continue
        per_word = [max(100.0 if w == n or _one_typo(w, n) else fuzz.ratio(w, n) for n in names) for w in words]
        closeness = sum(per_word) / len(per_word)
        if closeness >= FUZZY_MIN_SCORE:
            scored.append((-closeness, pk))
    ids = [pk for _, pk in sorted(scored)[:limit]]
    found = {a.pk: a for a in accounts.filter(pk__in=ids)}
    return [found[pk] for pk in ids if pk in found]


class ContactQuerySet(models.QuerySet):
    def for_merge_review(self) -> ContactQuerySet:
        """Two contacts side by side, with their accounts and activity counts."""
        return (
            self.select_related("account").annotate(activity_count=_count(_model("Activity"), "contact")).order_by("pk")
        )

    def active_records(self) -> ContactQuerySet:
        """Contacts that were not merged into another contact."""
        return self.filter(merged_into__isnull=True)

    def search(self, text: str) -> ContactQuerySet:
        """Contacts by name ('Jane', 'Jane Citizen'), email or phone digits."""
        if not (text or "").strip():
            return self
        return self._matching(text).filter(account__merged_into__isnull=True)

    def for_search(self, text: str, *, limit: int) -> ContactQuerySet:
        """The first `limit` contacts matching `text` (as `search()`), with their accounts.

        The contacts are sorted and cut on their own rows, leaving out merged accounts by an
        anti-join on those few, and only the page's contacts are joined to their accounts.
        Joined first, PostgreSQL read the account of every match before sorting: a place name
        matches 5,000 email domains (global search 23 ms for the contacts, this way 10 ms).
        """
        merged = _model("Account").objects.filter(pk=OuterRef("account_id"), merged_into__isnull=False)
        page = self._matching(text).filter(~Exists(merged)).values("pk")[:limit]
        return self.select_related("account").filter(pk__in=page)

    def _matching(self, text: str) -> ContactQuerySet:
        """Contacts (not merged away) whose name, email or phone matches `text`, on any account."""
        text = (text or "").strip()
        if not text:
            return self
        condition = Q(first_name__icontains=text) | Q(last_name__icontains=text) | Q(email__icontains=text)
        parts = text.split()
        if len(parts) >= 2:
            condition |= Q(first_name__iexact=parts[0], last_name__iexact=" ".join(parts[1:]))
        digits = phone_digits(text)
        if len(digits) >= 6:
            condition |= Q(phone_digits__contains=digits)
        return self.active_records().filter(condition)


class SubscriptionQuerySet(models.QuerySet):
    def live(self) -> SubscriptionQuerySet:
        return self.filter(status__in=[SubscriptionStatus.ACTIVE, SubscriptionStatus.PENDING])

    def renewing_for(self, user, *, days: int, today: dt.date | None = None) -> SubscriptionQuerySet:
        """Renewals due within `days` (or overdue) on accounts the user owns or coordinates."""
        today = today or timezone.localdate()
        return (
            self.filter(Q(account__owner=user) | Q(account__relations_coordinator=user))
            .filter(renewal_date__lte=today + dt.timedelta(days=days))
            .select_related("account", "product")
            .order_by("renewal_date")
        )


class OpportunityQuerySet(models.QuerySet):
    def open(self) -> OpportunityQuerySet:
        return self.filter(stage__in=OpportunityStage.open_stages())

    def with_stage_since(self) -> OpportunityQuerySet:
        """Annotate `stage_since`: when the deal entered its current stage (its last stage
        row; a deal without one has been there since it was created)."""
        StageChange = apps.get_model("customers", "StageChange")
        last = StageChange.objects.filter(opportunity=OuterRef("pk")).order_by("-at", "-pk").values("at")[:1]
        return self.annotate(stage_since=Coalesce(Subquery(last), "created_at"))

    def for_pipeline(self) -> OpportunityQuerySet:
        """Deals with what a card or a list row shows, in one query."""
        return self.select_related("account", "owner", "product").with_stage_since()


class StageChangeQuerySet(models.QuerySet):
    def entered_current_stage(self, opportunity_ids: list[int]) -> dict[int, dt.datetime]:
        """{deal id: when it entered the stage it is in} for the given deals (its last row)."""
        rows = self.filter(opportunity_id__in=opportunity_ids).values("opportunity_id").annotate(at=models.Max("at"))
        return {row["opportunity_id"]: row["at"] for row in rows}

    def for_metrics(self) -> StageChangeQuerySet:
        """Only the columns the funnel reads, oldest first per deal."""
        return self.order_by("opportunity_id", "at", "pk")


class ActivityQuerySet(models.QuerySet):
    def timeline(self) -> ActivityQuerySet:
        return self.select_related("actor", "contact")


class DuplicateCandidateQuerySet(models.QuerySet):
    def open(self) -> DuplicateCandidateQuerySet:
        return self.filter(status=DuplicateStatus.OPEN)

    def for_queue(self) -> DuplicateCandidateQuerySet:
        """Open account pairs, most certain first, with both accounts joined."""
        return self.open().select_related("account_a", "account_b").order_by("-score", "pk")


class ContactDuplicateCandidateQuerySet(DuplicateCandidateQuerySet):
    def for_queue(self) -> ContactDuplicateCandidateQuerySet:
        """Open contact pairs, most certain first, with both contacts and their accounts joined."""
        return self.open().select_related("contact_a__account", "contact_b__account").order_by("-score", "pk")


class MergeQuerySet(models.QuerySet):
    def undoable(self, *, now: dt.datetime | None = None) -> MergeQuerySet:
        """Merges not yet undone and still inside the undo window."""
        now = now or timezone.now()
        days = self.model.UNDO_DAYS
        return self.filter(undone_at__isnull=True, merged_at__gt=now - dt.timedelta(days=days))
