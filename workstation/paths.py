"""Where the app's files are, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

__all__ = ["styles_dir", "styles_path"]

_PACKAGE = Path(__file__).resolve().parent


def styles_dir() -> Path:
    """The folder of .tcss files.

    A wheel carries the top-level ``styles/`` as ``workstation/_styles`` (hatch force-include);
    a checkout (and an editable install) reads ``styles/`` beside the package.
    """
    for candidate in (_PACKAGE / "_styles", _PACKAGE.parent / "styles"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the styles folder is missing from this installation")


def styles_path(name: str) -> Path:
    return styles_dir() / name
