"""A key or secret held so that printing it shows nothing.

Textual's crash report prints every frame's local variables, loggers print arguments, and an
exception's message may quote what it was given: a plain ``str`` holding an API secret leaks
through all three. A `Secret` prints as ``***`` in ``str``, ``repr`` and f-strings; only
:meth:`Secret.reveal` gives the value, and it is called where the value must leave as text
(the HMAC key, the ``X-Auth`` header, the keyring's write).
"""

from __future__ import annotations

import hmac

__all__ = ["Secret"]

_MASK = "***"


class Secret:
    """A string that never shows itself; ``reveal()`` is the one way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("a Secret holds a str")
        self._value = value

    def reveal(self) -> str:
        """The value itself: for the signer and the keyring, never for a message."""
        return self._value

    def tail(self, count: int = 4) -> str:
        """``…WXYZ``: the last ``count`` characters, enough to tell two API keys apart.

        Only for an API key (an identifier sent in clear with every signed request), never
        for the secret that signs."""
        return "…" + self._value[-count:]

    def __len__(self) -> int:
        return len(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return f"Secret({_MASK!r})"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, spec: str) -> str:
        return _MASK

    def __reduce__(self) -> tuple[object, ...]:
        # pickling would write the value out (a copy in a file, a queue, a child process)
        raise TypeError("a Secret is not pickled")
