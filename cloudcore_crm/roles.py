"""The staff roles, in one table.

Each role is a Django group, created by migration `cloudcore_crm.0001_roles` from `ROLES`.
A user may hold several roles. What each role may *write* is declared in
`customers/ownership.py`; everyone logged in may *read* the whole customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


@dataclass(frozen=True)
class Role:
    name: str
    label: str
    description: str


SALES_REP = "sales_rep"
SALES_MANAGER = "sales_manager"
SUPPORT_AGENT = "support_agent"
CUSTOMER_RELATIONS = "customer_relations"
FINANCE = "finance"
PROVISIONING = "provisioning"
DATA_STEWARD = "data_steward"
EXECUTIVE = "executive"

ROLES: tuple[Role, ...] = (
    Role(SALES_REP, "Sales", "Owns their opportunities and their accounts' contacts."),
    Role(SALES_MANAGER, "Sales management", "Assigns account owners; owns every opportunity."),
    Role(SUPPORT_AGENT, "Support", "Reads the whole customer while on a call."),
    Role(CUSTOMER_RELATIONS, "Customer Relations", "Owns names, addresses, contacts and subscriptions."),
    Role(FINANCE, "Finance", "Owns contract values, the Xero contact id and the billing contact."),
    Role(PROVISIONING, "Provisioning", "Owns tenancy and provisioning details."),
    Role(DATA_STEWARD, "Data stewardship", "May override any field with a reason; runs imports and merges."),
    Role(EXECUTIVE, "Executive", "Reads dashboards and the board pack."),
)
ROLE_NAMES: tuple[str, ...] = tuple(role.name for role in ROLES)
ROLE_LABELS: dict[str, str] = {role.name: role.label for role in ROLES}


def roles_of(user: AbstractBaseUser | AnonymousUser | None) -> frozenset[str]:
    """The role names a user holds, cached on the user object for the request.

    A superuser holds every role, so the site owner is never locked out.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_cloudcore_roles", None)
    if cached is None:
        if user.is_superuser:
            cached = frozenset(ROLE_NAMES)
        else:
            cached = frozenset(user.groups.filter(name__in=ROLE_NAMES).values_list("name", flat=True))
        user._cloudcore_roles = cached
    return cached


def has_role(user: AbstractBaseUser | AnonymousUser | None, *names: str) -> bool:
    return bool(roles_of(user) & set(names))
