"""Which keyring holds the API keys, said by name, and refused when it would not keep them.

``keyring`` picks a backend by itself: the OS keyring where there is one (Secret Service,
macOS Keychain, Windows Credential Manager), whatever ``PYTHON_KEYRING_BACKEND`` or
``keyringrc.cfg`` names, or, with several file backends installed, a *chainer* that reads
from all of them (a plaintext file included) and writes to the first. We never use the
chainer: we take its first backend and say which one it is. Then, by kind:

- an OS keyring is used as it is;
- an encrypted file (keyrings.cryptfile's ``CryptFileKeyring``: Argon2 and AES-GCM) is
  unlocked with a passphrase the caller asks for once (:meth:`KeyringChoice.unlock`);
- a plaintext file is refused unless the trader allows it, and then said loudly;
- the null backend (keeps nothing) and the fail backend (no keyring at all) are refused
  with the way forward: the encrypted file.

Every message names the backend actually used, its class and, for a file, its path.
"""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path

import keyring
import msgspec
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from ..bitstamp.secret import Secret
from .keys import KeyStoreError, NoKeyringError

__all__ = ["ENCRYPTED_FILE_BACKEND", "BackendKind", "KeyringChoice", "choose_keyring"]

ENCRYPTED_FILE_BACKEND = "keyrings.cryptfile.cryptfile.CryptFileKeyring"
"""What to put in ``PYTHON_KEYRING_BACKEND`` (or ``keyringrc.cfg``) on a headless host."""

_WAY_FORWARD = (
    "without an OS keyring (a server over SSH) use the encrypted file keyring, installed "
    f"with the workstation: export PYTHON_KEYRING_BACKEND={ENCRYPTED_FILE_BACKEND} (it asks "
    "for a passphrase), or give the keys in BITSTAMP_API_KEY and BITSTAMP_API_SECRET"
)


class BackendKind(Enum):
    OS = "the OS keyring"
    ENCRYPTED_FILE = "the encrypted file keyring"
    PLAINTEXT = "a PLAINTEXT file keyring"
    NULL = "the null keyring"
    NONE = "no keyring"


def _name(backend: KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def _kind(backend: KeyringBackend) -> BackendKind:
    if isinstance(backend, fail.Keyring):
        return BackendKind.NONE
    if isinstance(backend, null.Keyring):
        return BackendKind.NULL
    scheme = str(getattr(backend, "scheme", "")).lower()
    if "plaintext" in _name(backend).lower() or scheme in ("no encyption", "no encryption"):
        return BackendKind.PLAINTEXT
    if hasattr(type(backend), "keyring_key") and hasattr(backend, "file_path"):
        return BackendKind.ENCRYPTED_FILE
    return BackendKind.OS


class KeyringChoice(msgspec.Struct, frozen=True):
    """The backend the keys are kept in, what kind it is, and how to name it."""

    backend: KeyringBackend
    kind: BackendKind

    @property
    def name(self) -> str:
        """The backend's class, as ``PYTHON_KEYRING_BACKEND`` would name it."""
        return _name(self.backend)

    @property
    def path(self) -> Path | None:
        """The file of a file backend, None for the others."""
        if self.kind not in (BackendKind.ENCRYPTED_FILE, BackendKind.PLAINTEXT):
            return None
        return Path(str(getattr(self.backend, "file_path", "")))

    @property
    def description(self) -> str:
        """``the encrypted file keyring (keyrings.cryptfile....CryptFileKeyring) at PATH``."""
        where = f" at {self.path}" if self.path is not None else ""
        return f"{self.kind.value} ({self.name}){where}"

    @property
    def needs_passphrase(self) -> bool:
        return self.kind is BackendKind.ENCRYPTED_FILE

    @property
    def exists(self) -> bool:
        """False for a file keyring whose file is not there yet (nothing stored in it)."""
        return self.path is None or self.path.exists()

    def unlock(self, passphrase: Secret) -> None:
        """Unlock the encrypted file (or create it, when it does not exist yet).

        Raises:
            KeyStoreError: the passphrase is blank or does not open the file.
        """
        backend = self.backend
        try:
            backend.keyring_key = passphrase.reveal()  # type: ignore[attr-defined]
        except ValueError:
            # a wrong passphrase fails the file's reference check (or its MAC); the backend
            # keeps what it was given, so forget it before anything else reads the file
            del backend.keyring_key  # type: ignore[attr-defined]
            if not passphrase.reveal().strip():
                raise KeyStoreError("a blank passphrase cannot lock a keyring") from None
            raise KeyStoreError(
                f"the passphrase does not unlock {self.description}; nothing was read"
            ) from None
        except OSError as exc:
            del backend.keyring_key  # type: ignore[attr-defined]
            raise KeyStoreError(f"cannot open {self.description}: {exc.strerror or exc}") from None


def _configured() -> str:
    """Where the backend was chosen, for a message."""
    if "PYTHON_KEYRING_BACKEND" in os.environ:
        return f"PYTHON_KEYRING_BACKEND={os.environ['PYTHON_KEYRING_BACKEND']}"
    from keyring.core import _config_path

    return f"the keyring configuration ({_config_path()})"


def choose_keyring(*, allow_plaintext: bool = False) -> KeyringChoice:
    """The backend to keep keys in, or the reason there is none that should be used.

    Raises:
        NoKeyringError: no keyring, the null keyring, or a configured backend that cannot
            be loaded here; the message names it and says what to do.
        KeyStoreError: a plaintext file without ``allow_plaintext``.
    """
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 - any import or viability error of a plug-in
        raise NoKeyringError(
            f"the keyring named by {_configured()} cannot be used on this host "
            f"({type(exc).__name__}: {exc}); {_WAY_FORWARD}"
        ) from None
    if isinstance(backend, chainer.ChainerBackend):
        chained = list(chainer.ChainerBackend.backends)
        backend = chained[0] if chained else fail.Keyring()
    choice = KeyringChoice(backend, _kind(backend))
    if choice.kind is BackendKind.NONE:
        raise NoKeyringError(f"no keyring is available here ({choice.name}); {_WAY_FORWARD}")
    if choice.kind is BackendKind.NULL:
        raise NoKeyringError(
            f"the keyring in use is {choice.name}, which keeps nothing (configured by "
            f"{_configured()}); {_WAY_FORWARD}"
        )
    if choice.kind is BackendKind.PLAINTEXT and not allow_plaintext:
        raise KeyStoreError(
            f"refusing {choice.description}: it keeps the secret unencrypted; "
            f"{_WAY_FORWARD} (or pass --allow-plaintext-keyring to use it anyway)"
        )
    return choice
