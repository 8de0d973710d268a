"""``workstation keys set|show|status|delete|test``: the API key pairs of sandbox and live.

Keys are typed or pasted at a hidden prompt (never as arguments, which end up in shell
history and ``ps``). They are kept in the keyring ``services.keyring_choice`` picks and names
(the OS keyring, else an encrypted file unlocked by a passphrase asked once), or given in
``BITSTAMP_API_KEY`` / ``BITSTAMP_API_SECRET``, which then take the keyring's place.
Nothing prints more of a key than its last 4 characters, nor anything of a secret.

The passphrase of the encrypted file is asked at a hidden prompt, or read once from
``WORKSTATION_KEYRING_PASSPHRASE`` for unattended starts (then removed from this process's
environment, so no child inherits it).

Every failure is one line on stderr: exit 2 for a usage or keyring problem (as argparse
does), 1 when ``show`` finds no keys or ``test`` finds the key refused or the venue silent.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .bitstamp.secret import Secret
    from .services.keyring_choice import KeyringChoice
    from .services.keys import KeyStore, StoredKeys

__all__ = [
    "PASSPHRASE_ENV",
    "UNLOCKING",
    "KeysUnavailableError",
    "NoKeyringHereError",
    "add_keyring_option",
    "add_keys_command",
    "find_keys",
    "run_keys",
]

PASSPHRASE_ENV = "WORKSTATION_KEYRING_PASSPHRASE"
UNLOCKING = "unlocking the keyring…"
"""Said once the passphrase is typed: the file's key derivation is slow on purpose."""
_KEY_ENVS = ("sandbox", "live")


class KeysUnavailableError(Exception):
    """A keys command cannot go on; the message is the one line to print."""


class NoKeyringHereError(KeysUnavailableError):
    """No keyring keeps anything on this host (``NoKeyringError``): the keys commands stop,
    the app opens watch-only."""


def add_keyring_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-plaintext-keyring",
        action="store_true",
        help="use a keyring that keeps secrets unencrypted in a file (refused without it)",
    )


def add_keys_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``keys`` subcommand and its own subcommands."""
    keys = sub.add_parser(
        "keys",
        help="store, show, test or remove API keys (OS keyring or encrypted file)",
        description="API keys for sandbox and live, in the OS keyring or, on a host without "
        "one, an encrypted file keyring (PYTHON_KEYRING_BACKEND="
        "keyrings.cryptfile.cryptfile.CryptFileKeyring). BITSTAMP_API_KEY and "
        "BITSTAMP_API_SECRET, when set, take the keyring's place.",
    )
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    for name, text in (
        ("set", "store a key pair (prompts; nothing is echoed), then read it back"),
        ("show", "which keyring, and the last 4 characters of the API key"),
        ("delete", "remove the key pair of an environment"),
        ("test", "a signed read with the key, and what it may do as far as the API tells"),
    ):
        cmd = keys_sub.add_parser(name, help=text, description=text)
        cmd.add_argument(
            "--env", dest="key_env", choices=_KEY_ENVS, required=True, help="whose keys"
        )
        add_keyring_option(cmd)
    status = keys_sub.add_parser(
        "status", help="`show` for both environments", description="`show` for sandbox and live"
    )
    add_keyring_option(status)


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")


def _warn(text: str) -> None:
    sys.stderr.write(f"workstation: warning: {text}\n")


def _ask(prompt: str) -> Secret:
    from .bitstamp.secret import Secret

    try:
        return Secret(getpass.getpass(prompt))
    except (EOFError, KeyboardInterrupt):
        sys.stderr.write("\n")
        raise KeysUnavailableError("cancelled at the prompt; nothing was changed") from None


def _popped(name: str) -> Secret | None:
    """The variable's value, taken out of this process's environment (no child inherits it)
    and held as a Secret at once (no caller's frame holds it as text)."""
    from .bitstamp.secret import Secret

    value = os.environ.pop(name, None)
    return None if value is None else Secret(value)


def _passphrase(choice: KeyringChoice) -> Secret:
    """From ``WORKSTATION_KEYRING_PASSPHRASE`` (once), else asked; twice for a new file."""
    given = _popped(PASSPHRASE_ENV)
    if given is not None:
        return given
    if choice.exists:
        typed = _ask(f"passphrase of {choice.path} (hidden): ")
    else:
        typed = _ask(f"new passphrase for {choice.path} (hidden; it cannot be recovered): ")
        if _ask("the same passphrase again: ") != typed:
            raise KeysUnavailableError(f"the two passphrases differ; {choice.path} was not created")
    # each read of the file derives its key anew (Argon2, slow on purpose): seconds pass
    sys.stderr.write(UNLOCKING + "\n")
    return typed


def _open_store(args: argparse.Namespace, *, writing: bool = False) -> KeyStore:
    """The keyring to use, named, warned about if plaintext, unlocked if encrypted.

    An encrypted file that does not exist yet is only created (and its passphrase chosen)
    when ``writing``: reading from it finds nothing without asking anything."""
    from .services.keyring_choice import BackendKind, choose_keyring
    from .services.keys import KeyStore, KeyStoreError, NoKeyringError

    try:
        choice = choose_keyring(allow_plaintext=args.allow_plaintext_keyring)
        if choice.kind is BackendKind.PLAINTEXT:
            _warn(
                f"using {choice.description} (--allow-plaintext-keyring): anyone who can "
                "read that file can trade with these keys"
            )
        if choice.needs_passphrase and (choice.exists or writing):
            choice.unlock(_passphrase(choice))
    except NoKeyringError as exc:
        raise NoKeyringHereError(str(exc)) from None
    except KeyStoreError as exc:
        raise KeysUnavailableError(str(exc)) from None
    return KeyStore(choice)


def find_keys(args: argparse.Namespace, env: str) -> tuple[StoredKeys | None, str]:
    """The pair the app would trade with on ``env`` (the environment's, else the keyring's)
    or None, and where it was looked for (the keyring's description, or ``environment``).

    Raises:
        KeysUnavailableError: the variables are half set or implausible, or the keyring cannot
            be used (the message says why and names it).
    """
    from .services.keys import KeyStoreError, keys_from_environment

    try:
        from_env = keys_from_environment(env)
        if from_env is not None:
            return from_env, from_env.source
        store = _open_store(args)
        return store.load(env), store.choice.description
    except KeyStoreError as exc:
        raise KeysUnavailableError(str(exc)) from None


def _no_keys(env: str, where: str) -> str:
    return f"no {env} keys in {where}; store them with `workstation keys set --env {env}`"


def _show(args: argparse.Namespace, env: str) -> int:
    from .services.keys import ENV_KEY, ENV_SECRET, KEYS_FROM_ENVIRONMENT

    stored, where = find_keys(args, env)
    if stored is None:
        _say(_no_keys(env, where))
        return 1
    if stored.source == KEYS_FROM_ENVIRONMENT:
        _say(
            f"{env}: API key {stored.api_key.tail()} from the environment ({ENV_KEY}, "
            f"{ENV_SECRET}); the keyring is not read while they are set"
        )
    else:
        _say(f"{env}: API key {stored.api_key.tail()} in {stored.source}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from .services.keys import KEYS_FROM_ENVIRONMENT, keys_from_environment

    from_env = keys_from_environment(_KEY_ENVS[0])
    if from_env is not None:
        _say(f"sandbox and live: API key {from_env.api_key.tail()} from the environment")
        return 0
    store = _open_store(args)
    _say(f"keyring: {store.choice.description}")
    for env in _KEY_ENVS:
        stored = store.load(env)
        assert stored is None or stored.source != KEYS_FROM_ENVIRONMENT
        state = (
            f"stored (key {stored.api_key.tail()})"
            if stored is not None
            else f"none  (`workstation keys set --env {env}`)"
        )
        _say(f"{env:<8} {state}")
    return 0


def _set(args: argparse.Namespace, env: str) -> int:
    from .services.keys import ENV_KEY, ENV_SECRET, plausible

    store = _open_store(args, writing=True)
    replacing = store.load(env) is not None
    api_key = plausible(_ask(f"{env} API key (hidden): "), "API key")
    api_secret = plausible(_ask(f"{env} API secret (hidden): "), "API secret")
    stored = store.save(env, api_key, api_secret)
    _say(
        f"stored the {env} API key {stored.api_key.tail()} and its secret in "
        f"{store.choice.description}, read back and compared"
        f"{' (replacing the pair stored before)' if replacing else ''}"
    )
    if ENV_KEY in os.environ or ENV_SECRET in os.environ:
        _warn(f"{ENV_KEY} / {ENV_SECRET} are set: the app uses those, not these, while they are")
    return 0


def _delete(args: argparse.Namespace, env: str) -> int:
    store = _open_store(args)
    where = store.choice.description
    if store.delete(env):
        _say(f"removed the {env} keys from {where}")
    else:
        _say(f"no {env} keys were stored in {where}")
    return 0


def _test(args: argparse.Namespace, env: str) -> int:
    import asyncio

    from .bitstamp.auth import Credentials
    from .bitstamp.rest import RestClient
    from .services.key_probe import NOT_PROBED, KeyReport, probe_key
    from .services.keys import KEYS_FROM_ENVIRONMENT
    from .services.venue import bitstamp_venue

    stored, where = find_keys(args, env)
    if stored is None:
        raise KeysUnavailableError(_no_keys(env, where))
    venue = bitstamp_venue(env, stored.api_key, stored.api_secret, keys_from=stored.source)
    credentials = Credentials(
        stored.api_key, stored.api_secret, env, venue.rest_host, venue.rest_port
    )
    origin = "the environment" if stored.source == KEYS_FROM_ENVIRONMENT else stored.source
    _say(f"testing the {env} API key {stored.api_key.tail()} (from {origin}) on {venue.rest_url}")

    async def probe() -> KeyReport:
        async with RestClient.for_url(venue.rest_url, credentials=credentials) as rest:
            return await probe_key(rest)

    report = asyncio.run(probe())
    for p in report.probes:
        _say(f"  {p.outcome.value:<14} {p.what}{f'  ({p.detail})' if p.detail else ''}")
    if report.key_refused is not None:
        _say(f"the key was refused: {report.key_refused}")
        return 1
    if not report.works:
        _say(f"{venue.rest_url} gave no answer that says anything about the key")
        return 1
    _say(f"the key signs requests {venue.rest_host} accepts; {NOT_PROBED}")
    return 0


def run_keys(args: argparse.Namespace) -> int:
    """``workstation keys set|show|status|delete|test``."""
    from .services.keys import KeyStoreError

    command = args.keys_command
    try:
        if command == "status":
            return _status(args)
        env = args.key_env
        if command == "show":
            return _show(args, env)
        if command == "set":
            return _set(args, env)
        if command == "delete":
            return _delete(args, env)
        return _test(args, env)
    except KeysUnavailableError as exc:
        return _fail(str(exc))
    except KeyStoreError as exc:
        return _fail(str(exc))


def _fail(message: str) -> int:
    sys.stderr.write(f"workstation keys: {message}\n")
    return 2
