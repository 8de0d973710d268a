"""``workstation keys set|show|status|delete``, called in-process through ``cli.main``.

An in-memory keyring stands in for the OS one (see cli_support) and ``getpass`` answers from a
script; the secret must never reach stdout or stderr, not even in a refusal.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator

import keyring
import pytest
from keyring.backends import fail

from workstation import cli

from ..keyring_support import installed
from .cli_support import KEY, SECRET, LockedKeyring, MemoryKeyring, Prompt, outputs

WHERE = "the OS keyring (tests.unit.cli_support.MemoryKeyring)"


@pytest.fixture(autouse=True)
def no_keys_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BITSTAMP_API_KEY", "BITSTAMP_API_SECRET", "WORKSTATION_KEYRING_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def memory() -> Iterator[MemoryKeyring]:
    with installed(MemoryKeyring()) as backend:
        assert isinstance(backend, MemoryKeyring)
        yield backend


@pytest.fixture
def prompt(monkeypatch: pytest.MonkeyPatch) -> Prompt:
    holder = Prompt()
    monkeypatch.setattr(getpass, "getpass", holder)
    return holder


# -- keys -------------------------------------------------------------------------------------


def test_keys_set_stores_the_pair_and_prints_neither(
    memory: MemoryKeyring, prompt: Prompt, capsys: pytest.CaptureFixture[str]
) -> None:
    prompt.answers = [f"  {KEY}\n", SECRET]
    assert cli.main(["keys", "set", "--env", "live"]) == 0
    out, err = outputs(capsys)
    assert memory.entries == {
        ("bitstamp-workstation/live", "api_key"): KEY,
        ("bitstamp-workstation/live", "api_secret"): SECRET,
    }
    assert (
        out == f"stored the live API key …WXYZ and its secret in {WHERE}, read back and compared\n"
    )
    assert err == ""
    assert prompt.prompts == ["live API key (hidden): ", "live API secret (hidden): "]
    assert SECRET not in out + err
    assert KEY not in out + err
    new_key, new_secret = "Z" * 32, "Y" * 32
    prompt.answers = [new_key, new_secret]
    assert cli.main(["keys", "set", "--env", "live"]) == 0
    assert outputs(capsys)[0] == (
        f"stored the live API key …ZZZZ and its secret in {WHERE}, read back and compared "
        "(replacing the pair stored before)\n"
    )
    assert memory.entries[("bitstamp-workstation/live", "api_secret")] == new_secret


@pytest.mark.parametrize(
    ("key", "secret", "what"),
    [
        ("key with space", SECRET, "API key"),
        (KEY, f'"{SECRET}"', "API secret"),
        (KEY, "", "API secret"),
    ],
)
def test_keys_set_refuses_a_bad_paste_without_echoing_it(
    memory: MemoryKeyring,
    prompt: Prompt,
    capsys: pytest.CaptureFixture[str],
    key: str,
    secret: str,
    what: str,
) -> None:
    prompt.answers = [key, secret]
    assert cli.main(["keys", "set", "--env", "sandbox"]) == 2
    out, err = outputs(capsys)
    assert out == ""
    assert err.startswith(f"workstation keys: the {what} must be letters and digits only (")
    assert SECRET not in out + err
    assert KEY not in out + err
    assert "with space" not in err
    assert memory.entries == {}


def test_keys_set_cancelled_at_the_prompt_stores_nothing(
    memory: MemoryKeyring, prompt: Prompt, capsys: pytest.CaptureFixture[str]
) -> None:
    prompt.answers = [KEY, EOFError]
    assert cli.main(["keys", "set", "--env", "live"]) == 2
    out, err = outputs(capsys)
    assert "cancelled at the prompt; nothing was changed" in err
    assert KEY not in out + err
    assert memory.entries == {}


def test_keys_status_shows_only_the_last_four_characters_of_a_key(
    prompt: Prompt, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["keys", "status"]) == 0
    out, _ = outputs(capsys)
    assert out.splitlines() == [
        f"keyring: {WHERE}",
        "sandbox  none  (`workstation keys set --env sandbox`)",
        "live     none  (`workstation keys set --env live`)",
    ]
    prompt.answers = [KEY, SECRET]
    assert cli.main(["keys", "set", "--env", "sandbox"]) == 0
    capsys.readouterr()
    assert cli.main(["keys", "status"]) == 0
    out, err = outputs(capsys)
    assert out.splitlines() == [
        f"keyring: {WHERE}",
        "sandbox  stored (key …WXYZ)",
        "live     none  (`workstation keys set --env live`)",
    ]
    assert KEY not in out + err
    assert SECRET not in out + err


def test_keys_delete_removes_the_pair_and_is_idempotent(
    memory: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    memory.set_password("bitstamp-workstation/live", "api_key", KEY)
    memory.set_password("bitstamp-workstation/live", "api_secret", SECRET)
    memory.set_password("bitstamp-workstation/sandbox", "api_key", KEY)
    memory.set_password("bitstamp-workstation/sandbox", "api_secret", SECRET)
    assert cli.main(["keys", "delete", "--env", "live"]) == 0
    assert outputs(capsys)[0] == f"removed the live keys from {WHERE}\n"
    assert set(memory.entries) == {
        ("bitstamp-workstation/sandbox", "api_key"),
        ("bitstamp-workstation/sandbox", "api_secret"),
    }
    assert cli.main(["keys", "delete", "--env", "live"]) == 0
    assert outputs(capsys)[0] == f"no live keys were stored in {WHERE}\n"


def test_without_a_keyring_keys_commands_say_so_before_prompting(
    prompt: Prompt, capsys: pytest.CaptureFixture[str]
) -> None:
    keyring.set_keyring(fail.Keyring())
    for argv in (
        ["keys", "set", "--env", "live"],
        ["keys", "status"],
        ["keys", "delete", "--env", "sandbox"],
        ["keys", "show", "--env", "sandbox"],
        ["keys", "test", "--env", "sandbox"],
    ):
        assert cli.main(argv) == 2
        out, err = outputs(capsys)
        assert out == ""
        assert err.startswith(
            "workstation keys: no keyring is available here (keyring.backends.fail.Keyring); "
            "without an OS keyring (a server over SSH) use the encrypted file keyring"
        )
        assert "PYTHON_KEYRING_BACKEND=keyrings.cryptfile.cryptfile.CryptFileKeyring" in err
    assert prompt.prompts == []


def test_a_keyring_that_refuses_the_write_gives_a_message_without_the_secret(
    prompt: Prompt, capsys: pytest.CaptureFixture[str]
) -> None:
    keyring.set_keyring(LockedKeyring())
    prompt.answers = [KEY, SECRET]
    assert cli.main(["keys", "set", "--env", "live"]) == 2
    out, err = outputs(capsys)
    assert err == (
        "workstation keys: could not store the keys in the OS keyring "
        "(tests.unit.cli_support.LockedKeyring): KeyringError: "
        "the collection is locked (tried api_key)\n"
    )
    assert SECRET not in out + err
    assert KEY not in out + err


def test_keys_are_for_sandbox_and_live_only(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["keys", "set", "--env", "sim"])
    assert info.value.code == 2
    assert "invalid choice: 'sim'" in outputs(capsys)[1]
