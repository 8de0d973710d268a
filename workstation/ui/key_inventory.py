"""Every key the workstation uses, read from the bindings themselves (so the key test can
never drift from what the keys do): the ``BINDINGS`` each class of ours declares, those of
Textual's ``App`` and ``Screen`` that every screen inherits (quit, next and previous field),
and the app's command palette key. Keys no terminal sends (``super+``) are left out.

Keys read by a handler rather than a binding (a typed pair name, the ticket's digits, the
letters of a question's answers) are text, not listed: a terminal that types at all delivers
them.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Iterator

import msgspec
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import format_key
from textual.screen import Screen

__all__ = ["KeyUse", "key_label", "keys_in_use"]

_OURS = "workstation.ui."


class KeyUse(msgspec.Struct, frozen=True):
    """One key and what it does, wherever it is bound."""

    key: str
    """Textual's name of the key (``ctrl+k``, ``question_mark``, ``shift+tab``)."""
    uses: tuple[str, ...]
    """The descriptions of its bindings, in the order met, without repeats."""


def key_label(key: str) -> str:
    """The key as a trader reads it: ``?`` for ``question_mark``, ``ctrl+k`` as it is."""
    shown = format_key(key)
    if len(shown) == 1 and shown.isascii() and shown.isprintable() and shown != " ":
        return shown
    return key


def _classes_of_ours(root: type[DOMNode]) -> Iterator[type[DOMNode]]:
    """``root``'s subclasses defined in the workstation's UI, each once."""
    seen: set[type[DOMNode]] = set()
    todo = list(root.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith(_OURS):
            yield cls


def _bindings(classes: Iterable[type[DOMNode]]) -> Iterator[Binding]:
    """The bindings each class declares, system ones left out."""
    for cls in classes:
        for binding in vars(cls).get("BINDINGS", ()):
            if isinstance(binding, Binding) and not binding.system:
                yield binding


def _import_the_ui() -> None:
    """Import every module of the workstation's UI: a start imports the screens a key opens
    (the ticket, the kill switch's) only when it opens them, and their keys count too."""
    package = importlib.import_module(_OURS.rstrip("."))
    for module in pkgutil.walk_packages(package.__path__, _OURS):
        importlib.import_module(module.name)


def keys_in_use(app: App[object]) -> list[KeyUse]:
    """Every key bound in the workstation's UI (every module of it imported first), sorted:
    named keys first, then the printable ones."""
    _import_the_ui()
    uses: dict[str, list[str]] = {}
    palette = Binding(app.COMMAND_PALETTE_BINDING, "command_palette", "Command palette")
    ours = sorted(_classes_of_ours(DOMNode), key=lambda c: (c.__module__, c.__qualname__))
    for binding in [*_bindings([App, Screen, *ours]), palette]:
        for key in binding.key.split(","):
            key = key.strip()
            if key.startswith("super+"):
                continue
            descriptions = uses.setdefault(key, [])
            what = binding.description or binding.action
            if what not in descriptions:
                descriptions.append(what)

    def order(key: str) -> tuple[bool, str]:
        return (len(key_label(key)) == 1, key_label(key))

    return [KeyUse(key, tuple(uses[key])) for key in sorted(uses, key=order)]
