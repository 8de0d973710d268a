"""The planted-secret sweep (issue 14): no key, secret or passphrase ever shows.

Every scenario plants its own key pair and keyring passphrase (recognisable, distinct per
scenario: ``PlantKey…``, ``PlantSecret…``, ``plant phrase …``), drives one path where they
travel (a keys command and its error paths, the app and its crash, the log, the journal,
exceptions, Textual's crash printout, a screenshot, the process title) and records what a
person or a file could see. Then everything recorded, and every file under the test's
directories (log files, journal, keyring files, screenshots), is searched for:

- the secret, and its last 20 characters (a secret cut short is still a leak);
- the passphrase;
- the API key except its last 4 characters (``…WXYZ`` is how we tell keys apart).

To add a scenario, write a function taking a `Sweep` and decorate it with
``@scenario("name")``: it plants nothing itself, it only *uses* ``sweep.planted`` and
``sweep.saw(label, text)`` what came out (stdout and stderr of the keys commands are
recorded by ``sweep.cli``).
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import hashlib
import io
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyrings.cryptfile.file import PlaintextKeyring
from rich.console import Console
from rich.traceback import Traceback

from workstation import cli, cli_trading
from workstation.bitstamp.auth import Credentials
from workstation.bitstamp.errors import BitstampError
from workstation.bitstamp.request_auth import BitstampAuth
from workstation.bitstamp.rest import RestClient
from workstation.bitstamp.secret import Secret
from workstation.domain.common import Side
from workstation.domain.order_request import OrderRequest
from workstation.domain.order_vocabulary import OrderKind
from workstation.services import logs
from workstation.services import venue as venue_module
from workstation.services.facade import VenueServices
from workstation.services.keyring_choice import choose_keyring
from workstation.services.keys import KeyStore, KeyStoreError, keys_from_environment
from workstation.services.venue import bitstamp_venue
from workstation.sim.server import SimServer
from workstation.ui.app import WorkstationApp, build_app

from ..keyring_support import FAST_CRYPTFILE, FastCryptFileKeyring, installed
from ..ui.harness import real, settle
from ..unit.cli_support import LockedKeyring, Prompt
from .sim_thread import point_env_at, sim_in_thread

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Planted:
    key: str
    secret: str
    passphrase: str

    @classmethod
    def for_scenario(cls, name: str) -> Planted:
        digest = hashlib.sha256(name.encode()).hexdigest()
        return cls(
            key="PlantKey" + digest[:24],
            secret="PlantSecret" + digest[24:56],
            passphrase="plant phrase " + digest[56:],
        )

    def leaks(self, text: str) -> list[str]:
        """What of the planted values ``text`` shows (empty: nothing)."""
        found = []
        for what, needle in (
            ("the secret", self.secret),
            ("the end of the secret", self.secret[-20:]),
            ("the passphrase", self.passphrase),
            ("the API key beyond its last 4 characters", self.key[:-4]),
        ):
            if needle in text:
                found.append(what)
        return found


@dataclass
class Sweep:
    """What a scenario has at hand, and what it saw."""

    name: str
    planted: Planted
    tmp_path: Path
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]
    stack: contextlib.ExitStack
    seen: list[tuple[str, str]] = field(default_factory=list)
    prompt: Prompt = field(default_factory=Prompt)

    def saw(self, label: str, text: str | bytes) -> None:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        self.seen.append((label, text))

    def cli(self, argv: list[str], *answers: str | type[BaseException]) -> int:
        """``workstation ARGV`` in-process, the prompts answered in turn; stdout and stderr
        are recorded (an argparse refusal too)."""
        self.prompt.answers = list(answers)
        try:
            code = cli.main(argv)
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        self.saw(f"stdout of {argv}", out)
        self.saw(f"stderr of {argv}", err)
        return code

    def backend(self, backend: KeyringBackend) -> KeyringBackend:
        return self.stack.enter_context(installed(backend))

    def cryptfile(self, *, with_pair: str | None = None) -> FastCryptFileKeyring:
        """The encrypted file keyring, locked; with the planted pair stored for ``with_pair``."""
        backend = FastCryptFileKeyring()
        self.backend(backend)
        if with_pair is not None:
            backend.keyring_key = self.planted.passphrase
            backend.set_password(f"bitstamp-workstation/{with_pair}", "api_key", self.planted.key)
            backend.set_password(
                f"bitstamp-workstation/{with_pair}", "api_secret", self.planted.secret
            )
            del backend.keyring_key
        return backend

    def keys_in_environment(self, key: str | None = None, secret: str | None = None) -> None:
        self.monkeypatch.setenv("BITSTAMP_API_KEY", key or self.planted.key)
        self.monkeypatch.setenv("BITSTAMP_API_SECRET", secret or self.planted.secret)

    def sim(self, *, key: str | None = None, secret: str | None = None) -> SimServer:
        """A simulator with the planted pair (or another), standing in for sandbox and live."""
        server = self.stack.enter_context(
            sim_in_thread(key or self.planted.key, secret or self.planted.secret)
        )
        point_env_at(self.monkeypatch, "sandbox", server)
        point_env_at(self.monkeypatch, "live", server)
        return server

    def raised(self, label: str, work: Callable[[], object]) -> BaseException:
        """Run ``work``, which must raise; record the exception's str, repr and traceback,
        and what Textual's crash printout (rich, with every frame's locals) would show."""
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - every exception is what we look at
            self.saw_exception(label, exc)
            return exc
        raise AssertionError(f"{label}: nothing was raised")

    def saw_exception(self, label: str, exc: BaseException) -> None:
        """``exc`` as a message, a repr, a logged traceback and Textual's printout, from the
        first frame that is not this sweep's own (whose locals hold the planted values)."""
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next
        self.saw(f"str of {label}", str(exc))
        self.saw(f"repr of {label}", repr(exc))
        formatted = logging.Formatter().formatException((type(exc), exc, tb))
        self.saw(f"log traceback of {label}", formatted)
        printout = printed_with_locals(exc, tb)
        assert tb is None or "locals" in printout  # the frames' variables were printed
        self.saw(f"Textual's printout of {label}", printout)

    def files(self) -> Iterator[Path]:
        for root in {self.tmp_path, Path(os.environ["XDG_DATA_HOME"])}:
            yield from (p for p in root.rglob("*") if p.is_file())


def printed_with_locals(exc: BaseException, tb: TracebackType | None) -> str:
    """The traceback as Textual prints a crash: rich, with the local variables of every frame."""
    console = Console(file=io.StringIO(), width=200, record=True)
    console.print(Traceback.from_exception(type(exc), exc, tb, show_locals=True))
    return console.export_text()


SCENARIOS: dict[str, Callable[[Sweep], None]] = {}


def scenario(name: str) -> Callable[[Callable[[Sweep], None]], Callable[[Sweep], None]]:
    def register(run: Callable[[Sweep], None]) -> Callable[[Sweep], None]:
        assert name not in SCENARIOS, name
        SCENARIOS[name] = run
        return run

    return register


# -- keys set ----------------------------------------------------------------------------------


@scenario("keys set in a new encrypted file")
def _(s: Sweep) -> None:
    s.cryptfile()
    p = s.planted
    assert s.cli(["keys", "set", "--env", "live"], p.passphrase, p.passphrase, p.key, p.secret) == 0


@scenario("keys set replacing a stored pair")
def _(s: Sweep) -> None:
    s.cryptfile(with_pair="live")
    p = s.planted
    assert s.cli(["keys", "set", "--env", "live"], p.passphrase, "Other0key1", p.secret) == 0


@scenario("keys set with two different new passphrases")
def _(s: Sweep) -> None:
    s.cryptfile()
    p = s.planted
    assert s.cli(["keys", "set", "--env", "live"], p.passphrase, p.passphrase + "x") == 2


@scenario("keys set with a wrong passphrase")
def _(s: Sweep) -> None:
    s.cryptfile(with_pair="sandbox")
    p = s.planted
    assert s.cli(["keys", "set", "--env", "sandbox"], p.passphrase[::-1], p.key, p.secret) == 2


@scenario("keys set with a blank passphrase")
def _(s: Sweep) -> None:
    s.cryptfile()
    assert s.cli(["keys", "set", "--env", "live"], "  ", "  ") == 2


@scenario("keys set pasting the secret with a space in it")
def _(s: Sweep) -> None:
    s.cryptfile()
    p = s.planted
    secret = p.secret[:10] + " " + p.secret[10:]
    assert s.cli(["keys", "set", "--env", "live"], p.passphrase, p.passphrase, p.key, secret) == 2


@scenario("keys set pasting the secret in quotes")
def _(s: Sweep) -> None:
    s.cryptfile()
    p = s.planted
    quoted = f'"{p.secret}"'
    assert s.cli(["keys", "set", "--env", "live"], p.passphrase, p.passphrase, p.key, quoted) == 2


@scenario("keys set pasting the secret where the key goes")
def _(s: Sweep) -> None:
    s.cryptfile()
    p = s.planted
    args = ["keys", "set", "--env", "live"]
    assert s.cli(args, p.passphrase, p.passphrase, f"{p.key}\t{p.secret}", p.secret) == 2


@scenario("keys set cancelled at the secret prompt")
def _(s: Sweep) -> None:
    s.cryptfile()
    p = s.planted
    args = ["keys", "set", "--env", "live"]
    assert s.cli(args, p.passphrase, p.passphrase, p.key, KeyboardInterrupt) == 2


@scenario("keys set on a keyring that refuses the write")
def _(s: Sweep) -> None:
    s.backend(LockedKeyring())
    assert s.cli(["keys", "set", "--env", "live"], s.planted.key, s.planted.secret) == 2


@scenario("keys set on a keyring that gives back another pair")
def _(s: Sweep) -> None:
    class Reversing(LockedKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            self.entries[(service, username)] = password[::-1]

    s.backend(Reversing())
    assert s.cli(["keys", "set", "--env", "live"], s.planted.key, s.planted.secret) == 2


@scenario("keys set on the null keyring")
def _(s: Sweep) -> None:
    s.backend(null.Keyring())
    assert s.cli(["keys", "set", "--env", "live"], s.planted.key, s.planted.secret) == 2


@scenario("keys set with no keyring")
def _(s: Sweep) -> None:
    s.backend(fail.Keyring())
    assert s.cli(["keys", "set", "--env", "live"], s.planted.key, s.planted.secret) == 2


@scenario("keys set on a plaintext keyring, refused")
def _(s: Sweep) -> None:
    s.backend(PlaintextKeyring())
    assert s.cli(["keys", "set", "--env", "live"], s.planted.key, s.planted.secret) == 2


@scenario("keys set for the simulator, refused by argparse")
def _(s: Sweep) -> None:
    s.cryptfile()
    assert s.cli(["keys", "set", "--env", "sim"], s.planted.key, s.planted.secret) == 2


# -- keys show, status, delete ------------------------------------------------------------------


@scenario("keys show from the encrypted file")
def _(s: Sweep) -> None:
    s.cryptfile(with_pair="live")
    assert s.cli(["keys", "show", "--env", "live"], s.planted.passphrase) == 0


@scenario("keys show with a wrong passphrase")
def _(s: Sweep) -> None:
    s.cryptfile(with_pair="live")
    assert s.cli(["keys", "show", "--env", "live"], s.planted.passphrase + "!") == 2


@scenario("keys show with the passphrase in the environment")
def _(s: Sweep) -> None:
    s.cryptfile(with_pair="live")
    s.monkeypatch.setenv("WORKSTATION_KEYRING_PASSPHRASE", s.planted.passphrase)
    assert s.cli(["keys", "show", "--env", "live"]) == 0


@scenario("keys status")
def _(s: Sweep) -> None:
    s.cryptfile(with_pair="sandbox")
    assert s.cli(["keys", "status"], s.planted.passphrase) == 0


@scenario("keys delete")
def _(s: Sweep) -> None:
    s.cryptfile(with_pair="live")
    assert s.cli(["keys", "delete", "--env", "live"], s.planted.passphrase) == 0
    assert s.cli(["keys", "show", "--env", "live"], s.planted.passphrase) == 1


@scenario("keys show from the environment")
def _(s: Sweep) -> None:
    s.keys_in_environment()
    assert s.cli(["keys", "show", "--env", "sandbox"]) == 0
    assert s.cli(["keys", "status"]) == 0


@scenario("keys show with only the secret in the environment")
def _(s: Sweep) -> None:
    s.monkeypatch.setenv("BITSTAMP_API_SECRET", s.planted.secret)
    assert s.cli(["keys", "show", "--env", "live"]) == 2


@scenario("keys show with a mangled secret in the environment")
def _(s: Sweep) -> None:
    s.keys_in_environment(secret=f"{s.planted.secret}\"'")
    assert s.cli(["keys", "show", "--env", "live"]) == 2


# -- keys test ---------------------------------------------------------------------------------


@scenario("keys test: every read answers")
def _(s: Sweep) -> None:
    s.cryptfile(with_pair="sandbox")
    s.sim()
    assert s.cli(["keys", "test", "--env", "sandbox"], s.planted.passphrase) == 0


@scenario("keys test: a wrong secret, 403 from the simulator")
def _(s: Sweep) -> None:
    s.keys_in_environment()
    s.sim(secret="TheSimulatorsOwnSecret0123456789")
    assert s.cli(["keys", "test", "--env", "live"]) == 1


@scenario("keys test: a key the simulator does not know")
def _(s: Sweep) -> None:
    s.keys_in_environment()
    s.sim(key="AnotherKey0123456789ABCDEF", secret="AnotherSecret0123456789abcdef")
    assert s.cli(["keys", "test", "--env", "live"]) == 1


@scenario("keys test: nothing listening")
def _(s: Sweep) -> None:
    s.keys_in_environment()
    s.monkeypatch.setitem(
        venue_module.BITSTAMP_HOSTS,
        "live",
        venue_module.Hosts("http://127.0.0.1:9", "ws://127.0.0.1:9/"),
    )
    assert s.cli(["keys", "test", "--env", "live"]) == 1


@scenario("keys test: no keys stored")
def _(s: Sweep) -> None:
    s.cryptfile(with_pair="live")
    assert s.cli(["keys", "test", "--env", "sandbox"], s.planted.passphrase) == 2


# -- starting the app --------------------------------------------------------------------------


@scenario("--env live with a wrong passphrase")
def _(s: Sweep) -> None:
    s.cryptfile(with_pair="live")
    s.monkeypatch.setattr(cli_trading, "start_app", lambda **kw: 0)
    assert s.cli(["--env", "live"], s.planted.passphrase.upper()) == 2


@scenario("--env live with half a pair in the environment")
def _(s: Sweep) -> None:
    s.monkeypatch.setenv("BITSTAMP_API_SECRET", s.planted.secret)
    s.monkeypatch.setattr(cli_trading, "start_app", lambda **kw: 0)
    assert s.cli(["--env", "live"]) == 2


@scenario("--env sandbox with a mangled key in the environment")
def _(s: Sweep) -> None:
    s.keys_in_environment(key=s.planted.key + "-")
    s.monkeypatch.setattr(cli_trading, "start_app", lambda **kw: 0)
    assert s.cli(["--env", "sandbox"]) == 2


@scenario("--env live refused with --no-confirm, keys given")
def _(s: Sweep) -> None:
    s.keys_in_environment()
    assert s.cli(["--env", "live", "--no-confirm"]) == 2


@scenario("the venue the app is started on")
def _(s: Sweep) -> None:
    s.cryptfile(with_pair="live")
    started: list[dict[str, Any]] = []
    s.monkeypatch.setattr(cli_trading, "start_app", lambda **kw: started.append(kw) or 0)
    assert s.cli(["--env", "live"], s.planted.passphrase) == 0
    venue = started[0]["venue"]
    s.saw("repr of the venue", repr(venue))
    s.saw("str of the venue", str(venue))
    s.saw("the venue's fields", repr(vars(venue) if hasattr(venue, "__dict__") else venue))
    s.saw("the health view", repr(VenueServices(venue).health()))


# -- exceptions and what holds the keys --------------------------------------------------------


@scenario("reprs of everything that holds the keys")
def _(s: Sweep) -> None:
    p = s.planted
    backend = s.cryptfile(with_pair="live")
    backend.keyring_key = p.passphrase
    choice = choose_keyring()
    store = KeyStore(choice)
    stored = store.load("live")
    assert stored is not None
    venue = bitstamp_venue("live", stored.api_key, stored.api_secret, keys_from=stored.source)
    credentials = Credentials(stored.api_key, stored.api_secret, "live", "www.bitstamp.net")
    auth = BitstampAuth(credentials)
    for label, held in [
        ("stored keys", stored),
        ("key store", store),
        ("keyring choice", choice),
        ("venue", venue),
        ("credentials", credentials),
        ("auth", auth),
        ("secret", stored.api_secret),
        ("a dict of them", {"keys": stored, "venue": venue, "credentials": credentials}),
    ]:
        s.saw(f"repr of {label}", repr(held))
        s.saw(f"str of {label}", str(held))
        s.saw(f"f-string of {label}", f"{held}")


@scenario("signing for another host: the exception and its locals")
def _(s: Sweep) -> None:
    credentials = Credentials(
        Secret(s.planted.key), Secret(s.planted.secret), "live", "www.bitstamp.net"
    )
    auth = BitstampAuth(credentials)
    request = httpx.Request("POST", "https://sandbox.bitstamp.net/api/v2/account_balances/")
    s.raised("a host mismatch", lambda: next(auth.auth_flow(request)))


@scenario("credentials that cannot be: the exception and its locals")
def _(s: Sweep) -> None:
    p = s.planted
    s.raised(
        "bad credentials",
        lambda: Credentials(Secret(p.key + " x"), Secret(p.secret), "live", "www.bitstamp.net"),
    )


@scenario("a keyring error while reading: the exception and its locals")
def _(s: Sweep) -> None:
    backend = s.cryptfile(with_pair="live")
    backend.keyring_key = s.planted.passphrase
    choice = choose_keyring()

    class Failing(type(backend)):  # type: ignore[misc]
        def get_password(self, service: str, username: str) -> str | None:
            value = super().get_password(service, username)
            if not service.startswith("bitstamp-workstation/"):
                return value  # the file's own reference entry: unlocking works
            raise keyring.errors.KeyringError(f"cannot read {username} ({len(value or '')})")

    failing = Failing()
    failing.keyring_key = s.planted.passphrase
    store = KeyStore(type(choice)(failing, choice.kind))
    s.raised("a keyring read failure", lambda: store.load("live"))


@scenario("half a pair in the environment: the exception and its locals")
def _(s: Sweep) -> None:
    s.monkeypatch.setenv("BITSTAMP_API_SECRET", s.planted.secret)
    s.monkeypatch.delenv("BITSTAMP_API_KEY", raising=False)
    exc = s.raised("half a pair", lambda: keys_from_environment("live"))
    assert isinstance(exc, KeyStoreError)


@scenario("a mangled secret in the environment: the exception and its locals")
def _(s: Sweep) -> None:
    s.keys_in_environment(secret=s.planted.secret + "!")
    exc = s.raised("a mangled secret", lambda: keys_from_environment("sandbox"))
    assert "API secret in BITSTAMP_API_SECRET must be letters and digits" in str(exc)


@scenario("a signed read refused: the error, its repr and its locals")
def _(s: Sweep) -> None:
    server = s.sim(secret="TheSimulatorsOwnSecret0123456789")
    credentials = Credentials(
        Secret(s.planted.key), Secret(s.planted.secret), "sim", "127.0.0.1", server.port
    )

    async def read() -> None:
        async with RestClient.for_url(server.rest_url, credentials=credentials) as rest:
            await rest.account_balances()

    exc = s.raised("a 403 from the simulator", lambda: asyncio.run(read()))
    assert isinstance(exc, BitstampError)


# -- the log file -------------------------------------------------------------------------------


@scenario("the log of a signed session at DEBUG")
def _(s: Sweep) -> None:
    log_file = logs.configure_logging(s.tmp_path / "log" / "workstation.log", "DEBUG")
    server = s.sim()
    venue = bitstamp_venue("sandbox", Secret(s.planted.key), Secret(s.planted.secret))
    credentials = Credentials(venue.api_key, venue.api_secret, "sandbox", "127.0.0.1", server.port)  # type: ignore[arg-type]

    async def session() -> None:
        async with RestClient.for_url(server.rest_url, credentials=credentials) as rest:
            await rest.account_balances()
            await rest.websockets_token()
            await rest.user_transactions(limit=1)
        logging.getLogger("workstation.test").info("venue %r, keys %s", venue, venue.api_secret)

    asyncio.run(session())
    assert "account_balances" in log_file.read_text()


@scenario("the log of a crash reported with the secret in its message")
def _(s: Sweep) -> None:
    log_file = logs.configure_logging(s.tmp_path / "log" / "workstation.log", "DEBUG")
    bitstamp_venue("live", Secret(s.planted.key), Secret(s.planted.secret))  # masks them
    try:
        api_secret = s.planted.secret
        raise RuntimeError(f"planted failure holding {api_secret}")
    except RuntimeError as exc:
        logs.report_crash(exc, log_file)
    s.saw("stderr of the crash report", s.capsys.readouterr().err)
    assert "planted failure holding ***" in log_file.read_text()


# -- the running app ----------------------------------------------------------------------------


def _app_on_planted_keys(s: Sweep, env: str = "sandbox") -> tuple[WorkstationApp, SimServer]:
    server = s.sim()
    venue = bitstamp_venue(
        env,
        Secret(s.planted.key),
        Secret(s.planted.secret),
        keys_from="the encrypted file keyring",
    )
    logs.configure_logging(s.tmp_path / "log" / "workstation.log", "DEBUG")
    app = build_app(VenueServices(venue, journal_path=s.tmp_path / "journal.sqlite3"))
    assert isinstance(app, WorkstationApp)
    return app, server


@scenario("a screenshot of the app trading with the keys, an order sent and journaled")
def _(s: Sweep) -> None:
    app, server = _app_on_planted_keys(s)

    async def run() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await settle(pilot)
            services = real(app)
            assert services.trading is not None
            bid = server.exchange.engines["btcusd"].best_bid()
            assert bid is not None
            request = OrderRequest("btcusd", Side.BUY, OrderKind.LIMIT, Decimal("0.01"), bid - 50)
            await services.trading.submit(request)
            await pilot.pause(0.5)
            s.saw("the screenshot", app.export_screenshot())
            app.save_screenshot("shot.svg", str(s.tmp_path))
            await pilot.press("question_mark")
            await pilot.pause(0.3)
            s.saw("the help screen", app.export_screenshot())
            await pilot.press("escape", "q")

    asyncio.run(run())
    assert (s.tmp_path / "journal.sqlite3").exists()
    out = s.capsys.readouterr()
    s.saw("stdout of the app", out.out)
    s.saw("stderr of the app", out.err)
    assert (
        s.cli(["journal", "export", "--csv", "-", "--journal", str(s.tmp_path / "journal.sqlite3")])
        == 0
    )


@scenario("Textual's own crash printout of the app holding the keys")
def _(s: Sweep) -> None:
    app, _ = _app_on_planted_keys(s, "live")
    printout = io.StringIO()
    app.error_console = Console(file=printout, width=200)
    original = WorkstationApp.on_workstation_app_services_changed

    def explode(self: WorkstationApp, message: Any) -> Any:
        services = real(self)
        if not (services.trading and services.trading.balances):
            return original(self, message)
        venue = services.venue  # a local holding the keys, as a handler might
        raise RuntimeError(f"planted failure on {venue!r} with {venue.api_secret if venue else ''}")

    s.monkeypatch.setattr(WorkstationApp, "on_workstation_app_services_changed", explode)
    app.run(headless=True, size=(120, 40))
    crash = getattr(app, "_exception", None)
    assert isinstance(crash, RuntimeError)
    assert "planted failure on" in printout.getvalue()
    assert "locals" in printout.getvalue()  # Textual printed every frame's variables
    s.saw("Textual's crash printout", printout.getvalue())
    s.saw_exception("the app's crash", crash)


# -- another process: the app's title, its crash ------------------------------------------------

LAUNCHER = """
import sys
from workstation import cli
from workstation.services import venue
from workstation.ui.app import WorkstationApp

mode = sys.argv.pop()
rest, ws = sys.argv.pop(), sys.argv.pop()
venue.BITSTAMP_HOSTS["sandbox"] = venue.Hosts(rest, ws)
original = WorkstationApp.on_workstation_app_services_changed

def planted(self, message):
    trading = self.services.trading
    if mode != "crash" or not (trading and trading.balances):
        return original(self, message)
    held = self.services.venue  # the keys, in a local of the crashing frame
    raise RuntimeError(f"planted failure holding {held.api_secret.reveal()}")

WorkstationApp.on_workstation_app_services_changed = planted
sys.exit(cli.main(sys.argv[1:]))
"""


def _app_process(s: Sweep, mode: str) -> tuple[Any, Path]:
    """The app in a child process on ``--env sandbox`` (the simulator), its keys in the
    encrypted file and its passphrase in the environment, as an unattended start would."""
    import subprocess

    server = s.sim()
    s.cryptfile(with_pair="sandbox")
    log_dir = s.tmp_path / "log"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PYTHON_KEYRING_BACKEND": FAST_CRYPTFILE,
        "WORKSTATION_KEYRING_PASSPHRASE": s.planted.passphrase,
        "XDG_CONFIG_HOME": str(s.tmp_path / "config"),
        "COLUMNS": "120",
        "LINES": "40",
    }
    argv = [
        sys.executable, "-c", LAUNCHER, "--env", "sandbox",
        "--journal", str(s.tmp_path / "journal.sqlite3"), "--log-dir", str(log_dir),
        server.ws_url, server.rest_url, mode,
    ]  # fmt: skip
    child = subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    return child, log_dir / "workstation.log"


@scenario("the running app's process title and command line")
def _(s: Sweep) -> None:
    child, log_file = _app_process(s, "run")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if log_file.exists() and "/api/v2/account_balances/ -> 200" in log_file.read_text():
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the app never made a signed read")
        proc = Path(f"/proc/{child.pid}")
        s.saw("/proc/PID/cmdline", (proc / "cmdline").read_bytes().replace(b"\0", b" "))
        s.saw("/proc/PID/comm", (proc / "comm").read_bytes())
        s.saw("/proc/PID/status", (proc / "status").read_bytes())
    finally:
        child.terminate()
        out, err = child.communicate(timeout=30)
    s.saw("stdout of the app", out)
    s.saw("stderr of the app", err)


@scenario("a forced crash of the app started from the encrypted file")
def _(s: Sweep) -> None:
    child, log_file = _app_process(s, "crash")
    out, err = child.communicate(timeout=90)
    assert child.returncode == 1, err[-2000:]
    s.saw("stdout of the crashed app", out)
    s.saw("stderr of the crashed app", err)
    log = log_file.read_text()
    assert "planted failure holding ***" in log


# -- the test -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_no_planted_secret_shows(
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for variable in (
        "BITSTAMP_API_KEY",
        "BITSTAMP_API_SECRET",
        "WORKSTATION_KEYRING_PASSPHRASE",
        "PYTHON_KEYRING_BACKEND",
    ):
        monkeypatch.delenv(variable, raising=False)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    with contextlib.ExitStack() as stack:
        sweep = Sweep(name, Planted.for_scenario(name), tmp_path, monkeypatch, capsys, stack)
        monkeypatch.setattr(getpass, "getpass", sweep.prompt)
        try:
            SCENARIOS[name](sweep)
        finally:
            for handler in [h for h in root.handlers if h not in handlers]:
                root.removeHandler(handler)
                handler.close()
            root.setLevel(level)
    out, err = capsys.readouterr()
    sweep.saw("stdout left over", out)
    sweep.saw("stderr left over", err)
    for path in sweep.files():
        sweep.saw(str(path), path.read_bytes())
    assert sweep.seen, "the scenario recorded nothing"
    leaks = {label: found for label, text in sweep.seen if (found := sweep.planted.leaks(text))}
    assert leaks == {}
