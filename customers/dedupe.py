"""The duplicate-matching engine: one set of rules for the nightly scan, the new-account
form and the legacy importers.

A record is reduced to its keys (`MatchRecord`): name keys with legal suffixes removed
(`customers.matching`), a valid ABN, a phone in E.164 and the company email domains of its
contacts. Candidate pairs come only from *blocks* (records sharing an exact key, a name
one typo apart, or a rare name word), never from comparing every pair, and each candidate
is scored by `score_pair`, which gives a 0-100 score and its evidence in words.

- `find_pairs(records)` scans a whole record set (the scan service and the benchmark).
- `AccountIndex` answers "which of these records look like this one?" in memory, for an
  importer checking many incoming rows.
- `find_matches(name=..., abn=..., ...)` asks the database directly, for one record (the
  new-account form).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations

from django.db.models import Q
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from customers.choices import AliasKind
from customers.matching import email_domain, name_key, phone_digits, phone_e164
from customers.validators import abn_is_valid, clean_abn, format_abn

MIN_SCORE = 70  # pairs below this are not proposed
FUZZY_FLOOR = 80  # names less alike than this count for nothing on their own
MAX_BLOCK = 40  # a key shared by more records than this is too common to mean "same client"
RARE_WORD = 12  # a name word in at most this many records is distinctive enough to block on
MIN_TYPO_KEY = 5  # shorter name keys are compared exactly, not one typo apart
ONE_TYPO = 92  # the similarity given to names one typo apart, however short
FIND_LIMIT = 200  # database candidates read by `find_matches`


@dataclass(frozen=True, slots=True)
class NameForm:
    """One way a record is named: the comparison key, the original text and what was removed."""

    key: str
    original: str
    removed: tuple[str, ...] = ()
    trading: bool = False  # the key is the part after "t/a" or a trading name


@dataclass(frozen=True, slots=True)
class MatchRecord:
    """A record reduced to the keys duplicates are found by."""

    pk: int
    code: str
    label: str
    names: tuple[NameForm, ...]
    abn: str = ""  # only a valid ABN, digits only
    phone: str = ""  # E.164
    domains: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        *,
        pk: int = 0,
        code: str = "",
        legal_name: str = "",
        trading_name: str = "",
        other_names: Iterable[str] = (),
        abn: str = "",
        phone: str = "",
        state: str = "",
        emails: Iterable[str] = (),
        domains: Iterable[str] = (),
    ) -> MatchRecord:
        return cls(
            pk=pk,
            code=code,
            label=trading_name or legal_name,
            names=name_forms(legal_name, trading_name, *other_names),
            abn=valid_abn(abn),
            phone=phone_e164(phone, state=state),
            domains=frozenset(d for d in (*map(email_domain, emails), *domains) if d),
        )


@dataclass(frozen=True, slots=True)
class Match:
    """An existing record that looks like the one asked about."""

    record: MatchRecord
    score: int
    evidence: tuple[str, ...]

    @property
    def pk(self) -> int:
        return self.record.pk

    @property
    def code(self) -> str:
        return self.record.code

    @property
    def label(self) -> str:
        return self.record.label


@dataclass(frozen=True, slots=True)
class Pair:
    """Two records of one set that look like one client; `a.pk < b.pk`."""

    a: MatchRecord
    b: MatchRecord
    score: int
    evidence: tuple[str, ...]


@dataclass
class ScanStats:
    """What a scan looked at: records, candidate pairs compared, pairs proposed."""

    records: int = 0
    compared: int = 0
    proposed: int = 0
    skipped_blocks: int = 0
    blocks: dict[str, int] = field(default_factory=dict)


def format_e164(phone: str) -> str:
    """'+61855501234' -> '+61 8 5550 1234'; '+61491570156' -> '+61 491 570 156'."""
    rest = phone.removeprefix("+61")
    if len(rest) != 9 or rest == phone:
        return phone
    if rest.startswith("4"):
        return f"+61 {rest[:3]} {rest[3:6]} {rest[6:]}"
    return f"+61 {rest[0]} {rest[1:5]} {rest[5:]}"


def valid_abn(value: str) -> str:
    digits = clean_abn(value)
    return digits if abn_is_valid(digits) else ""


def name_forms(*names: str) -> tuple[NameForm, ...]:
    """Every name form of a record, without repeats: each name's key and its t/a key."""
    forms: list[NameForm] = []
    seen: set[str] = set()
    for position, name in enumerate(names):
        if not name or not name.strip():
            continue
        parsed = name_key(name)
        for key, trading in ((parsed.key, position == 1), (parsed.trading, True)):
            if key and key not in seen:
                seen.add(key)
                forms.append(NameForm(key=key, original=name.strip(), removed=parsed.removed, trading=trading))
    return tuple(forms)


# --- Scoring --------------------------------------------------------------------------


def _quote_list(items: Sequence[str]) -> str:
    quoted = [f"'{item}'" for item in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _one_typo(a: str, b: str) -> bool:
    """One slip of the keyboard: a letter added, dropped or changed, or two swapped.

    In a short word a changed letter usually makes another word ("Hill" / "Hall"), so
    there only an added, dropped or swapped letter counts; nor does a changed first letter.
    """
    if OSA.distance(a, b, score_cutoff=1) > 1:
        return False
    substitution = len(a) == len(b) and sorted(a) != sorted(b)
    if substitution and a[0] != b[0]:
        return False  # people rarely mistype the first letter; "Morris" and "Norris" are two names
    return min(len(a), len(b)) >= MIN_TYPO_KEY or not substitution


def _similarity(a: str, b: str) -> float:
    """0-100. When the names differ in exactly one word, that word decides: "tran
    physiotherapy" and "ryan physiotherapy" share a long word but name two firms."""
    if a == b:
        return 100.0
    words_a, words_b = a.split(), b.split()
    if len(words_a) == len(words_b):
        differing = [(x, y) for x, y in zip(words_a, words_b, strict=True) if x != y]
        if len(differing) == 1:
            x, y = differing[0]
            return float(ONE_TYPO) if _one_typo(x, y) else fuzz.ratio(x, y)
    similarity = max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b))
    if similarity < ONE_TYPO and min(len(a), len(b)) >= MIN_TYPO_KEY and _one_typo(a, b):
        # A typo weighs more in a short name than a percentage says ("acme ltd" / "acme ltdd").
        return float(ONE_TYPO)
    return similarity


def _contains(a: str, b: str) -> bool:
    """One name's words are all in the other ("acme" in "acme widgets")."""
    small, large = sorted((set(a.split()), set(b.split())), key=len)
    return bool(small) and small < large and any(len(word) >= 3 for word in small)


def _best_names(a: MatchRecord, b: MatchRecord) -> tuple[float, NameForm | None, NameForm | None]:
    best: tuple[float, NameForm | None, NameForm | None] = (0.0, None, None)
    for x in a.names:
        for y in b.names:
            similarity = _similarity(x.key, y.key)
            if similarity > best[0]:
                best = (similarity, x, y)
                if similarity == 100.0:
                    return best
    return best


def _name_evidence(similarity: float, x: NameForm, y: NameForm) -> str:
    removed = sorted(set(x.removed) | set(y.removed))
    after = f" after removing {_quote_list(removed)}" if removed else ""
    trading = " (trading name)" if x.trading or y.trading else ""
    if similarity == 100.0 and x.key != y.key:
        return f"same words in another order{after}{trading}"
    if similarity == 100.0:
        if x.original == y.original:
            return f"same name{trading}"
        if not removed:
            return f"same name apart from case and punctuation{trading}"
        return f"same name{after}{trading}"
    if similarity == ONE_TYPO and OSA.distance(x.key, y.key, score_cutoff=1) <= 1:
        return f"names one letter apart{after}{trading}"
    return f"names {similarity:.0f}% alike{after}{trading}"


def score_pair(a: MatchRecord, b: MatchRecord) -> tuple[int, tuple[str, ...]] | None:
    """A 0-100 score with its evidence in words, or None when the pair is not a candidate.

    A shared valid ABN outranks any name match; two different valid ABNs mean two legal
    entities, whatever the names say. Otherwise the name carries the score and a shared
    phone or email domain corroborates it.
    """
    if a.abn and b.abn and a.abn != b.abn:
        return None
    evidence: list[str] = []
    same_abn = bool(a.abn) and a.abn == b.abn
    same_phone = bool(a.phone) and a.phone == b.phone
    shared_domains = sorted(a.domains & b.domains)
    similarity, x, y = _best_names(a, b)
    if same_abn:
        evidence.append(f"same ABN ({format_abn(a.abn)})")
    if x is not None and y is not None and similarity >= FUZZY_FLOOR:
        evidence.append(_name_evidence(similarity, x, y))
    contained = similarity < FUZZY_FLOOR and any(_contains(p.key, q.key) for p in a.names for q in b.names)
    if contained:
        evidence.append("one name contains the other")
    if same_phone:
        evidence.append(f"same phone number ({format_e164(a.phone)})")
    if shared_domains:
        evidence.append(f"same email domain ({', '.join(shared_domains)})")
    corroboration = 8 * same_phone + 6 * bool(shared_domains)
    if same_abn:
        score = 96 + min(3, (similarity >= 90) + same_phone + bool(shared_domains))
    elif similarity == 100.0:
        score = 90 + corroboration
    elif similarity >= 90:
        score = similarity - 8 + corroboration
    elif similarity >= FUZZY_FLOOR:
        score = similarity - 20 + corroboration
    elif contained:
        score = 62 + corroboration  # proposed only with a shared phone (or phone and domain)
    else:
        score = 55 * same_phone + 10 * bool(shared_domains)
    score = min(99 if same_abn else 97, round(score))
    return (score, tuple(evidence)) if score >= MIN_SCORE else None


# --- Blocking -------------------------------------------------------------------------


# A name key longer than any client's name is cut here before its deletion variants are
# made: n variants of n characters each, so a 100,000-character name would index 10^10 bytes.
MAX_INDEXED_KEY = 120


def _deletions(key: str) -> Iterator[str]:
    """The key with each character removed in turn: two keys one edit (or one swap of
    neighbouring letters) apart always share one of these."""
    compact = key.replace(" ", "")[:MAX_INDEXED_KEY]
    yield compact
    if len(compact) >= MIN_TYPO_KEY:
        for i in range(len(compact)):
            yield compact[:i] + compact[i + 1 :]


def _block_keys(record: MatchRecord) -> set[str]:
    keys: set[str] = set()
    if record.abn:
        keys.add("abn:" + record.abn)
    if record.phone:
        keys.add("tel:" + record.phone)
    keys.update("dom:" + domain for domain in record.domains)
    for form in record.names:
        keys.update(_name_block_keys(form.key))
    return keys


@lru_cache(maxsize=4096)  # an import looks a new client up, then indexes it at once: the same keys twice
def _name_block_keys(key: str) -> tuple[str, ...]:
    return (
        *("nm:" + variant for variant in _deletions(key)),
        "ws:" + " ".join(sorted(key[: MAX_INDEXED_KEY * 2].split())),
    )  # word order ignored


def _word_keys(record: MatchRecord) -> set[str]:
    return {word for form in record.names for word in form.key.split() if len(word) >= 4}


class AccountIndex:
    """Records indexed by their blocking keys, to scan them all or look one up."""

    def __init__(self, records: Sequence[MatchRecord]):
        self.records: list[MatchRecord] = []
        self.blocks: dict[str, list[int]] = defaultdict(list)
        self.words: dict[str, list[int]] = defaultdict(list)
        for record in records:
            self.add(record)

    def add(self, record: MatchRecord) -> None:
        """Index one more record (an importer adds the accounts it creates as it goes)."""
        position = len(self.records)
        self.records.append(record)
        for key in _block_keys(record):
            self.blocks[key].append(position)
        for word in _word_keys(record):
            self.words[word].append(position)

    def _groups(self, stats: ScanStats) -> Iterator[list[int]]:
        for key, members in self.blocks.items():
            if len(members) < 2:
                continue
            kind = key.split(":", 1)[0]
            if len(members) > MAX_BLOCK:
                stats.skipped_blocks += 1
                continue
            stats.blocks[kind] = stats.blocks.get(kind, 0) + 1
            yield members
        for members in self.words.values():
            if 2 <= len(members) <= RARE_WORD:
                stats.blocks["word"] = stats.blocks.get("word", 0) + 1
                yield members

    def pairs(self, stats: ScanStats | None = None) -> list[Pair]:
        """Every candidate pair in the set that scores at least `MIN_SCORE`."""
        stats = stats if stats is not None else ScanStats()
        stats.records = len(self.records)
        seen: set[tuple[int, int]] = set()
        found: list[Pair] = []
        for members in self._groups(stats):
            for i, j in combinations(members, 2):
                if i == j:
                    continue
                if i > j:
                    i, j = j, i
                if (i, j) in seen:
                    continue
                seen.add((i, j))
                a, b = self.records[i], self.records[j]
                if a.pk == b.pk:
                    continue
                scored = score_pair(a, b)
                if scored is not None:
                    if a.pk > b.pk:
                        a, b = b, a
                    found.append(Pair(a=a, b=b, score=scored[0], evidence=scored[1]))
        stats.compared = len(seen)
        stats.proposed = len(found)
        found.sort(key=lambda pair: (-pair.score, pair.a.pk, pair.b.pk))
        return found

    def find(self, record: MatchRecord, *, limit: int = 5) -> list[Match]:
        """Records in the index that look like `record` (which need not be in it), best first."""
        positions: set[int] = set()
        for key in _block_keys(record):
            members = self.blocks.get(key, ())
            if len(members) <= MAX_BLOCK:
                positions.update(members)
        for word in _word_keys(record):
            members = self.words.get(word, ())
            if len(members) <= RARE_WORD:
                positions.update(members)
        return _ranked(record, (self.records[p] for p in positions), limit=limit)


def _ranked(record: MatchRecord, candidates: Iterable[MatchRecord], *, limit: int) -> list[Match]:
    matches = []
    for candidate in candidates:
        if record.pk and candidate.pk == record.pk:
            continue
        scored = score_pair(record, candidate)
        if scored is not None:
            matches.append(Match(record=candidate, score=scored[0], evidence=scored[1]))
    matches.sort(key=lambda m: (-m.score, m.pk))
    return matches[:limit]


def find_pairs(records: Sequence[MatchRecord], stats: ScanStats | None = None) -> list[Pair]:
    """Candidate duplicate pairs in a whole record set (blocked, never all pairs)."""
    return AccountIndex(records).pairs(stats)


def naive_pairs(records: Sequence[MatchRecord], stats: ScanStats | None = None) -> list[Pair]:
    """Every pair scored: the baseline the benchmark compares blocking with."""
    stats = stats if stats is not None else ScanStats()
    stats.records = len(records)
    found = []
    for a, b in combinations(records, 2):
        scored = score_pair(a, b)
        if scored is not None:
            if a.pk > b.pk:
                a, b = b, a
            found.append(Pair(a=a, b=b, score=scored[0], evidence=scored[1]))
    stats.compared = len(records) * (len(records) - 1) // 2
    stats.proposed = len(found)
    found.sort(key=lambda pair: (-pair.score, pair.a.pk, pair.b.pk))
    return found


# --- Records from the database --------------------------------------------------------


def account_records(accounts=None) -> list[MatchRecord]:
    """Match records for accounts (default: every account not merged away), with their
    contacts' email domains and their name aliases, in three queries."""
    from customers.models import Account, AccountAlias, Contact

    queryset = Account.objects.active_records() if accounts is None else accounts
    rows = list(
        queryset.order_by("pk").values_list("pk", "code", "legal_name", "trading_name", "abn", "phone", "state")
    )
    ids = [row[0] for row in rows]
    domains: dict[int, set[str]] = defaultdict(set)
    other_names: dict[int, list[str]] = defaultdict(list)
    contacts = Contact.objects.active_records().exclude(email="")
    aliases = AccountAlias.objects.filter(kind=AliasKind.NAME)
    if accounts is not None:
        # A handful of accounts (the form's candidates): filter by id. A full scan reads
        # every row instead, which is cheaper than a huge IN list.
        contacts, aliases = contacts.filter(account_id__in=ids), aliases.filter(account_id__in=ids)
    for account_id, email in contacts.values_list("account_id", "email").iterator(chunk_size=20_000):
        domain = email_domain(email)
        if domain:
            domains[account_id].add(domain)
    for account_id, value in aliases.values_list("account_id", "value"):
        other_names[account_id].append(value)
    return [
        MatchRecord.build(
            pk=pk,
            code=code,
            legal_name=legal,
            trading_name=trading,
            other_names=other_names.get(pk, ()),
            abn=abn,
            phone=phone,
            state=state,
            domains=domains.get(pk, ()),
        )
        for pk, code, legal, trading, abn, phone, state in rows
    ]


def find_matches(
    *,
    name: str,
    trading_name: str = "",
    abn: str = "",
    email_domain: str = "",
    phone: str = "",
    state: str = "",
    exclude_pk: int | None = None,
    limit: int = 5,
) -> list[Match]:
    """Existing accounts that look like this incoming record, best first.

    For one record at a time (the new-account form, a webhook): candidates are read from
    the database by ABN, phone, domain, exact name or alias, and names sharing the first
    or last letters (a typo elsewhere), then scored with the same rules as the scan. An
    importer checking thousands of rows builds an `AccountIndex(account_records())` once.
    """
    from customers.models import Account, AccountAlias, Contact

    record = MatchRecord.build(
        legal_name=name, trading_name=trading_name, abn=abn, phone=phone, state=state, domains=[email_domain]
    )
    keys = [form.key for form in record.names]
    # Exact keys are selective; each look-alike probe is capped on its own, so a common
    # ending ("...dental") cannot crowd out an exact match.
    exact = Q()
    if record.abn:
        exact |= Q(abn=record.abn)
    digits = phone_digits(phone)
    if len(digits) >= 8:
        exact |= Q(phone_digits=digits)
    if keys:
        exact |= Q(normalised_name__in=keys) | Q(trading_name__iexact=name.strip())
        exact |= Q(pk__in=AccountAlias.objects.filter(normalised_value__in=keys).values("account_id"))
    if record.domains:
        domain = next(iter(record.domains))
        exact |= Q(pk__in=Contact.objects.filter(email__iendswith="@" + domain).values("account_id")[:FIND_LIMIT])
    probes = [exact] if exact else []
    for key in keys:
        if len(key) >= MIN_TYPO_KEY:
            # A typo after the first letters, or before the last ones.
            probes += [Q(normalised_name__startswith=key[:4]), Q(normalised_name__endswith=key[-4:])]
    candidates = Account.objects.active_records()
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    ids: set[int] = set()
    for probe in probes:
        ids.update(candidates.filter(probe).order_by("pk").values_list("pk", flat=True)[:FIND_LIMIT])
    if not ids:
        return []
    return _ranked(record, account_records(Account.objects.filter(pk__in=ids)), limit=limit)


# --- Contacts -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactRecord:
    """A contact reduced to the keys duplicates are found by."""

    pk: int
    account_id: int
    name: str  # "jane citizen", case folded
    email: str  # lower case


def contact_pairs(records: Sequence[ContactRecord]) -> list[tuple[int, int, int, tuple[str, ...]]]:
    """(a, b, score, evidence) for contacts with the same email address, or the same name
    at the same account. Grouped by those exact keys, so never all pairs."""
    by_email: dict[str, list[ContactRecord]] = defaultdict(list)
    by_name: dict[tuple[int, str], list[ContactRecord]] = defaultdict(list)
    for record in records:
        if record.email:
            by_email[record.email].append(record)
        if record.name:
            by_name[(record.account_id, record.name)].append(record)
    found: dict[tuple[int, int], list[str]] = defaultdict(list)
    for email, group in by_email.items():
        if len(group) <= MAX_BLOCK:
            for a, b in combinations(sorted(group, key=lambda r: r.pk), 2):
                found[(a.pk, b.pk)].append(f"same email address ({email})")
    for _key, group in by_name.items():
        if len(group) <= MAX_BLOCK:
            for a, b in combinations(sorted(group, key=lambda r: r.pk), 2):
                found[(a.pk, b.pk)].append("same name at the same account")
    result = []
    for (a, b), evidence in found.items():
        score = 98 if len(evidence) > 1 else (90 if evidence[0].startswith("same email") else 85)
        result.append((a, b, score, tuple(evidence)))
    result.sort(key=lambda row: (-row[2], row[0], row[1]))
    return result


def contact_records() -> list[ContactRecord]:
    from customers.models import Contact

    rows = (
        Contact.objects.active_records()
        .filter(account__merged_into__isnull=True)
        .values_list("pk", "account_id", "first_name", "last_name", "email")
    )
    return [
        ContactRecord(
            pk=pk,
            account_id=account_id,
            name=" ".join(f"{first} {last}".casefold().split()),
            email=(email or "").strip().lower(),
        )
        for pk, account_id, first, last, email in rows.iterator(chunk_size=20_000)
    ]
