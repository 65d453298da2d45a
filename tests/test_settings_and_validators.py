"""Settings by environment, the ABN checksum and name normalisation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from customers.matching import normalise_name, phone_digits
from customers.validators import abn_is_valid, format_abn

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DJANGO_ENV")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", DJANGO_ENV="production")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_ENV="production",
        SECRET_KEY="a-long-and-random-production-secret-key-used-only-in-this-test-0123456789",
        ALLOWED_HOSTS="crm.cloudcore.example",
    )
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize("abn", ["51 824 753 556", "51824753556", "53 004 085 616", "33 102 417 032"])
def test_real_abns_pass_the_checksum(abn):
    assert abn_is_valid(abn)


@pytest.mark.parametrize("abn", ["51 824 753 557", "12345678901", "5182475355", "abcdefghijk", "", "01824753556"])
def test_wrong_abns_fail_the_checksum(abn):
    assert not abn_is_valid(abn)


def test_abns_are_shown_in_groups():
    assert format_abn("51824753556") == "51 824 753 556"


@pytest.mark.parametrize(
    "name",
    [
        "Acme Pty Ltd",
        "Acme",
        "ACME",
        "Acme Pty. Limited",
        "ACME P/L",
        "Acme Proprietary Limited",
        "acme ltd.",
        "The Acme Pty Ltd",
        "Acme Pty Ltd t/a Acme Widgets",
    ],
)
def test_acme_variants_share_one_key(name):
    assert normalise_name(name) == "acme"


def test_ampersand_reads_as_and():
    assert normalise_name("Smith & Jones Pty Ltd") == normalise_name("Smith and Jones")


def test_phone_numbers_compare_in_national_form():
    assert phone_digits("+61 8 9212 3456") == phone_digits("(08) 9212 3456") == "0892123456"
