"""Headers and settings: CSP with no inline script, Permissions-Policy, no-store for
logged-in pages in production, a refused weak SECRET_KEY, `check --deploy` with the CSP on;
control characters kept out of single-line fields, email subjects and file names."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse

from cloudcore_crm.lib.text import email_subject, safe_filename, single_line
from customers import services
from customers.models import Account
from support_bridge import notifications
from tests.factories import AccountFactory
from tests.factories_support import ChurnAlertFactory

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {"DJANGO_ENV": "production", "ALLOWED_HOSTS": "crm.cloudcore.example"}
GOOD_KEY = "k3y-" + "x9Qm2Lw7Zp4Rt8Vn1Bc6Hd0Jf5Gs3Ka" * 2


def _django(code: str, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DJANGO_ENV")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, *code.split()], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


@pytest.mark.django_db
def test_every_page_carries_a_csp_without_inline_script(client_for):
    response = client_for("sales_rep").get(reverse("home"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "camera=()" in response["Permissions-Policy"]


def test_no_template_holds_an_inline_script_or_handler():
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag:
                offenders.append(f"{path.name}: {tag}")
        if re.search(r"\son[a-z]+\s*=|hx-on|javascript:", text):
            offenders.append(f"{path.name}: inline handler")
    assert offenders == []


@pytest.mark.django_db
def test_logged_in_pages_are_no_store_in_production(client_for, settings):
    settings.NO_STORE_FOR_USERS = True
    assert "no-store" in client_for("finance").get(reverse("home"))["Cache-Control"]


@pytest.mark.parametrize(
    "key", ["short-key", "dev-only-insecure-key-never-used-in-production-0123456789abcdef", "a" * 60]
)
def test_production_refuses_a_short_or_default_secret_key(key):
    result = _django("manage.py check", SECRET_KEY=key, **PRODUCTION)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_check_deploy_passes_with_the_csp_on():
    result = _django("manage.py check --deploy --fail-level WARNING", SECRET_KEY=GOOD_KEY, **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Acme\r\nBcc: x@example.com", "Acme Bcc: x@example.com"), ("Nul\x00 Pty", "Nul Pty"), ("Plain", "Plain")],
)
def test_single_line_strips_control_characters(text, expected):
    assert single_line(text) == expected


def test_email_subjects_and_file_names_are_built_safely():
    assert "\n" not in email_subject("Alert: Acme\r\nBcc: all@example.com")
    assert safe_filename('evil"\r\nSet-Cookie: x=1;.csv') == "evil_ Set-Cookie_ x_1_.csv"
    assert safe_filename("../../etc/passwd") == "_.._etc_passwd"


@pytest.mark.django_db
def test_a_name_with_crlf_is_stored_on_one_line_by_the_service(personas):
    account = services.create_account(
        actor=personas["customer_relations"], legal_name="Acme\r\nBcc: everyone@example.com Pty Ltd", office="perth"
    )
    assert Account.objects.get(pk=account.pk).legal_name == "Acme Bcc: everyone@example.com Pty Ltd"


@pytest.mark.django_db
def test_an_account_named_with_crlf_still_gets_its_concern_email(personas):
    account = AccountFactory(owner=personas["sales_rep"])
    Account.objects.filter(pk=account.pk).update(legal_name="Acme\r\nBcc: everyone@example.com")
    personas["sales_rep"].email = "rep@example.com"
    personas["sales_rep"].save()
    alert = ChurnAlertFactory(account=Account.objects.get(pk=account.pk), owner=personas["sales_rep"])

    assert notifications.notify_alert_owners([alert.pk]) == 1
    assert "\n" not in mail.outbox[0].subject
