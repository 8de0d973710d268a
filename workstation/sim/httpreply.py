"""How the simulator writes HTTP replies: JSON exactly as Bitstamp does, HTML error pages."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from .wire.error_bodies import not_found_page
from .wire.fields import dumps

__all__ = ["HTML_404", "html_error_page", "json_body_reply", "json_reply"]

# Bitstamp's CDN answers unknown paths and markets with an HTML page, not JSON (reference 3).
HTML_404 = not_found_page().decode("latin-1")


def html_error_page(status: int) -> str:
    return (
        f"<!DOCTYPE html><html><head><title>{status} Error</title></head>"
        f"<body><h1>{status}</h1><p>The server could not complete your request.</p></body></html>"
    )


def json_reply(
    payload: object, status: int = 200, *, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON response; ``Content-Type: application/json`` exactly (the signature covers it).

    Decimals in ``payload`` are where Bitstamp writes a JSON number (cancel replies, rates):
    ``dumps`` writes their exact digits, never through float."""
    response = web.Response(status=status, body=dumps(payload), headers=headers)
    response.content_type = "application/json"
    return response


def json_body_reply(body: bytes, status: int = 200) -> web.Response:
    """A JSON response of a body already written (a cached ``transactions`` array)."""
    response = web.Response(status=status, body=body)
    response.content_type = "application/json"
    return response
