"""Checking a webhook delivery, for the authority's receiver.

Each delivery carries `TAC-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>.<raw body>")>`. The timestamp is inside what is signed, so an old delivery cannot be sent
again with a fresh time; the tolerance bounds how old an accepted one may be.
"""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "TAC-Signature"


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    """The header the service sends with `body` at `timestamp` (for a receiver's own tests)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify_signature(
    secret: str,
    header: str | None,
    body: bytes,
    tolerance_seconds: int = 300,
    *,
    now: float | None = None,
) -> bool:
    """Whether `body` (the raw bytes received, before any JSON parsing) was signed with `secret`
    no more than `tolerance_seconds` from now. Any `v1` in the header may match (more than one
    may be sent); a malformed header is simply not a valid signature."""
    if not header:
        return False
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_seconds:
        return False
    expected = signature_header(secret, body, timestamp).rpartition("v1=")[2]
    # Constant time, and every candidate compared, so the time taken says nothing of the secret.
    matches = [hmac.compare_digest(expected, candidate) for candidate in signatures]
    return any(matches)
