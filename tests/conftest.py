"""Shared fixtures: one persona per role, and a client logged in as each."""

from __future__ import annotations

import pytest
from django.conf import settings

from cloudcore_crm.celery import app as celery_app
from cloudcore_crm.roles import ROLE_NAMES
from tests.factories import UserFactory

# Tasks run in-process in the suite even when REDIS_URL is set (as in CI): a test must not
# depend on a worker being up. Without this, a task queued to Redis would never run.
celery_app.conf.update(task_always_eager=True, task_eager_propagates=True)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_persona(role: str):
    return UserFactory(
        username=role,
        first_name=role.replace("_", " ").title(),
        last_name="Demo",
        roles=[role],
        is_staff=role == "data_steward",
    )


@pytest.fixture
def personas(db):
    """One user per role, named after it."""
    return {role: make_persona(role) for role in ROLE_NAMES}


@pytest.fixture
def client_for(client, personas):
    def login(role: str):
        client.force_login(personas[role])
        return client

    return login


def is_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
