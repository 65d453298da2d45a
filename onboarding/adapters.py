"""Provisioning adapters (seed 002 US-03): how an eligible order's tasks get done.

`ONBOARDING_PROVISIONING_ADAPTER` names the class. The default, `DelayedAutoProvisioning`,
completes each task on a Celery worker after `ONBOARDING_AUTO_PROVISION_DELAY` seconds (a
stand-in for the platforms' own APIs). `ExternalProvisioning` does nothing: IT's tooling
reports each result through the signed `POST /api/onboarding/events` instead.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from onboarding.models import ProvisioningTask


class ProvisioningAdapter(ABC):
    """Starts the provisioning of one task; results come back through the services."""

    @abstractmethod
    def start(self, task: ProvisioningTask) -> None:
        """Begin provisioning `task` (after the current transaction commits)."""


class DelayedAutoProvisioning(ProvisioningAdapter):
    def start(self, task: ProvisioningTask) -> None:
        from onboarding.tasks import auto_provision

        options = {"countdown": settings.ONBOARDING_AUTO_PROVISION_DELAY}
        if settings.ONBOARDING_PROVISIONING_QUEUE:
            options["queue"] = settings.ONBOARDING_PROVISIONING_QUEUE
        pk = task.pk
        # After commit: the worker must find the task (and its order) saved.
        transaction.on_commit(lambda: auto_provision.apply_async(args=[pk], **options))


class ExternalProvisioning(ProvisioningAdapter):
    def start(self, task: ProvisioningTask) -> None:
        return None


def get_adapter() -> ProvisioningAdapter:
    return import_string(settings.ONBOARDING_PROVISIONING_ADAPTER)()
