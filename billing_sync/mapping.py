"""Which account a Xero contact is: the contact id already on the account, then the ABN
(Xero's TaxNumber), then the duplicate engine (`customers/dedupe.py`: aliases, normalised
names, fuzzy). A loose or ambiguous match is never guessed: it waits for Finance.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from billing_sync.choices import MatchMethod, MatchStatus
from customers.choices import AliasKind
from customers.dedupe import AccountIndex, MatchRecord, account_records, valid_abn
from customers.matching import alias_key, email_domain
from customers.models import Account, AccountAlias

AUTO_MATCH = 90  # the migration's thresholds: a name match this strong is the same client
REVIEW_FLOOR = 70  # below this the name is not like any account
MARGIN = 5  # a runner-up this close makes the match ambiguous


@dataclass(frozen=True)
class Decision:
    status: str
    account_id: int | None = None
    method: str = ""
    candidates: tuple[dict, ...] = ()


@dataclass
class AccountMatcher:
    """Every account's Xero ids, ABN and names, read once for a whole import."""

    by_xero_id: dict[str, int] = field(default_factory=dict)
    by_abn: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    index: AccountIndex | None = None
    codes: dict[int, str] = field(default_factory=dict)

    @classmethod
    def build(cls) -> AccountMatcher:
        matcher = cls()
        accounts = Account.objects.active_records()
        for pk, code, xero_id, abn in accounts.values_list("pk", "code", "xero_contact_id", "abn"):
            matcher.codes[pk] = code
            if xero_id:
                matcher.by_xero_id[xero_id.strip().lower()] = pk
            if abn and valid_abn(abn):
                matcher.by_abn[valid_abn(abn)].append(pk)
        aliases = AccountAlias.objects.filter(kind=AliasKind.XERO_CONTACT, account__merged_into__isnull=True)
        for pk, key in aliases.values_list("account_id", "normalised_value"):
            matcher.by_xero_id.setdefault(key, pk)
        return matcher

    def _index(self) -> AccountIndex:
        if self.index is None:  # built only when a contact gets this far
            self.index = AccountIndex(account_records())
        return self.index

    def decide(
        self, *, name: str, xero_id: str = "", account_number: str = "", tax_number: str = "", email: str = ""
    ) -> Decision:
        for value in (xero_id, account_number, name):
            pk = self.by_xero_id.get(alias_key(AliasKind.XERO_CONTACT, value)) if value else None
            if pk:
                return Decision(MatchStatus.MATCHED, pk, MatchMethod.CONTACT_ID)
        abn = valid_abn(tax_number)
        if abn:
            owners = self.by_abn.get(abn, [])
            if len(owners) == 1:
                return Decision(MatchStatus.MATCHED, owners[0], MatchMethod.ABN)
            if len(owners) > 1:
                candidates = tuple(
                    {"code": self.codes.get(pk, ""), "label": "", "score": 100, "evidence": [f"same ABN ({abn})"]}
                    for pk in owners
                )
                return Decision(MatchStatus.HELD, candidates=candidates)
        record = MatchRecord.build(legal_name=name, abn=abn, domains=[email_domain(email)])
        matches = [m for m in self._index().find(record) if m.score >= REVIEW_FLOOR]
        if not matches:
            return Decision(MatchStatus.UNMATCHED)
        best = matches[0]
        rivals = [m for m in matches[1:] if m.pk != best.pk and m.score >= best.score - MARGIN]
        candidates = tuple(
            {"code": m.code, "label": m.label, "score": m.score, "evidence": list(m.evidence)} for m in matches
        )
        if best.score >= AUTO_MATCH and not rivals:
            return Decision(MatchStatus.MATCHED, best.pk, MatchMethod.NAME, candidates)
        return Decision(MatchStatus.HELD, candidates=candidates)

    def remember(self, *, account_id: int, identifier: str) -> None:
        self.by_xero_id[alias_key(AliasKind.XERO_CONTACT, identifier)] = account_id
