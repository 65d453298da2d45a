"""Template context shared by every page."""

from __future__ import annotations

from django.http import HttpRequest

from cloudcore_crm.roles import ROLE_LABELS, roles_of


def roles(request: HttpRequest) -> dict[str, object]:
    held = roles_of(getattr(request, "user", None))
    return {
        "user_roles": held,
        "user_role_labels": [ROLE_LABELS[name] for name in sorted(held)],
    }
