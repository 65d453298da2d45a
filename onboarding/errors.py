"""Errors the onboarding services raise; views turn them into clear messages."""

from __future__ import annotations

from customers.errors import DomainError


class OnboardingError(DomainError):
    """The action cannot go ahead in the order's present state; nothing was changed."""


class NotAllowedError(DomainError):
    """The actor's roles do not allow this action on this order."""


class MissingFieldsError(OnboardingError):
    """Submission blocked: every required field that is missing, in words."""

    def __init__(self, missing: list[str]):
        self.missing = missing
        super().__init__("The order cannot be submitted; these required fields are missing: " + "; ".join(missing))


class DuplicateClientError(OnboardingError):
    """The new client looks like existing accounts: pick one, or confirm it is new."""

    def __init__(self, matches: list):
        self.matches = matches
        names = ", ".join(f"{m.code} {m.label}" for m in matches[:5])
        super().__init__(f"The new client looks like existing accounts ({names}): use one, or confirm it is new.")
