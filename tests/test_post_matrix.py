"""Every URL that changes data, posted as every role and as nobody, with the expected answer.

Rows live in `tests/post_rows/<app>.py` (see its `__init__`). A refused POST must leave
every table as it was (row counts and every value); an allowed one must do what it says.
The steward admin is covered too: every registered model's list, change, history and
history-form pages, for the steward and for every other role.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from simple_history.admin import SimpleHistoryAdmin

from customers.admin import StewardAdmin
from tests import permission_rows, post_rows
from tests.post_rows import ANON, EVERYONE, SUPERUSER_ONLY_ADMIN_APPS
from tests.test_permissions import all_url_names

GET_MODULES = [
    importlib.import_module(f"tests.permission_rows.{info.name}")
    for info in pkgutil.iter_modules(permission_rows.__path__)
]
MODULES = [importlib.import_module(f"tests.post_rows.{info.name}") for info in pkgutil.iter_modules(post_rows.__path__)]
POSTS: dict[str, post_rows.PostRow] = {}
READ_ONLY: set[str] = set()
for _module in MODULES:
    for _label, _row in _module.POSTS.items():
        assert _label not in POSTS, f"{_label} is in two post-row modules"
        POSTS[_label] = _row
    READ_ONLY |= set(getattr(_module, "READ_ONLY", ()))

# Tables that change when someone merely logs in or is shown a page.
UNWATCHED = {"sessions.session", "contenttypes.contenttype", "auth.permission"}


def snapshot() -> dict[str, list]:
    """Every row of every table (but sessions), ordered: the database as a value."""
    state = {}
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.label_lower
        if label in UNWATCHED or not model._meta.managed:
            continue
        rows = model._default_manager.order_by("pk").values()
        state[label] = [{k: v for k, v in row.items() if k != "last_login"} for row in rows]
    return state


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(label for label in before if before[label] != after[label])


@pytest.fixture
def world(personas):
    built: dict = {"personas": personas, "steward": personas["data_steward"]}
    for module in (*GET_MODULES, *MODULES):
        if hasattr(module, "build"):
            module.build(built, personas)
    return built


def test_every_url_is_posted_or_declared_read_only():
    names = {name for name in all_url_names() if not name.startswith("admin:")}
    posted = {row.name(label) for label, row in POSTS.items()}
    undecided = names - posted - READ_ONLY
    assert not undecided, f"Add these URL names to POSTS or READ_ONLY in tests/post_rows/: {sorted(undecided)}"
    assert not (posted & READ_ONLY)
    assert all(set(row.expected) == set(EVERYONE) for row in POSTS.values())


def _errors(response) -> str:
    import re

    html = response.content.decode(errors="replace")
    return (
        " | ".join(re.findall(r'class="(?:field-error|form-errors)[^"]*"[^>]*>(.*?)</div>', html, re.S)) or html[:800]
    )


def _post(client, label: str, world: dict):
    row = POSTS[label]
    url = reverse(row.name(label), kwargs=row.kwargs(world))
    data = row.data(world)
    if row.content_type:
        return client.post(url, data=data["body"], content_type=row.content_type)
    return client.post(url, data)


def _check(label: str, role: str, world: dict, client, personas) -> str:
    """Post as `role`; return what went wrong ("" when the answer and the database are right)."""
    row = POSTS[label]
    client.logout()
    if role != ANON:
        client.force_login(personas[role])
    before = snapshot()
    response = _post(client, label, world)
    expected = row.expected[role]
    if response.status_code != expected:
        return f"{role}: answered {response.status_code}, expected {expected} ({_errors(response)[:300]})"
    written = changed_tables(before, snapshot())
    if expected in row.ok and (role != ANON or row.public):
        if row.writes and not written:
            return f"{role}: answered {expected} but wrote nothing"
        if row.done:
            row.done(world, role)
    elif written:
        return f"{role}: refused with {expected} but wrote to {written}"
    elif role == ANON and expected == 302 and not response["Location"].startswith(reverse("login")):
        return f"{role}: sent to {response['Location']}, not the login page"
    return ""


@pytest.mark.django_db
@pytest.mark.parametrize("label", sorted(POSTS))
def test_post_matrix(label, world, client, personas):
    """Each role posts to the same world: each in a savepoint rolled back afterwards."""
    problems = []
    for role in EVERYONE:
        with transaction.atomic():
            problems.append(_check(label, role, world, client, personas))
            transaction.set_rollback(True)
    problems = [p for p in problems if p]
    assert not problems, f"{label}:\n" + "\n".join(problems)


# --- The steward admin -----------------------------------------------------------------


def _instance(model, world: dict):
    found = model._default_manager.order_by("pk").first()
    assert found is not None, f"add a {model.__name__} to the POST-matrix world so its admin pages are checked"
    return found


ADMIN_ALL = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
SUPERUSER_ONLY = [m for m, _ in ADMIN_ALL if m._meta.app_label in SUPERUSER_ONLY_ADMIN_APPS]
ADMIN_MODELS = [(m, a) for m, a in ADMIN_ALL if m._meta.app_label not in SUPERUSER_ONLY_ADMIN_APPS]
ADMIN_IDS = [model._meta.label_lower for model, _ in ADMIN_MODELS]
NOT_STEWARDS = [r for r in EVERYONE if r != "data_steward"]


def _admin_urls(model, model_admin, obj) -> dict[str, str]:
    info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    urls = {
        "list": reverse(f"{info}_changelist"),
        "change": reverse(f"{info}_change", args=[obj.pk]),
        "history": reverse(f"{info}_history", args=[obj.pk]),
    }
    if isinstance(model_admin, SimpleHistoryAdmin) and hasattr(obj, "history"):
        version = obj.history.order_by("history_id").first()
        if version is None:
            obj.save()
            version = obj.history.get()
        with contextlib.suppress(NoReverseMatch):
            urls["history form"] = reverse(f"{info}_simple_history", args=[obj.pk, version.history_id])
    return urls


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "model_admin"), ADMIN_MODELS, ids=ADMIN_IDS)
def test_every_admin_page_is_the_stewards_alone(model, model_admin, world, client, personas):
    obj = _instance(model, world)
    urls = _admin_urls(model, model_admin, obj)
    assert {"list", "change", "history"} <= set(urls)
    # Staff who are not stewards go to the admin's login; anonymous users to the site's.
    logins = (reverse("admin:login"), reverse("login"))
    for role in NOT_STEWARDS:
        client.logout()
        if role != ANON:
            client.force_login(personas[role])
        for page, url in urls.items():
            response = client.get(url)
            assert response.status_code == 302 and response["Location"].startswith(logins), (role, page)
    client.force_login(personas["data_steward"])
    seen = {page: client.get(url).status_code for page, url in urls.items()}
    # Reverting from the history form would bypass ownership and concurrency: never shown
    # for records stewards edit; the read-only records may show an old version.
    assert {p: s for p, s in seen.items() if p != "history form"} == {"list": 200, "change": 200, "history": 200}
    if "history form" in seen:
        assert seen["history form"] in (200, 403)


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "model_admin"), ADMIN_MODELS, ids=ADMIN_IDS)
def test_admin_posts_by_anyone_but_a_steward_change_nothing(model, model_admin, world, client, personas):
    obj = _instance(model, world)
    urls = _admin_urls(model, model_admin, obj)
    body = {"change_reason": "admin matrix", "legal_name": "Changed In Admin", "_save": "Save"}
    for role in NOT_STEWARDS:
        client.logout()
        if role != ANON:
            client.force_login(personas[role])
        before = snapshot()
        for page in ("change", "history form"):
            if page in urls:
                assert client.post(urls[page], body).status_code == 302, (role, page)
        assert changed_tables(before, snapshot()) == [], role


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "model_admin"), ADMIN_MODELS, ids=ADMIN_IDS)
def test_a_steward_cannot_revert_from_the_admin_history_form(model, model_admin, world, client, personas):
    obj = _instance(model, world)
    urls = _admin_urls(model, model_admin, obj)
    if "history form" not in urls:
        pytest.skip("no history form")
    client.force_login(personas["data_steward"])
    before = snapshot()
    response = client.post(urls["history form"], {"_save": "Revert"})
    # Records stewards edit refuse the form outright; read-only records may show it.
    assert response.status_code == 403 if isinstance(model_admin, StewardAdmin) else response.status_code in (200, 403)
    assert changed_tables(before, snapshot()) == []


@pytest.mark.django_db
@pytest.mark.parametrize("model", SUPERUSER_ONLY, ids=[m._meta.label_lower for m in SUPERUSER_ONLY])
def test_users_groups_and_lockouts_are_for_the_superuser_alone(model, client, personas):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    logins = (reverse("admin:login"), reverse("login"))
    for role in NOT_STEWARDS:
        client.logout()
        if role != ANON:
            client.force_login(personas[role])
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(logins), role
    client.force_login(personas["data_steward"])
    assert client.get(url).status_code == 403
