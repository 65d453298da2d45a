"""One declarative matrix: every URL from the resolver x every role + anonymous.

Rows live in `tests/permission_rows/<app>.py`. A URL that is in no row fails
`test_every_url_is_in_the_matrix`, so a new page cannot ship without deciding who may
see it.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests import permission_rows
from tests.permission_rows import ANON, EVERYONE

MODULES = [
    importlib.import_module(f"tests.permission_rows.{info.name}")
    for info in pkgutil.iter_modules(permission_rows.__path__)
]
MATRIX: dict[str, dict[str, int]] = {}
OWNER: dict[str, object] = {}
for _module in MODULES:
    for _name, _row in _module.ROWS.items():
        assert _name not in MATRIX, f"{_name} is in two permission-row modules"
        MATRIX[_name] = _row
        OWNER[_name] = _module

# The admin's own generic pages (password change, add/delete views we disable, auth
# models, jsi18n...) are Django's and are guarded by the admin site for all of them.
ADMIN_GENERIC_PREFIX = "admin:"


def all_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace: str | None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, None)
    return names


def test_every_url_is_in_the_matrix():
    missing = {n for n in all_url_names() if n not in MATRIX and not n.startswith(ADMIN_GENERIC_PREFIX)}
    assert not missing, f"Add these URL names to a module in tests/permission_rows/: {sorted(missing)}"
    assert all(set(row) == set(EVERYONE) for row in MATRIX.values())


@pytest.fixture
def world(personas):
    built: dict = {}
    for module in MODULES:
        if hasattr(module, "build"):
            module.build(built, personas)
    return built


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_permission_matrix(name, world, client, personas):
    expected = MATRIX[name]
    module = OWNER[name]
    kwargs = module.url_kwargs(name, world) if hasattr(module, "url_kwargs") else {}
    url = reverse(name, kwargs=kwargs)
    seen = {}
    for role in EVERYONE:
        client.logout()
        if role != ANON:
            client.force_login(personas[role])
        seen[role] = client.get(url).status_code
    assert seen == expected, f"{url}: got {seen}"
