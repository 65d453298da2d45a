"""Webhook signatures: base64(HMAC-SHA256(secret, timestamp + raw body)), as DESIGN.md says.

Zendesk signs the same way under its own header names; our receiver reads `X-Signature`
and `X-Signature-Timestamp`. The scheme is the one every signed inbound request uses
(`cloudcore_crm/lib/signing.py`, onboarding's provisioning events too): one implementation.
"""

from __future__ import annotations

from cloudcore_crm.lib.signing import REPLAY_WINDOW, parse_timestamp, sign, verify

__all__ = ["REPLAY_WINDOW", "parse_timestamp", "sign", "verify"]
