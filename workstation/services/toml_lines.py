"""Where a key is written in a TOML file, for messages that name its line.

``tomllib`` gives the line of a syntax error but forgets where each value came from, so a
value that parses and is wrong (a typo'd key, a negative limit) is found again here by a
small scan of the source: the table headers (``[live]``, ``[live.max_notional]``) and each
``key = value`` line under them, dotted keys included. An inline table's or a multi-line
array's entries are reported at the line of the key that holds them. Good enough for a
config file a person wrote; it does not parse TOML (``tomllib`` already did).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["key_line", "keys_of_line", "syntax_error_line"]

_HEADER = re.compile(r"^\s*\[\[?\s*(?P<path>[^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = r"(?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')"
"""One part of a key: bare, "quoted" or 'literal'."""
_ASSIGNMENT = re.compile(rf"^\s*(?P<key>{_KEY}(?:\s*\.\s*{_KEY})*)\s*=")
_PART = re.compile(r"\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_\-]+)")
_AT_LINE = re.compile(r"\(at line (?P<line>\d+), column \d+\)")


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(next(g for g in m.groups() if g is not None) for m in _PART.finditer(dotted))


def keys_of_line(lines: Sequence[str]) -> list[tuple[int, tuple[str, ...]]]:
    """Each line that names a key or a table: (line number from 1, the full key path)."""
    table: tuple[str, ...] = ()
    found: list[tuple[int, tuple[str, ...]]] = []
    for number, line in enumerate(lines, start=1):
        if (header := _HEADER.match(line)) is not None:
            table = _parts(header["path"])
            found.append((number, table))
        elif (assignment := _ASSIGNMENT.match(line)) is not None:
            found.append((number, table + _parts(assignment["key"])))
    return found


def key_line(lines: Sequence[str], key: Sequence[str]) -> int | None:
    """The line that sets ``key`` (a path such as ``("live", "max_notional", "USD")``), or
    the line of the nearest enclosing key or table that is written out; None if neither."""
    wanted = tuple(key)
    best: tuple[int, int] | None = None  # (how much of the key the line names, its number)
    for number, path in keys_of_line(lines):
        if wanted[: len(path)] != path:
            continue
        if best is None or len(path) > best[0]:
            best = (len(path), number)
    return None if best is None else best[1]


def syntax_error_line(message: str) -> int | None:
    """The line ``tomllib`` names in a syntax error's message, if it names one."""
    match = _AT_LINE.search(message)
    return None if match is None else int(match["line"])
