"""POST rows for the customer pages, the duplicate queue and merges."""

from __future__ import annotations

import datetime as dt

from customers import services
from customers.forms import AccountForm, ContactForm, MergeForm, OpportunityForm, SubscriptionForm
from customers.models import Account, Contact, Product
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    AliasFactory,
    ContactFactory,
    OpportunityFactory,
    UserFactory,
)
from tests.post_rows import EVERYONE, PostRow, allowed

CR, SM, SR, FIN, PROV, STEWARD = (
    "customer_relations",
    "sales_manager",
    "sales_rep",
    "finance",
    "provisioning",
    "data_steward",
)


def build(world: dict, personas: dict) -> None:
    other_rep = UserFactory(username="other_rep", roles=["sales_rep"])
    other_account = AccountFactory(owner=other_rep, legal_name="Someone Else's Client Pty Ltd")
    world.update(
        other_rep=other_rep,
        other_account=other_account,
        other_contact=ContactFactory(account=other_account),
        other_opportunity=OpportunityFactory(account=other_account, owner=other_rep, name="Their deal"),
        activity=ActivityFactory(account=world["account"]),
        alias=AliasFactory(account=world["account"]),
        product=Product.objects.get(code="datavault"),
    )
    steward = personas[STEWARD]
    keep, gone = AccountFactory(legal_name="Kept Pty Ltd"), AccountFactory(legal_name="Gone Pty Ltd")
    world["real_merge"] = services.merge_accounts(
        survivor=keep, duplicate=gone, choices={}, actor=steward, reason="matrix: same client"
    )
    a, b = ContactFactory(account=keep, first_name="Jo"), ContactFactory(account=keep, first_name="Jo")
    world["real_contact_merge"] = services.merge_contacts(
        survivor=a, duplicate=b, choices={}, actor=steward, reason="matrix: same person"
    )


def _value(value):
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def form_data(form_class, instance, steward, **changes) -> dict:
    """What the edit page posts: every field as shown, then `changes`, a reason and the version."""
    form = form_class(user=steward, instance=instance)
    data = {}
    for name in form_class._meta.fields:
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = _value(value)
    data.update(changes)
    data["reason"] = "POST matrix"
    if getattr(instance, "version", None):
        data["version"] = instance.version
    return data


def _code(key: str = "account"):
    return lambda w: {"code": w[key].code}


def _obj(account: str, key: str):
    return lambda w: {"code": w[account].code, "pk": w[key].pk}


def _merge_data(world: dict) -> dict:
    candidate = world["duplicate_candidate"]
    a, b = candidate.account_a, candidate.account_b
    form = MergeForm(a=a, b=b, fields=list(AccountForm._meta.fields), label=str)
    data = {"survivor": "a", "reason": "POST matrix merge", "version_a": a.version, "version_b": b.version}
    data.update({f"keep_{name}": "a" for name in form.differing})
    return data


def _assert_merged(world: dict, role: str) -> None:
    assert Account.objects.get(pk=world["duplicate_candidate"].account_b_id).merged_into_id is not None


def _assert_contact_added(world: dict, role: str) -> None:
    assert Contact.objects.filter(first_name="Matrix", account=world["account"]).exists()


ROWS_ACCOUNT = {
    "customers:account_add": PostRow(
        allowed(CR, STEWARD),
        data=lambda w: {
            "legal_name": "Matrix New Client Pty Ltd",
            "industry": "other",
            "segment": "small",
            "office": "perth",
            "lifecycle_status": "active",
            "create_anyway": "on",
            "reason": "POST matrix",
        },
    ),
    "customers:account_edit": PostRow(
        allowed(CR, SM, FIN, STEWARD),
        kwargs=_code(),
        data=lambda w: form_data(
            AccountForm,
            w["account"],
            w["steward"],
            phone="08 9333 4444",
            owner=w["other_rep"].pk,
            xero_contact_id="xero-matrix",
        ),
    ),
    "customers:contact_add": PostRow(
        allowed(CR, SR, STEWARD),
        kwargs=_code(),
        data=lambda w: {"first_name": "Matrix", "last_name": "Person", "reason": "POST matrix"},
        done=_assert_contact_added,
    ),
    "customers:contact_edit": PostRow(
        allowed(CR, SR, STEWARD),
        kwargs=_obj("account", "contact"),
        data=lambda w: form_data(ContactForm, w["contact"], w["steward"], title="Matrix title"),
    ),
    "customers:subscription_add": PostRow(
        allowed(CR, STEWARD),
        kwargs=_code(),
        data=lambda w: {
            "product": Product.objects.get(code="analytics-pro").pk,
            "seats": 3,
            "start_date": "2025-09-01",
            "term_months": 12,
            "renewal_date": "2026-09-01",
            "status": "active",
            "annual_value": "0.00",
            "reason": "POST matrix",
        },
    ),
    "customers:subscription_edit": PostRow(
        allowed(CR, FIN, PROV, STEWARD),
        kwargs=_obj("account", "subscription"),
        data=lambda w: form_data(
            SubscriptionForm, w["subscription"], w["steward"], seats=77, annual_value="1234.00", tenancy_ref="tn-m"
        ),
    ),
    "customers:opportunity_add": PostRow(
        allowed(SR, SM, STEWARD),
        kwargs=_code(),
        data=lambda w: {
            "name": "Matrix deal",
            "kind": "new",
            "stage": "suspect",
            "source": "referral",
            "amount": "1000.00",
            "owner": w["personas"][SR].pk,
            "reason": "POST matrix",
        },
    ),
    "customers:opportunity_edit": PostRow(
        allowed(SR, SM, STEWARD),
        kwargs=_obj("account", "opportunity"),
        data=lambda w: form_data(OpportunityForm, w["opportunity"], w["steward"], name="Matrix renamed deal"),
    ),
    "customers:activity_add": PostRow(
        allowed(*(r for r in EVERYONE[:-1] if r != "executive")),  # the executive writes nothing
        kwargs=_code(),
        data=lambda w: {"kind": "call", "summary": "Matrix call", "reason": ""},
    ),
    # Object scope: the sales rep on an account and a deal that are another rep's.
    "customers:contact_add@another_reps_account": PostRow(
        allowed(CR, STEWARD),
        kwargs=_code("other_account"),
        data=lambda w: {"first_name": "Matrix", "last_name": "Elsewhere", "reason": "POST matrix"},
    ),
    "customers:contact_edit@another_reps_account": PostRow(
        allowed(CR, STEWARD),
        kwargs=_obj("other_account", "other_contact"),
        data=lambda w: form_data(ContactForm, w["other_contact"], w["steward"], title="Not yours"),
    ),
    "customers:account_edit@another_reps_account": PostRow(
        allowed(CR, SM, FIN, STEWARD),
        kwargs=_code("other_account"),
        data=lambda w: form_data(
            AccountForm,
            w["other_account"],
            w["steward"],
            phone="08 9555 0000",
            owner=w["personas"][SR].pk,
            xero_contact_id="xero-other",
        ),
    ),
    "customers:opportunity_edit@another_reps_opportunity": PostRow(
        allowed(SM, STEWARD),
        kwargs=_obj("other_account", "other_opportunity"),
        data=lambda w: form_data(OpportunityForm, w["other_opportunity"], w["steward"], name="Taken over"),
    ),
    # Any rep may open their own deal on any account (it is theirs); the deal is owned by them.
    "customers:opportunity_add@another_reps_account": PostRow(
        allowed(SR, SM, STEWARD),
        kwargs=_code("other_account"),
        data=lambda w: {
            "name": "My deal there",
            "kind": "new",
            "stage": "suspect",
            "source": "referral",
            "amount": "1000.00",
            "owner": w["personas"][SR].pk,
            "reason": "POST matrix",
        },
    ),
}

ROWS_DUPLICATES = {
    "customers:duplicate_scan": PostRow(allowed(STEWARD), writes=False),
    "customers:duplicate_detail": PostRow(
        allowed(STEWARD),
        kwargs=lambda w: {"pk": w["duplicate_candidate"].pk},
        data=lambda w: {"action": "not_duplicate", "reason": "POST matrix: different clients"},
    ),
    "customers:duplicate_detail@merge": PostRow(
        allowed(STEWARD),
        kwargs=lambda w: {"pk": w["duplicate_candidate"].pk},
        data=_merge_data,
        done=_assert_merged,
    ),
    "customers:contact_duplicate_detail": PostRow(
        allowed(STEWARD),
        kwargs=lambda w: {"pk": w["contact_duplicate_candidate"].pk},
        data=lambda w: {"action": "not_duplicate", "reason": "POST matrix: different people"},
    ),
    "customers:merge_detail": PostRow(
        allowed(STEWARD),
        kwargs=lambda w: {"pk": w["real_merge"].pk},
        data=lambda w: {"reason": "POST matrix: undo"},
    ),
    "customers:contact_merge_detail": PostRow(
        allowed(STEWARD),
        kwargs=lambda w: {"pk": w["real_contact_merge"].pk},
        data=lambda w: {"reason": "POST matrix: undo"},
    ),
}

POSTS: dict[str, PostRow] = {**ROWS_ACCOUNT, **ROWS_DUPLICATES}


# Pages that read only; a POST to them is refused by method or changes nothing.
def _reassigned(world: dict, role: str) -> None:
    assert Account.objects.get(pk=world["account"].pk).owner_id == world["other_rep"].pk


# Only a sales manager gives accounts a new owner (the owner field is theirs alone), with one reason.
POSTS["customers:account_bulk_owner"] = PostRow(
    allowed(SM),
    data=lambda w: {"codes": [w["account"].code], "owner": w["other_rep"].pk, "reason": "POST matrix: territory"},
    done=_reassigned,
)

READ_ONLY = {
    "home",
    "login",  # logging in writes a session only
    "logout",  # ends a session only
    "search",
    "customers:account_list",
    "customers:account_detail",
    "customers:account_history",
    "customers:duplicate_list",
    "search_suggest",
}
