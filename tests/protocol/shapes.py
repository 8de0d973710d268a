"""The "shape" of a JSON value, and a comparison that names every path that differs.

A shape maps each path in a value to the set of JSON types seen there::

    {"$": {"object"}, "$.data": {"object"}, "$.data.id": {"int"}, "$.data.bids[]": {"array"},
     "$.data.bids[][]": {"string"}}

Dict keys extend the path with ``.key``; list elements share one path ending in ``[]``, so a
list's shape is the union of its elements' shapes. Leaf types are JSON's, with numbers split
into ``int`` (written without a point or exponent: ids, type codes) and ``float``.

``differences(ours, theirs)`` reports, precisely:

* ``missing``: a path Bitstamp sends that we never send (only the topmost such path);
* ``extra``: a path we send that Bitstamp never sends (topmost only);
* ``type``: a path both send where we use a JSON type Bitstamp does not.

Numbers: where Bitstamp sends a fractional number (``float``), an integral one from us is the
same JSON number (Bitstamp itself writes ``"price":25862``), so ``int`` is accepted there.
Where Bitstamp sends only ``int`` (ids, ``type``, ``order_type``), a ``float`` from us is a
difference, unless the path is listed in ``numbers``: paths where a recording happens to hold
only integral values of a field that is really fractional.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Difference", "Shape", "assert_same", "differences", "shape", "union"]

Shape = dict[str, frozenset[str]]
"""Path -> the JSON types seen at that path."""

KeyAlias = Callable[[str, str, Any], str]
"""(parent path, key, value) -> the name the key is filed under (e.g. ``<currency>``)."""


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: bool is an int in Python
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {value!r}")


def shape(value: Any, alias: KeyAlias | None = None) -> Shape:
    """The shape of a decoded JSON value (``json.loads`` output).

    ``alias`` renames keys that vary by content, such as currency codes in user transactions,
    so that rows of different markets share one shape.
    """
    found: dict[str, set[str]] = {}

    def walk(path: str, node: Any) -> None:
        found.setdefault(path, set()).add(_type(node))
        if isinstance(node, dict):
            for key, child in node.items():
                name = alias(path, key, child) if alias is not None else key
                walk(f"{path}.{name}", child)
        elif isinstance(node, list):
            for child in node:
                walk(f"{path}[]", child)

    walk("$", value)
    return {path: frozenset(types) for path, types in found.items()}


def union(shapes: Iterable[Shape]) -> Shape:
    """Every path of every shape, with the types seen at it anywhere."""
    merged: dict[str, set[str]] = {}
    for one in shapes:
        for path, types in one.items():
            merged.setdefault(path, set()).update(types)
    return {path: frozenset(types) for path, types in merged.items()}


@dataclass(frozen=True)
class Difference:
    kind: str  # "missing" | "extra" | "type"
    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} {self.path}: {self.detail}"


def _topmost(paths: set[str]) -> list[str]:
    """Paths whose parent is not in the set: a missing object is one difference, not ten."""
    return sorted(p for p in paths if _parent(p) not in paths)


def _parent(path: str) -> str:
    if path.endswith("[]"):
        return path[:-2]
    return path.rpartition(".")[0]


def _covered(path: str, allowed: Mapping[str, str]) -> bool:
    """``path`` or one of its ancestors is allowed."""
    while path:
        if path in allowed:
            return True
        path = _parent(path)
    return False


def _accepted(ours: frozenset[str], theirs: frozenset[str], any_number: bool) -> frozenset[str]:
    """Our types at a path that Bitstamp's types do not account for."""
    numbers = {"int", "float"}
    if any_number and theirs & numbers:
        theirs = theirs | numbers
    elif "float" in theirs:
        theirs = theirs | {"int"}  # 25862 and 25862.5 are both JSON numbers
    return ours - theirs


def differences(
    ours: Shape,
    theirs: Shape,
    *,
    numbers: Iterable[str] = (),
    extra_ok: Mapping[str, str] | None = None,
    missing_ok: Mapping[str, str] | None = None,
) -> list[Difference]:
    """How ``ours`` (the simulator's shape) differs from ``theirs`` (Bitstamp's).

    Args:
        numbers: paths where any JSON number is right (see the module docstring).
        extra_ok: paths (and everything under them) we may send although Bitstamp's sample
            does not, each with the reason.
        missing_ok: paths Bitstamp sends that we may leave out, each with the reason.
    """
    extra_ok = extra_ok or {}
    missing_ok = missing_ok or {}
    any_number = set(numbers)
    out = []
    for path in _topmost(set(theirs) - set(ours)):
        if not _covered(path, missing_ok):
            out.append(Difference("missing", path, f"Bitstamp sends {_show(theirs[path])}"))
    for path in _topmost(set(ours) - set(theirs)):
        if not _covered(path, extra_ok):
            out.append(Difference("extra", path, f"we send {_show(ours[path])}"))
    for path in sorted(set(ours) & set(theirs)):
        wrong = _accepted(ours[path], theirs[path], path in any_number)
        if wrong:
            out.append(
                Difference(
                    "type",
                    path,
                    f"we send {_show(wrong)}, Bitstamp sends {_show(theirs[path])}",
                )
            )
    return out


def _show(types: frozenset[str]) -> str:
    return "|".join(sorted(types))


def assert_same(ours: Shape, theirs: Shape, **allowed: Any) -> None:
    """Fail with one line per difference (``differences`` takes the same keywords)."""
    found = differences(ours, theirs, **allowed)
    assert not found, "\n".join(str(d) for d in found)
