"""API keys in the OS keyring, and only there.

A key pair for ``sandbox`` or ``live`` is stored under the service name
``bitstamp-workstation/<env>`` (the key and the secret as two entries), read when the app
starts on that environment, and never written to a file, a log, the screen or an exception
message. Errors say *what* failed (no keyring, nothing stored), never with the values.
The simulator needs no stored keys: it makes its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import keyring
from keyring.errors import KeyringError, PasswordDeleteError

__all__ = ["ENVIRONMENTS", "KeyStore", "KeyStoreError", "StoredKeys"]

ENVIRONMENTS = ("sandbox", "live")
_SERVICE = "bitstamp-workstation/{env}"
_KEY, _SECRET = "api_key", "api_secret"


class KeyStoreError(RuntimeError):
    """The keyring could not be used; the message says why, and holds no key material."""


@dataclass(frozen=True)
class StoredKeys:
    env: str
    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)


def _check(env: str) -> str:
    if env not in ENVIRONMENTS:
        raise KeyStoreError(f"keys are stored for {' or '.join(ENVIRONMENTS)}, not {env!r}")
    return _SERVICE.format(env=env)


def _plausible(value: str, what: str) -> str:
    value = value.strip()
    if not value or not value.isascii() or not value.isalnum():
        # Bitstamp keys and secrets are ASCII letters and digits: anything else is a paste
        # accident (a space, a quote, a newline). Say so without echoing it.
        raise KeyStoreError(f"the {what} must be letters and digits only ({len(value)} given)")
    return value


class KeyStore:
    """Read and write key pairs in the OS keyring (``keyring``'s default backend)."""

    def save(self, env: str, api_key: str, api_secret: str) -> None:
        service = _check(env)
        key, secret = _plausible(api_key, "API key"), _plausible(api_secret, "API secret")
        try:
            keyring.set_password(service, _KEY, key)
            keyring.set_password(service, _SECRET, secret)
        except KeyringError as exc:
            raise KeyStoreError(f"could not store the keys in the OS keyring: {exc}") from None

    def load(self, env: str) -> StoredKeys | None:
        """The stored pair for ``env``, or None when nothing (or only half) is stored."""
        service = _check(env)
        try:
            key = keyring.get_password(service, _KEY)
            secret = keyring.get_password(service, _SECRET)
        except KeyringError as exc:
            raise KeyStoreError(f"could not read the OS keyring: {exc}") from None
        if not key or not secret:
            return None
        return StoredKeys(env, key, secret)

    def delete(self, env: str) -> bool:
        """Remove the pair; False if there was none."""
        service = _check(env)
        removed = False
        for name in (_KEY, _SECRET):
            try:
                keyring.delete_password(service, name)
                removed = True
            except PasswordDeleteError:
                continue
            except KeyringError as exc:
                raise KeyStoreError(f"could not change the OS keyring: {exc}") from None
        return removed
