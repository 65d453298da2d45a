"""Saved views: the filters a person uses, kept under a name."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from pipeline.choices import ViewPage, Visibility
from pipeline.querysets import SavedViewQuerySet


class SavedView(models.Model):
    """A named set of filters for one page (the pipeline board or list, the funnel, the
    customer list). Private views are seen by their owner only; team views by everyone who
    shares one of the owner's roles. One view per person and page may be their default,
    opened when they come to the page without filters."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    page = models.CharField(max_length=16, choices=ViewPage.choices)
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=1000, blank=True, help_text="The page's query string, without '?'.")
    visibility = models.CharField(max_length=8, choices=Visibility.choices, default=Visibility.PRIVATE)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SavedViewQuerySet.as_manager()

    class Meta:
        ordering = ["page", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "page", "name"], name="saved_view_name_unique_per_page"),
            models.UniqueConstraint(
                fields=["owner", "page"], condition=Q(is_default=True), name="saved_view_one_default_per_page"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_page_display()})"
