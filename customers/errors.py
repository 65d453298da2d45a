"""Domain errors raised by customer services; views turn them into clear messages."""

from __future__ import annotations

from dataclasses import dataclass, field


class DomainError(Exception):
    """Base for errors a user can act on."""


class OwnershipError(DomainError):
    """The actor does not own one or more of the fields they tried to change."""

    def __init__(self, message: str, *, fields: list[str]):
        super().__init__(message)
        self.fields = fields


class AliasTakenError(DomainError):
    """An external id (Xero, helpdesk, legacy code) already names another account."""


@dataclass
class OtherChange:
    """One field changed by someone else since the user loaded the form."""

    field: str
    label: str
    old: str
    new: str
    who: str
    when: object
    why: str


@dataclass
class ConflictError(DomainError):
    """The record changed since the form was loaded (optimistic concurrency)."""

    current_version: int
    changes: list[OtherChange] = field(default_factory=list)

    def __str__(self) -> str:
        if not self.changes:
            return "Someone else saved this record after you opened it. Review and save again."
        parts = [f"{c.who} changed {c.label} from “{c.old}” to “{c.new}”" for c in self.changes]
        return (
            "Someone else saved this record after you opened it: "
            + "; ".join(parts)
            + ". Your changes were not saved; review them and save again."
        )


class MergeError(DomainError):
    """A merge or its undo cannot go ahead (same record, already merged, changed meanwhile,
    outside the undo window...). Nothing was changed."""


class StaleMoveError(DomainError):
    """A deal was moved by someone else after the board showing it was loaded."""
