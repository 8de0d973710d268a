"""Key pairs go to the chosen keyring and nowhere else; errors never carry them.

An in-memory keyring backend (keyring's own plug-in interface) stands in for the OS one; the
encrypted file, the null, fail and plaintext backends are in tests/integration/test_keyrings.py.
"""

from __future__ import annotations

import pytest
from keyring.errors import KeyringError

from workstation.bitstamp.secret import Secret
from workstation.services.keyring_choice import BackendKind, KeyringChoice
from workstation.services.keys import KeyStore, KeyStoreError, keys_from_environment

from .cli_support import MemoryKeyring

KEY = "AbCdEf0123456789AbCdEf0123456789"
SECRET = "s3cr3tS3CR3Ts3cr3tS3CR3Ts3cr3t99"


class BrokenKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringError(f"locked (tried {username})")


class ForgetfulKeyring(MemoryKeyring):
    """Says it stored the value, and gives back another one."""

    def set_password(self, service: str, username: str, password: str) -> None:
        super().set_password(service, username, password[::-1])


def store_in(backend: MemoryKeyring) -> KeyStore:
    return KeyStore(KeyringChoice(backend, BackendKind.OS))


def test_save_load_delete() -> None:
    memory = MemoryKeyring()
    store = store_in(memory)
    assert store.load("sandbox") is None
    stored = store.save("sandbox", Secret(f" {KEY}\n"), Secret(SECRET))
    assert stored == store.load("sandbox")
    assert (stored.api_key.reveal(), stored.api_secret.reveal()) == (KEY, SECRET)
    assert stored.source == "the OS keyring (tests.unit.cli_support.MemoryKeyring)"
    assert KEY not in repr(stored) + str(stored)
    assert SECRET not in repr(stored) + str(stored)
    assert store.load("live") is None
    assert set(memory.entries) == {
        ("bitstamp-workstation/sandbox", "api_key"),
        ("bitstamp-workstation/sandbox", "api_secret"),
    }
    assert store.delete("sandbox") is True
    assert store.load("sandbox") is None
    assert store.delete("sandbox") is False


@pytest.mark.parametrize("bad", ["", "   ", "key with space", "ключ", 'quoted"key'])
def test_implausible_keys_are_refused_without_echo(bad: str) -> None:
    memory = MemoryKeyring()
    with pytest.raises(KeyStoreError) as info:
        store_in(memory).save("live", Secret(bad), Secret(SECRET))
    if bad.strip():
        assert bad.strip() not in str(info.value)
    assert SECRET not in str(info.value)
    assert memory.entries == {}


def test_only_sandbox_and_live_hold_keys() -> None:
    with pytest.raises(KeyStoreError, match="sandbox or live"):
        store_in(MemoryKeyring()).save("sim", Secret(KEY), Secret(SECRET))


def test_keyring_failures_never_carry_the_secret() -> None:
    with pytest.raises(KeyStoreError) as info:
        store_in(BrokenKeyring()).save("live", Secret(KEY), Secret(SECRET))
    assert "could not store" in str(info.value)
    assert "BrokenKeyring" in str(info.value)
    assert SECRET not in str(info.value)
    assert KEY not in str(info.value)
    assert info.value.__cause__ is None


def test_a_pair_read_back_different_is_an_error_not_a_success() -> None:
    with pytest.raises(KeyStoreError, match="did not give back the pair just stored") as info:
        store_in(ForgetfulKeyring()).save("live", Secret(KEY), Secret(SECRET))
    assert "a different pair" in str(info.value)
    assert SECRET not in str(info.value)
    assert SECRET[::-1] not in str(info.value)


def test_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BITSTAMP_API_KEY", raising=False)
    monkeypatch.delenv("BITSTAMP_API_SECRET", raising=False)
    assert keys_from_environment("live") is None
    monkeypatch.setenv("BITSTAMP_API_KEY", KEY)
    with pytest.raises(KeyStoreError, match="BITSTAMP_API_KEY is set but BITSTAMP_API_SECRET"):
        keys_from_environment("live")
    monkeypatch.setenv("BITSTAMP_API_SECRET", SECRET + " ")
    stored = keys_from_environment("sandbox")
    assert stored is not None
    assert (stored.api_key, stored.api_secret) == (Secret(KEY), Secret(SECRET))
    assert stored.source == "environment"
    monkeypatch.setenv("BITSTAMP_API_SECRET", "not a secret")
    with pytest.raises(KeyStoreError, match="API secret in BITSTAMP_API_SECRET must be") as info:
        keys_from_environment("live")
    assert "not a secret" not in str(info.value)
