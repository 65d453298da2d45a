"""Writes of the pipeline app. Moving a deal is `customers.services.move_opportunity`
(deals are customer facts); here: saved views."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from pipeline.choices import ViewPage, Visibility
from pipeline.models import SavedView

# Parameters that are never part of a view: the page number, and the view being applied.
NOT_SAVED = {"page", "view", "csrfmiddlewaretoken"}


def clean_query(query: str) -> str:
    """The filters of a query string, in a stable order, without paging."""
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=False) if k not in NOT_SAVED and v.strip()]
    return urlencode(sorted(pairs))


@transaction.atomic
def save_view(
    *, owner: AbstractBaseUser, page: str, name: str, query: str, visibility: str, is_default: bool
) -> SavedView:
    """Save (or overwrite, by name) a person's view of a page."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Give the view a name."})
    if page not in ViewPage.values:
        raise ValidationError({"page": "Unknown page."})
    if visibility not in Visibility.values:
        raise ValidationError({"visibility": "Choose who sees the view."})
    if is_default:
        SavedView.objects.filter(owner=owner, page=page, is_default=True).exclude(name=name).update(is_default=False)
    view, _ = SavedView.objects.update_or_create(
        owner=owner,
        page=page,
        name=name[:80],
        defaults={"query": clean_query(query)[:1000], "visibility": visibility, "is_default": is_default},
    )
    return view


def delete_view(*, view: SavedView, actor: AbstractBaseUser) -> None:
    if view.owner_id != actor.pk:
        raise PermissionDenied("Only the person who saved a view may delete it.")
    view.delete()


def default_query(*, user: AbstractBaseUser, page: str) -> str | None:
    view = SavedView.objects.filter(owner=user, page=page, is_default=True).only("query").first()
    return view.query if view is not None else None
