"""Error replies exactly as Bitstamp sends them, built for the simulator (reference §6, §3).

The other direction from ``workstation.bitstamp.error_rules.classify``: the client reads
error bodies, the simulator writes them, and the protocol tests check that ``classify`` reads
each of these back as the right error. Separate from the error tree because they build wire
bytes, not exceptions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["blocked_text", "error_body", "legacy_error_body", "not_found_page"]


def error_body(
    reason: str | Mapping[str, Sequence[str]],
    *,
    code: str | None = None,
    response_code: str | None = None,
) -> dict[str, Any]:
    """Bitstamp's error body, keys in its order: status, reason, code, response_code (§6).

    ``json.dumps`` with its default separators reproduces Bitstamp's spacing exactly:
    ``{"status": "error", "reason": "Limit too large."}``.
    """
    body: dict[str, Any] = {"status": "error"}
    if isinstance(reason, str):
        body["reason"] = reason
    else:
        body["reason"] = {k: [v] if isinstance(v, str) else list(v) for k, v in reason.items()}
    if code is not None:
        body["code"] = code
    if response_code is not None:
        body["response_code"] = response_code
    return body


def legacy_error_body(message: str) -> dict[str, Any]:
    """The older ``{"error": message}`` shape: maintenance, "No permission found" (§6)."""
    return {"error": message}


def blocked_text(address: str, seconds: int) -> str:
    """The plain-text rate-limit reply, e.g. ``"10.10.10.10 blocked for 900 seconds"``."""
    return f"{address} blocked for {seconds} seconds"


def not_found_page() -> bytes:
    """The web server's 404 page for an unknown market path, as recorded (§3, [GEO])."""
    return (
        b'<?xml version="1.0" encoding="iso-8859-1"?>\n'
        b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n'
        b'         "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
        b'<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n'
        b" <head>\n  <title>404 Not Found</title>\n </head>\n"
        b" <body>\n  <h1>404 Not Found</h1>\n </body>\n</html>\n"
    )
