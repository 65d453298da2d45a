"""The Celery app. Tasks live in each app's tasks.py and wrap services."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudcore_crm.settings")

app = Celery("cloudcore_crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
