"""Logging in and out, and the lockout after repeated failures (django-axes)."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_demo_role_logs_in_and_lands_on_home(client, personas):
    response = client.post(reverse("login"), {"username": "finance", "password": "cloudcore-demo"})
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_a_wrong_password_is_refused_with_a_message(client, personas):
    response = client.post(reverse("login"), {"username": "finance", "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_five_failures_lock_the_username_out_even_with_the_right_password(client, personas):
    for _ in range(5):
        client.post(reverse("login"), {"username": "finance", "password": "guess"})
    response = client.post(reverse("login"), {"username": "finance", "password": "cloudcore-demo"})
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()


def test_logout_is_a_post(client_for):
    client = client_for("executive")
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("customers:account_list")).status_code == 302
