"""Pages of the project itself (not of one app)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def profile(request: HttpRequest) -> HttpResponse:
    """The signed-in person: their roles, and what other apps show them here (the
    renewals calendar feeds, through the "profile" panel slot)."""
    return render(request, "profile.html")
