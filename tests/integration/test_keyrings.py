"""``workstation keys`` and ``--env`` on real keyring backends, in-process through ``cli.main``.

The encrypted file keyring is keyrings.cryptfile's (tests/keyring_support.py), its file in
this test's own data directory; the plaintext one is the PlaintextKeyring keyrings.cryptfile
ships; the null and fail backends are keyring's. ``getpass`` answers from a script. A pair is
tested against a real simulator standing in for Bitstamp's sandbox or live.
"""

from __future__ import annotations

import getpass
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from keyring.backends import chainer, fail, null
from keyrings.cryptfile.file import PlaintextKeyring

from workstation import cli, cli_trading
from workstation.bitstamp.secret import Secret
from workstation.services.facade import VenueServices

from ..keyring_support import FastCryptFileKeyring, installed
from ..unit.cli_support import Prompt, outputs
from .sim_thread import point_env_at, sim_in_thread

KEY = "PlantKeyCryptFile0123456789ABCD"
SECRET = "PlantSecretCryptFile0123456789abcdefXYZ"
PASSPHRASE = "correct horse battery staple"
CRYPTFILE = "tests.keyring_support.FastCryptFileKeyring"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BITSTAMP_API_KEY", "BITSTAMP_API_SECRET", "WORKSTATION_KEYRING_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)


@pytest.fixture
def cryptfile() -> Iterator[FastCryptFileKeyring]:
    with installed(FastCryptFileKeyring()) as backend:
        assert isinstance(backend, FastCryptFileKeyring)
        yield backend


@pytest.fixture
def prompt(monkeypatch: pytest.MonkeyPatch) -> Prompt:
    holder = Prompt()
    monkeypatch.setattr(getpass, "getpass", holder)
    return holder


@pytest.fixture
def launches(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def record(**kwargs: Any) -> int:
        calls.append(kwargs)
        return 0

    monkeypatch.setattr(cli_trading, "start_app", record)
    return calls


def where(backend: FastCryptFileKeyring) -> str:
    return f"the encrypted file keyring ({CRYPTFILE}) at {backend.file_path}"


def set_pair(prompt: Prompt, env: str = "live", *, new_file: bool = True) -> None:
    prompt.answers = [PASSPHRASE, PASSPHRASE] if new_file else [PASSPHRASE]
    prompt.answers += [KEY, SECRET]
    assert cli.main(["keys", "set", "--env", env]) == 0


# -- the encrypted file -------------------------------------------------------------------------


def test_set_show_delete_in_an_encrypted_file(
    cryptfile: FastCryptFileKeyring, prompt: Prompt, capsys: pytest.CaptureFixture[str]
) -> None:
    path = Path(cryptfile.file_path)
    assert not path.exists()
    set_pair(prompt)
    out, err = outputs(capsys)
    assert prompt.prompts == [
        f"new passphrase for {path} (hidden; it cannot be recovered): ",
        "the same passphrase again: ",
        "live API key (hidden): ",
        "live API secret (hidden): ",
    ]
    assert out == (
        f"stored the live API key …ABCD and its secret in {where(cryptfile)}, "
        "read back and compared\n"
    )
    assert err == "unlocking the keyring…\n"
    on_disk = path.read_text()
    assert SECRET not in on_disk
    assert KEY not in on_disk
    assert PASSPHRASE not in on_disk
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    del cryptfile.keyring_key  # forget it (a new process would not know it)
    prompt.answers, prompt.prompts = [PASSPHRASE], []
    assert cli.main(["keys", "show", "--env", "live"]) == 0
    assert outputs(capsys) == (
        f"live: API key …ABCD in {where(cryptfile)}\n",
        "unlocking the keyring…\n",
    )
    assert prompt.prompts == [f"passphrase of {path} (hidden): "]  # asked once

    del cryptfile.keyring_key
    prompt.answers = [PASSPHRASE]
    assert cli.main(["keys", "delete", "--env", "live"]) == 0
    assert outputs(capsys)[0] == f"removed the live keys from {where(cryptfile)}\n"
    del cryptfile.keyring_key
    prompt.answers = [PASSPHRASE]
    assert cli.main(["keys", "show", "--env", "live"]) == 1
    assert outputs(capsys)[0] == (
        f"no live keys in {where(cryptfile)}; store them with `workstation keys set --env live`\n"
    )


def test_a_wrong_passphrase_reads_nothing_and_says_which_file(
    cryptfile: FastCryptFileKeyring, prompt: Prompt, capsys: pytest.CaptureFixture[str]
) -> None:
    set_pair(prompt)
    capsys.readouterr()
    del cryptfile.keyring_key
    prompt.answers = ["not the passphrase"]
    assert cli.main(["keys", "show", "--env", "live"]) == 2
    out, err = outputs(capsys)
    assert out == ""
    assert err == (
        "unlocking the keyring…\n"
        f"workstation keys: the passphrase does not unlock {where(cryptfile)}; nothing was read\n"
    )
    assert cryptfile._keyring_key is None  # the wrong one is not kept for the next read


def test_two_different_new_passphrases_create_nothing(
    cryptfile: FastCryptFileKeyring, prompt: Prompt, capsys: pytest.CaptureFixture[str]
) -> None:
    prompt.answers = [PASSPHRASE, PASSPHRASE + "!"]
    assert cli.main(["keys", "set", "--env", "sandbox"]) == 2
    assert "the two passphrases differ" in outputs(capsys)[1]
    assert not Path(cryptfile.file_path).exists()


def test_reading_a_file_not_created_yet_asks_nothing(
    cryptfile: FastCryptFileKeyring, prompt: Prompt, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["keys", "status"]) == 0
    assert outputs(capsys)[0].splitlines()[0] == f"keyring: {where(cryptfile)}"
    assert prompt.prompts == []
    assert not Path(cryptfile.file_path).exists()


def test_the_passphrase_from_the_environment_is_read_once_and_dropped(
    cryptfile: FastCryptFileKeyring,
    prompt: Prompt,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    set_pair(prompt)
    del cryptfile.keyring_key
    monkeypatch.setenv("WORKSTATION_KEYRING_PASSPHRASE", PASSPHRASE)
    prompt.prompts = []
    assert cli.main(["keys", "show", "--env", "live"]) == 0
    assert prompt.prompts == []
    assert "WORKSTATION_KEYRING_PASSPHRASE" not in os.environ  # no child inherits it
    assert "…ABCD" in outputs(capsys)[0]


def test_the_app_asks_the_passphrase_once_and_trades_with_the_stored_pair(
    cryptfile: FastCryptFileKeyring,
    prompt: Prompt,
    launches: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    set_pair(prompt, "sandbox")
    del cryptfile.keyring_key
    prompt.answers, prompt.prompts = [PASSPHRASE], []
    assert cli.main(["--env", "sandbox", "--journal", str(tmp_path / "j.sqlite3")]) == 0
    assert len(prompt.prompts) == 1
    (call,) = launches
    venue = call["venue"]
    assert (venue.api_key, venue.api_secret) == (Secret(KEY), Secret(SECRET))
    assert venue.keys_from == where(cryptfile)
    assert not VenueServices(venue).health().keys_from_environment
    assert KEY not in repr(venue)
    assert SECRET not in repr(venue)


def test_without_os_keyring_the_chainer_gives_the_encrypted_file_not_the_plaintext(
    prompt: Prompt, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """keyring's default on a headless host with keyrings.cryptfile installed: a chainer over
    CryptFileKeyring, EncryptedKeyring and PlaintextKeyring that reads from all three."""
    file_backend, plaintext = FastCryptFileKeyring(), PlaintextKeyring()
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [file_backend, plaintext])
    with installed(chainer.ChainerBackend()):
        assert cli.main(["keys", "status"]) == 0
    assert outputs(capsys)[0].splitlines()[0] == f"keyring: {where(file_backend)}"


def test_a_configured_backend_that_cannot_load_is_named_with_its_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import keyring.core

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "no.such.module.Keyring")
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)  # chosen afresh, as at start
    assert cli.main(["keys", "status"]) == 2
    err = outputs(capsys)[1]
    assert err.startswith(
        "workstation keys: the keyring named by PYTHON_KEYRING_BACKEND=no.such.module.Keyring "
        "cannot be used on this host (ModuleNotFoundError: No module named 'no'); "
    )
    assert "PYTHON_KEYRING_BACKEND=keyrings.cryptfile.cryptfile.CryptFileKeyring" in err


# -- keyrings that must not be used -------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["keys", "set", "--env", "live"],
        ["keys", "show", "--env", "live"],
        ["keys", "status"],
        ["keys", "delete", "--env", "live"],
        ["keys", "test", "--env", "live"],
        ["--env", "live"],
    ],
)
@pytest.mark.parametrize("backend", [null.Keyring, fail.Keyring])
def test_the_null_and_fail_keyrings_are_refused_with_the_way_forward_and_the_app_watches(
    backend: type,
    argv: list[str],
    prompt: Prompt,
    launches: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = argv[0] == "--env"  # the app opens watch-only; the keys commands stop
    with installed(backend()):
        assert cli.main(argv) == (0 if app else 2)
    out, err = outputs(capsys)
    assert out == ""
    assert f"keyring.backends.{backend.__module__.rpartition('.')[2]}.Keyring" in err
    assert "use the encrypted file keyring" in err
    assert "PYTHON_KEYRING_BACKEND=keyrings.cryptfile.cryptfile.CryptFileKeyring" in err
    assert "BITSTAMP_API_KEY and BITSTAMP_API_SECRET" in err
    assert prompt.prompts == []
    if app:
        assert ": WATCH ONLY on live (market data, no orders)" in err
        (launch,) = launches
        assert not launch["venue"].has_credentials
    else:
        assert launches == []


def test_a_plaintext_keyring_is_refused_unless_allowed_and_then_said_loudly(
    prompt: Prompt, launches: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    backend = PlaintextKeyring()
    path = Path(backend.file_path)
    described = f"a PLAINTEXT file keyring (keyrings.cryptfile.file.PlaintextKeyring) at {path}"
    with installed(backend):
        prompt.answers = [KEY, SECRET]
        assert cli.main(["keys", "set", "--env", "live"]) == 2
        out, err = outputs(capsys)
        assert err.startswith(f"workstation keys: refusing {described}: it keeps the secret ")
        assert err.endswith("(or pass --allow-plaintext-keyring to use it anyway)\n")
        assert prompt.prompts == []
        assert not path.exists()
        assert cli.main(["--env", "live"]) == 2
        assert "refusing a PLAINTEXT file keyring" in outputs(capsys)[1]

        assert cli.main(["keys", "set", "--env", "live", "--allow-plaintext-keyring"]) == 0
        out, err = outputs(capsys)
        assert err == (
            f"workstation: warning: using {described} (--allow-plaintext-keyring): anyone who "
            "can read that file can trade with these keys\n"
        )
        assert out.startswith(f"stored the live API key …ABCD and its secret in {described}")
        assert cli.main(["--env", "live", "--allow-plaintext-keyring"]) == 0
        assert "warning: using a PLAINTEXT" in outputs(capsys)[1]
    assert len(launches) == 1


# -- keys from the environment -------------------------------------------------------------------


def test_keys_from_the_environment_need_no_keyring_and_are_marked(
    prompt: Prompt,
    monkeypatch: pytest.MonkeyPatch,
    launches: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BITSTAMP_API_KEY", KEY)
    monkeypatch.setenv("BITSTAMP_API_SECRET", SECRET)
    with installed(fail.Keyring()):  # no keyring at all: not needed
        assert cli.main(["keys", "show", "--env", "live"]) == 0
        out, err = outputs(capsys)
        assert out == (
            "live: API key …ABCD from the environment (BITSTAMP_API_KEY, BITSTAMP_API_SECRET); "
            "the keyring is not read while they are set\n"
        )
        assert cli.main(["--env", "live"]) == 0
    (call,) = launches
    assert call["venue"].keys_from == "environment"
    assert VenueServices(call["venue"]).health().keys_from_environment  # the status bar's mark
    assert (call["venue"].api_key, call["venue"].api_secret) == (Secret(KEY), Secret(SECRET))
    assert prompt.prompts == []
    with installed(FastCryptFileKeyring()):  # storing a pair the app will not use: said
        prompt.answers = [PASSPHRASE, PASSPHRASE, KEY, SECRET]
        assert cli.main(["keys", "set", "--env", "live"]) == 0
    assert outputs(capsys)[1] == (
        "unlocking the keyring…\n"
        "workstation: warning: BITSTAMP_API_KEY / BITSTAMP_API_SECRET are set: the app uses "
        "those, not these, while they are\n"
    )
    monkeypatch.delenv("BITSTAMP_API_SECRET")
    assert cli.main(["--env", "live"]) == 2
    assert outputs(capsys)[1] == (
        "workstation: BITSTAMP_API_KEY is set but BITSTAMP_API_SECRET is not: set both, "
        "or neither\n"
    )


# -- keys test against the simulator ------------------------------------------------------------


def test_keys_test_makes_signed_reads_and_says_what_the_key_may_do(
    cryptfile: FastCryptFileKeyring,
    prompt: Prompt,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    set_pair(prompt, "sandbox")
    capsys.readouterr()
    del cryptfile.keyring_key
    with sim_in_thread(KEY, SECRET) as sim:
        point_env_at(monkeypatch, "sandbox", sim)
        prompt.answers = [PASSPHRASE]
        assert cli.main(["keys", "test", "--env", "sandbox"]) == 0
    out, err = outputs(capsys)
    assert err == "unlocking the keyring…\n"
    assert out.splitlines() == [
        f"testing the sandbox API key …ABCD (from {where(cryptfile)}) on {sim.rest_url}",
        "  yes            see balances",
        "  yes            see open orders",
        "  yes            see the account's transactions",
        "  yes            see trading fees",
        "  yes            follow its orders live (private WebSocket token)",
        "the key signs requests 127.0.0.1 accepts; placing, cancelling and withdrawing were not "
        "tried (that would mean doing them): Bitstamp does not say whether this key may",
    ]


def test_keys_test_with_a_wrong_secret_says_the_key_was_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "WrongSecret0123456789abcdefWRONG"
    monkeypatch.setenv("BITSTAMP_API_KEY", KEY)
    monkeypatch.setenv("BITSTAMP_API_SECRET", wrong)
    with sim_in_thread(KEY, SECRET) as sim:
        point_env_at(monkeypatch, "live", sim)
        assert cli.main(["keys", "test", "--env", "live"]) == 1
    out, err = outputs(capsys)
    lines = out.splitlines()
    assert lines[0] == f"testing the live API key …ABCD (from the environment) on {sim.rest_url}"
    assert lines[1].startswith("  no             see balances  (Invalid signature (HTTP 403")
    assert lines[2].startswith("the key was refused: Invalid signature (HTTP 403 · API0005")
    assert len(lines) == 3
    assert wrong not in out + err
    assert SECRET not in out + err
