"""Themes: Textual's default dark theme, and a monochrome one for terminals (or eyes) where
colour is missing or misleading. In monochrome, bids and asks stay apart by place (asks
above the spread line, bids below) and by the depth bars' shade, never by hue alone."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.theme import Theme

__all__ = ["MONO_THEME", "register_themes"]

MONO_THEME = "workstation-mono"

_MONO = Theme(
    name=MONO_THEME,
    primary="#d0d0d0",
    secondary="#a0a0a0",
    accent="#ffffff",
    foreground="#e0e0e0",
    background="#000000",
    surface="#101010",
    panel="#202020",
    success="#e0e0e0",
    warning="#ffffff",
    error="#a8a8a8",
    dark=True,
)


def register_themes(app: App[Any]) -> None:
    app.register_theme(_MONO)
