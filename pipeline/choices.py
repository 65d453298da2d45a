"""Choices of the pipeline app."""

from __future__ import annotations

from django.db import models


class ViewPage(models.TextChoices):
    """The pages a saved view can restore."""

    PIPELINE = "pipeline", "Pipeline board"
    PIPELINE_LIST = "pipeline_list", "Pipeline list"
    FUNNEL = "funnel", "Funnel"
    CUSTOMERS = "customers", "Customer list"


class Visibility(models.TextChoices):
    PRIVATE = "private", "Only me"
    TEAM = "team", "My team"
