"""Standard Webhooks verification (https://www.standardwebhooks.com): HMAC-SHA256 over
`{webhook-id}.{webhook-timestamp}.{body}`, keyed by the base64 part of the `whsec_` secret, sent as `v1,<base64>`."""

import base64
import hashlib
import hmac
import json
import time
from typing import Any, Mapping, Optional, Union


class WebhookVerificationError(Exception):
    pass


def _header(headers: Mapping[str, Any], name: str) -> Optional[str]:
    getter = getattr(headers, "get", None)
    for key in (name, name.title(), name.upper()):
        value = getter(key) if getter else None
        if value:
            return str(value)
    for key, value in headers.items():
        if key.lower() == name:
            return str(value)
    return None


def verify_webhook(
    secret: str,
    body: Union[bytes, str],
    headers: Mapping[str, Any],
    tolerance_seconds: int = 300,
    now: Optional[float] = None,
) -> Any:
    """Checks a delivery's signature and timestamp and returns its parsed JSON payload.

    Pass the body exactly as received (bytes or text), not a re-serialised object.
    Raises WebhookVerificationError when it does not verify.
    """
    raw = body.decode("utf-8") if isinstance(body, bytes) else body
    msg_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if not msg_id or not timestamp or not signatures:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header")
    try:
        sent = int(timestamp)
    except ValueError:
        raise WebhookVerificationError("webhook timestamp is not a number") from None
    current = int(now if now is not None else time.time())
    if abs(current - sent) > tolerance_seconds:
        raise WebhookVerificationError("webhook timestamp is outside the tolerance")
    try:
        key = base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret, validate=True)
    except ValueError:
        raise WebhookVerificationError("webhook secret is not a whsec_ base64 secret") from None
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{raw}".encode("utf-8"), hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode("ascii")
    for candidate in signatures.split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            try:
                return json.loads(raw)
            except ValueError:
                raise WebhookVerificationError("webhook body is not JSON") from None
    raise WebhookVerificationError("webhook signature does not match")
