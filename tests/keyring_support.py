"""Real keyring backends for tests, in the test's own data directory.

``FastCryptFileKeyring`` is keyrings.cryptfile's encrypted file keyring (Argon2id + AES-GCM,
the same file format and scheme) with a cheap key derivation: the real one spends about half a
second per read or write on purpose, which a test of many reads cannot afford. Its file is
``$XDG_DATA_HOME/python_keyring/cryptfile_pass.cfg``, and every test has its own
``XDG_DATA_HOME`` (tests/conftest.py). A child process finds it by name:
``PYTHON_KEYRING_BACKEND=tests.keyring_support.FastCryptFileKeyring``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keyring
from keyring.backend import KeyringBackend
from keyrings.cryptfile.cryptfile import CryptFileKeyring

FAST_CRYPTFILE = "tests.keyring_support.FastCryptFileKeyring"


class FastCryptFileKeyring(CryptFileKeyring):
    time_cost = 1
    memory_cost = 2**10


@contextmanager
def installed(backend: KeyringBackend) -> Iterator[KeyringBackend]:
    """``backend`` as the process's keyring for the block, then the previous one again."""
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
