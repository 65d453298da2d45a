"""Kinds and statuses of the reports app."""

from __future__ import annotations

from django.db import models


class SnapshotSource(models.TextChoices):
    LIVE = "live", "Frozen from the live record"
    REBUILT = "rebuilt", "Rebuilt from history"


class FreezeAction(models.TextChoices):
    FREEZE = "freeze", "Frozen"
    REFREEZE = "refreeze", "Re-frozen by a steward"


class Movement(models.TextChoices):
    """How one account's ARR moved over the month (or the year)."""

    NEW = "new", "New"
    EXPANSION = "expansion", "Expansion"
    CONTRACTION = "contraction", "Contraction"
    CHURN = "churn", "Churned"
    FLAT = "flat", "Unchanged"
    NONE = "", "No ARR either side"


class DigestStatus(models.TextChoices):
    CLAIMED = "claimed", "Claimed (being prepared)"
    SENT = "sent", "Sent"
    EMPTY = "empty", "Nothing to say (not sent)"
    FAILED = "failed", "Failed"
