"""Signed inbound requests: base64(HMAC-SHA256(secret, timestamp + raw body)).

The same scheme as the helpdesk webhook (`support_bridge/signing.py`), here for any app
that receives signed events (onboarding's provisioning events) without importing another
app. Headers `X-Signature` and `X-Signature-Timestamp` (ISO-8601 UTC); several secrets
may be configured while one is being rotated.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable

REPLAY_WINDOW = dt.timedelta(minutes=5)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def parse_timestamp(value: str) -> dt.datetime | None:
    """'2026-08-12T13:20:21Z' -> an aware datetime; None unless it is ISO-8601 with a zone."""
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def verify(
    *, secrets: Iterable[str], timestamp: str | None, signature: str | None, body: bytes, now: dt.datetime
) -> bool:
    """True when the signature matches one secret and the timestamp is within five minutes."""
    if not timestamp or not signature:
        return False
    moment = parse_timestamp(timestamp)
    if moment is None or abs(now - moment) > REPLAY_WINDOW:
        return False
    given = signature.strip().encode()
    matched = False  # every secret is checked, so timing says nothing about which matched
    for secret in secrets:
        matched |= hmac.compare_digest(sign(secret, timestamp, body).encode(), given)
    return matched
