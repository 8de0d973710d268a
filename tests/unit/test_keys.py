"""Key pairs go to the keyring and nowhere else; errors never carry them.

The OS keyring is not there on a CI machine, so these tests install an in-memory keyring
backend (keyring's own plug-in interface) for their duration.
"""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring.errors import KeyringError

from workstation.services.keys import KeyStore, KeyStoreError

from .cli_support import MemoryKeyring

KEY = "AbCdEf0123456789AbCdEf0123456789"
SECRET = "s3cr3tS3CR3Ts3cr3tS3CR3Ts3cr3t99"


class BrokenKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringError(f"locked (tried {username})")


@pytest.fixture
def memory() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_save_load_delete(memory: MemoryKeyring) -> None:
    store = KeyStore()
    assert store.load("sandbox") is None
    store.save("sandbox", f" {KEY}\n", SECRET)
    stored = store.load("sandbox")
    assert stored is not None
    assert (stored.api_key, stored.api_secret) == (KEY, SECRET)
    assert KEY not in repr(stored)
    assert SECRET not in repr(stored)
    assert store.load("live") is None
    assert set(memory.entries) == {
        ("bitstamp-workstation/sandbox", "api_key"),
        ("bitstamp-workstation/sandbox", "api_secret"),
    }
    assert store.delete("sandbox") is True
    assert store.load("sandbox") is None
    assert store.delete("sandbox") is False


@pytest.mark.parametrize("bad", ["", "   ", "key with space", "ключ", 'quoted"key'])
def test_implausible_keys_are_refused_without_echo(memory: MemoryKeyring, bad: str) -> None:
    with pytest.raises(KeyStoreError) as info:
        KeyStore().save("live", bad, SECRET)
    if bad.strip():
        assert bad.strip() not in str(info.value)
    assert SECRET not in str(info.value)
    assert memory.entries == {}


def test_only_sandbox_and_live_hold_keys(memory: MemoryKeyring) -> None:
    with pytest.raises(KeyStoreError, match="sandbox or live"):
        KeyStore().save("sim", KEY, SECRET)


def test_keyring_failures_never_carry_the_secret() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(BrokenKeyring())
    try:
        with pytest.raises(KeyStoreError) as info:
            KeyStore().save("live", KEY, SECRET)
    finally:
        keyring.set_keyring(previous)
    assert "could not store" in str(info.value)
    assert SECRET not in str(info.value)
    assert KEY not in str(info.value)
    assert info.value.__cause__ is None
