"""Named reads of the pipeline app."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class SavedViewQuerySet(models.QuerySet):
    def visible_to(self, user, page: str) -> SavedViewQuerySet:
        """The person's own views of a page and their team's shared ones (a team: the
        people who share one of their roles)."""
        from pipeline.choices import Visibility

        team = Q(visibility=Visibility.TEAM, owner__groups__in=user.groups.all())
        return self.filter(Q(owner=user) | team, page=page).select_related("owner").distinct().order_by("name", "pk")
