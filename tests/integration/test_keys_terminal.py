"""``workstation keys`` as a trader types it: a child process on a pseudo-terminal, the real
encrypted file keyring (keyrings.cryptfile's, full-cost Argon2) chosen by
``PYTHON_KEYRING_BACKEND``, its file under this test's ``XDG_DATA_HOME``.

The terminal is where a hidden prompt proves itself: what was typed must not come back on
the screen. ``keys test`` reaches a simulator standing in for the sandbox (the environment
table is pointed at it by the launcher, inside the test, never by a user-facing option).
"""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from pathlib import Path

from .sim_thread import sim_in_thread

REPO = Path(__file__).resolve().parents[2]
KEY = "TermKey0123456789abcdefWXYZ"
SECRET = "TermSecret0123456789abcdefghijklmnop"
PASSPHRASE = "a terminal passphrase"

LAUNCHER = """
import sys
from workstation import cli
from workstation.services import venue

venue.BITSTAMP_HOSTS["sandbox"] = venue.Hosts(sys.argv.pop(), None)
sys.exit(cli.main(sys.argv[1:]))
"""


def on_terminal(argv: list[str], answers: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run ``workstation ARGV`` on a pty, typing each answer at the next hidden prompt;
    the exit status and everything the terminal showed."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: never returns
        os.execve(sys.executable, [sys.executable, "-c", LAUNCHER, *argv], env)
    shown, asked_at, pending = b"", 0, list(answers)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
        since = shown[asked_at:].rstrip()
        if pending and (since.endswith(b"):") or since.endswith(b"again:")):
            time.sleep(0.1)  # let getpass turn the echo off first, as a person would
            os.write(fd, pending.pop(0).encode() + b"\n")
            asked_at = len(shown)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode("utf-8", "replace").replace("\r", "")


def test_set_show_test_delete_on_a_terminal_with_the_encrypted_file(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PYTHON_KEYRING_BACKEND": "keyrings.cryptfile.cryptfile.CryptFileKeyring",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    for name in ("BITSTAMP_API_KEY", "BITSTAMP_API_SECRET", "WORKSTATION_KEYRING_PASSPHRASE"):
        env.pop(name, None)
    path = tmp_path / "data" / "python_keyring" / "cryptfile_pass.cfg"
    where = f"the encrypted file keyring (keyrings.cryptfile.cryptfile.CryptFileKeyring) at {path}"
    with sim_in_thread(KEY, SECRET) as sim:

        def run(*argv: str, answers: list[str]) -> tuple[int, str]:
            code, shown = on_terminal([*argv, sim.rest_url], answers, env)
            for typed in (SECRET, PASSPHRASE, KEY[:-4]):
                assert typed not in shown, f"{typed!r} came back on the terminal: {shown}"
            return code, shown

        code, shown = run(
            "keys", "set", "--env", "sandbox", answers=[PASSPHRASE, PASSPHRASE, KEY, SECRET]
        )
        assert code == 0, shown
        assert shown.splitlines() == [
            f"new passphrase for {path} (hidden; it cannot be recovered): ",
            "the same passphrase again: ",
            "unlocking the keyring…",
            "sandbox API key (hidden): ",
            "sandbox API secret (hidden): ",
            f"stored the sandbox API key …WXYZ and its secret in {where}, read back and compared",
        ]
        code, shown = run("keys", "show", "--env", "sandbox", answers=[PASSPHRASE])
        assert code == 0, shown
        assert shown.splitlines()[-1] == f"sandbox: API key …WXYZ in {where}"
        code, shown = run("keys", "test", "--env", "sandbox", answers=[PASSPHRASE])
        assert code == 0, shown
        assert "  yes            see balances" in shown
        assert "the key signs requests 127.0.0.1 accepts" in shown
        code, shown = run("keys", "delete", "--env", "sandbox", answers=[PASSPHRASE])
        assert code == 0, shown
        assert shown.splitlines()[-1] == f"removed the sandbox keys from {where}"
        code, shown = run("keys", "show", "--env", "sandbox", answers=[PASSPHRASE])
        assert code == 1, shown
    on_disk = path.read_text()
    assert SECRET not in on_disk
    assert PASSPHRASE not in on_disk
