"""`manage.py demo_logins` prints every role's login (the last thing `make run` shows)."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from cloudcore_crm.roles import ROLE_NAMES


def test_demo_logins_lists_every_role_with_the_demo_password():
    out = StringIO()
    call_command("demo_logins", stdout=out)
    text = out.getvalue()
    assert "cloudcore-demo" in text and "http://127.0.0.1:8000" in text
    assert all(f"  {role} " in text for role in ROLE_NAMES)
