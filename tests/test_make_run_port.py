"""`make run PORT=8010`: the printed logins and the email links follow the port."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _demo_logins(env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "PORT")}
    result = subprocess.run(
        [sys.executable, "manage.py", "demo_logins"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_the_printed_logins_follow_the_port():
    assert "Demo logins at http://127.0.0.1:8010 " in _demo_logins({"PORT": "8010"})


def test_the_default_port_is_8000_and_site_url_wins_when_set():
    assert "Demo logins at http://127.0.0.1:8000 " in _demo_logins({})
    assert "Demo logins at https://crm.example.com " in _demo_logins(
        {"PORT": "8010", "SITE_URL": "https://crm.example.com"}
    )


def test_the_makefile_serves_on_the_port_it_is_given():
    makefile = (ROOT / "Makefile").read_text()
    assert "PORT ?= 8000" in makefile
    assert "runserver 127.0.0.1:$(PORT)" in makefile
