"""API key pairs: kept in a keyring, or given in the environment, never anywhere else.

A pair for ``sandbox`` or ``live`` is stored under the service name
``bitstamp-workstation/<env>`` (the key and the secret as two entries) in the keyring
:mod:`~workstation.services.keyring_choice` chose, and read when the app starts on that
environment. ``BITSTAMP_API_KEY`` and ``BITSTAMP_API_SECRET``, when set, take the place of
the keyring (for a container or a one-off run), and the app says so on screen.

Values travel as :class:`~workstation.bitstamp.secret.Secret`; errors say *what* failed and in
which keyring, never with the values. The simulator needs no stored keys: it makes its own.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import msgspec

from ..bitstamp.secret import Secret

if TYPE_CHECKING:
    from .keyring_choice import KeyringChoice

__all__ = [
    "ENVIRONMENTS",
    "ENV_KEY",
    "ENV_SECRET",
    "KEYS_FROM_ENVIRONMENT",
    "KeyStore",
    "KeyStoreError",
    "NoKeyringError",
    "StoredKeys",
    "keys_from_environment",
    "plausible",
]

ENVIRONMENTS = ("sandbox", "live")
ENV_KEY = "BITSTAMP_API_KEY"
ENV_SECRET = "BITSTAMP_API_SECRET"
KEYS_FROM_ENVIRONMENT = "environment"
"""``StoredKeys.source`` and ``Venue.keys_from`` of a pair read from the two variables."""
_SERVICE = "bitstamp-workstation/{env}"
_KEY, _SECRET = "api_key", "api_secret"


class KeyStoreError(RuntimeError):
    """The keys could not be kept or read; the message says why and where, never the values."""


class NoKeyringError(KeyStoreError):
    """No keyring that keeps anything is available here (none, the null keyring, or one that
    cannot load on this host). The app opens watch-only on it; a keyring that is there but
    refused (a wrong passphrase, plaintext not allowed) is a :class:`KeyStoreError` instead."""


class StoredKeys(msgspec.Struct, frozen=True):
    env: str
    api_key: Secret
    api_secret: Secret
    source: str
    """``environment``, or the description of the keyring they were read from."""


def _check(env: str) -> str:
    if env not in ENVIRONMENTS:
        raise KeyStoreError(f"keys are stored for {' or '.join(ENVIRONMENTS)}, not {env!r}")
    return _SERVICE.format(env=env)


def _held(value: str | None) -> Secret | None:
    """``value`` as a Secret at once: no frame keeps it as text (a traceback's locals)."""
    return None if value is None else Secret(value)


def _is_plausible(text: str) -> bool:
    return bool(text) and text.isascii() and text.isalnum()


def plausible(value: Secret, what: str) -> Secret:
    """``value`` without surrounding blanks, if it can be a Bitstamp key or secret.

    Raises:
        KeyStoreError: it cannot (the message gives its length, never the text).
    """
    if not _is_plausible(value.reveal().strip()):
        # Bitstamp keys and secrets are ASCII letters and digits: anything else is a paste
        # accident (a space, a quote, a newline). Say so without echoing it.
        raise KeyStoreError(
            f"the {what} must be letters and digits only ({len(value.reveal().strip())} given)"
        )
    return Secret(value.reveal().strip())


def keys_from_environment(env: str) -> StoredKeys | None:
    """The pair in ``BITSTAMP_API_KEY`` / ``BITSTAMP_API_SECRET``, or None when neither is set.

    Raises:
        KeyStoreError: only one of them is set, or one is not a plausible key.
    """
    _check(env)
    key, secret = _held(os.environ.get(ENV_KEY)), _held(os.environ.get(ENV_SECRET))
    if key is None and secret is None:
        return None
    if key is None or secret is None:
        given, missing = (ENV_KEY, ENV_SECRET) if secret is None else (ENV_SECRET, ENV_KEY)
        raise KeyStoreError(f"{given} is set but {missing} is not: set both, or neither")
    return StoredKeys(
        env,
        plausible(key, f"API key in {ENV_KEY}"),
        plausible(secret, f"API secret in {ENV_SECRET}"),
        KEYS_FROM_ENVIRONMENT,
    )


class KeyStore:
    """Read and write key pairs in one keyring (unlocked already, if it needs a passphrase)."""

    def __init__(self, choice: KeyringChoice) -> None:
        self.choice = choice

    # _keyring_errors: keyring's exceptions are imported where a keyring is used, not with
    # this module: the facade reads KEYS_FROM_ENVIRONMENT from here on every start, and an app
    # on the simulator or with keys from the environment never loads keyring (20 ms of CPU).

    def save(self, env: str, api_key: Secret, api_secret: Secret) -> StoredKeys:
        """Store the pair, then read it back and compare: a keyring that answers with
        something else (or nothing) is an error, not a success.

        Raises:
            KeyStoreError: an implausible value (nothing is written), a keyring failure, or a
                pair read back that differs from the one written.
        """
        from keyring.errors import KeyringError  # see _keyring_errors

        service = _check(env)
        key, secret = plausible(api_key, "API key"), plausible(api_secret, "API secret")
        where = self.choice.description
        try:
            self.choice.backend.set_password(service, _KEY, key.reveal())
            self.choice.backend.set_password(service, _SECRET, secret.reveal())
        except (KeyringError, OSError, ValueError) as exc:
            raise KeyStoreError(
                f"could not store the keys in {where}: {type(exc).__name__}"
                f"{': ' + str(exc) if isinstance(exc, KeyringError) else ''}"
            ) from None
        stored = self.load(env)
        if stored is None or (stored.api_key, stored.api_secret) != (key, secret):
            raise KeyStoreError(
                f"{where} did not give back the pair just stored "
                f"({'nothing' if stored is None else 'a different pair'} was read); "
                "do not rely on it"
            )
        return stored

    def load(self, env: str) -> StoredKeys | None:
        """The stored pair for ``env``, or None when nothing (or only half) is stored."""
        from keyring.errors import KeyringError  # see _keyring_errors

        service = _check(env)
        if not self.choice.exists:
            return None  # an encrypted file not created yet: no passphrase to ask for
        try:
            key = _held(self.choice.backend.get_password(service, _KEY))
            secret = _held(self.choice.backend.get_password(service, _SECRET))
        except (KeyringError, OSError, ValueError) as exc:
            raise KeyStoreError(
                f"could not read {self.choice.description}: {type(exc).__name__}"
                f"{': ' + str(exc) if isinstance(exc, KeyringError) else ''}"
            ) from None
        if not key or not secret:
            return None
        return StoredKeys(env, key, secret, self.choice.description)

    def delete(self, env: str) -> bool:
        """Remove the pair; False if there was none."""
        from keyring.errors import KeyringError, PasswordDeleteError  # see _keyring_errors

        service = _check(env)
        if not self.choice.exists:
            return False
        removed = False
        for name in (_KEY, _SECRET):
            try:
                self.choice.backend.delete_password(service, name)
                removed = True
            except PasswordDeleteError:
                continue
            except (KeyringError, OSError) as exc:
                raise KeyStoreError(
                    f"could not change {self.choice.description}: {type(exc).__name__}"
                ) from None
        return removed
