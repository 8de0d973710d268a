"""Where the workstation trades: the embedded simulator, an attached one, sandbox or live.

The embedded simulator runs in a child process so its matching and market making never take
time from the UI's event loop. It stops with the app: on a normal exit we terminate it, and if
the app dies without cleaning up, the child sees its stdin close and exits by itself, so no
orphan survives a crash or a Ctrl+C.

Each venue also names its *journal scope* (:attr:`Venue.journal_env`): the ``env`` written on
every journaled order, so that reconciliation on one venue never touches another's orders.
Bitstamp's sandbox and live are one scope each; an attached simulator is scoped by its address;
the embedded simulator by a run id, since it dies with the app and nothing it knew survives.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import msgspec

from ..bitstamp.secret import Secret
from .embedded_runs import close_ended_run, close_other_runs
from .logs import mask
from .sim_process import SimProcess

__all__ = [
    "BITSTAMP_HOSTS",
    "ENVIRONMENTS",
    "EmbeddedSim",
    "Hosts",
    "Venue",
    "VenueError",
    "attached_sim_venue",
    "bitstamp_venue",
    "check_sandbox_ws_url",
    "is_bitstamp_host",
    "is_loopback_host",
]

ENVIRONMENTS = ("sim", "sandbox", "live")
"""The badges a venue can carry (``Venue.env``)."""


class Hosts(msgspec.Struct, frozen=True):
    """Where one of Bitstamp's environments answers."""

    rest_url: str
    """The REST base: every request, public and signed (signed ones are bound to its host)."""
    ws_url: str | None
    """The WebSocket; None when none is known (sandbox): public market data then comes from
    live (its stream and its REST book), and our orders are followed over REST, so that no
    sandbox token is ever sent to live's stream (``--sandbox-ws-url`` gives one)."""


BITSTAMP_HOSTS: dict[str, Hosts] = {
    # Reference section 1 ("Hosts and environments"). No source names a sandbox WebSocket
    # ("[UNCERTAIN]", and the open question of section 11).
    "live": Hosts("https://www.bitstamp.net", "wss://ws.bitstamp.net/"),
    "sandbox": Hosts("https://sandbox.bitstamp.net", None),
}
"""The one place Bitstamp's hosts are named, by environment. Tests point an environment at a
simulator by patching this table (never through an option a user could pass)."""

_RUN_ID = re.compile(r"[0-9a-f]{8}")
_log = logging.getLogger(__name__)


class VenueError(RuntimeError):
    """The venue could not be reached or started."""


@dataclass(frozen=True)
class Venue:
    """Everything that differs between environments: the URLs and a key pair (none: the
    venue is watched, not traded)."""

    env: str
    """``sim``, ``sandbox`` or ``live``."""
    rest_url: str
    """Where orders and signed requests go, and public requests unless ``market_rest_url``."""
    ws_url: str
    """The market data stream (and our private channels when ``orders_stream``)."""
    api_key: Secret | None = field(default=None, repr=False)
    api_secret: Secret | None = field(default=None, repr=False)
    embedded_run: str | None = None
    """8 hex digits naming one run of the embedded simulator; None for every other venue."""
    market_rest_url: str | None = None
    """The REST base of public market data when it is not ``rest_url``: live's, for a
    sandbox without a WebSocket of its own, so the book's snapshots and its diffs come from
    one exchange. None: ``rest_url``."""
    orders_stream: bool = True
    """``ws_url`` carries our private order channels. False (a sandbox without a WebSocket of
    its own): no stream token is ever asked for, and our orders are followed over REST."""
    keys_from: str = ""
    """Where the key pair came from: ``environment`` (``keys.KEYS_FROM_ENVIRONMENT``, marked
    on the status bar) or the keyring's description; "" for a simulator's pair or none."""

    def __post_init__(self) -> None:
        if self.embedded_run is not None and not _RUN_ID.fullmatch(self.embedded_run):
            raise ValueError("embedded_run must be 8 lowercase hex digits")
        keys = (self.api_key, self.api_secret)
        if any(v is not None and not isinstance(v, Secret) for v in keys):
            # said here, at once: a plain string would only fail later, inside the signer
            raise TypeError("a venue's API key and secret are held as Secret, never as text")
        if self.env == "sim" and is_bitstamp_host(self.rest_host):
            # the badge, the confirm rule and the journal scope follow the host actually used
            raise ValueError(f"{self.rest_host} is Bitstamp, not a simulator: no SIM badge on it")
        mask(self.api_key, self.api_secret)  # from now on the log shows them as ***

    @property
    def rest_host(self) -> str:
        """The REST host, lowercase: what the key pair is bound to (with :attr:`rest_port`)."""
        return (urlsplit(self.rest_url).hostname or "").lower()

    @property
    def rest_port(self) -> int:
        return _port(self.rest_url)

    @property
    def has_credentials(self) -> bool:
        return bool(self.api_key and self.api_secret)

    @property
    def journal_env(self) -> str:
        """The scope of this venue's orders in the journal (the ``env`` of their rows).

        ``live`` and ``sandbox`` for Bitstamp; ``sim@HOST:PORT`` for an attached simulator
        (the same simulator found again at its address is the same scope);
        ``sim@embedded-<run id>`` for the embedded one, a new scope every start, because its
        exchange died with the previous app and none of those orders can be reconciled.
        """
        if self.env != "sim":
            return self.env
        if self.embedded_run is not None:
            return f"sim@embedded-{self.embedded_run}"
        return f"sim@{_host_port(self.rest_url)}"

    @property
    def label(self) -> str:
        return self.env.upper()

    @property
    def market_data_from(self) -> str:
        """The REST base the book and tape are read from."""
        return self.market_rest_url or self.rest_url


def _port(url: str) -> int:
    """The port of an http(s) URL, the scheme's default when none is given."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = 443 if parts.scheme in ("https", "wss") else 80
    return port


def _host_port(url: str) -> str:
    """``HOST:PORT`` of an http(s) URL, with the scheme's default port when none is given."""
    host = urlsplit(url).hostname or ""
    port = _port(url)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def is_bitstamp_host(host: str) -> bool:
    """``bitstamp.net`` or any host under it: real money, never a simulator."""
    host = host.lower().rstrip(".")
    return host == "bitstamp.net" or host.endswith(".bitstamp.net")


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback address: a simulator on this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bitstamp_venue(
    env: str,
    api_key: Secret | None = None,
    api_secret: Secret | None = None,
    *,
    sandbox_ws_url: str | None = None,
    keys_from: str = "",
) -> Venue:
    """Bitstamp's ``sandbox`` or ``live`` (hosts from :data:`BITSTAMP_HOSTS`), with the key
    pair stored for it (``keys_from`` says where it came from), or none: watch-only on the
    public market data.

    ``sandbox_ws_url`` is sandbox's WebSocket when the trader knows one; without it sandbox
    reads public market data from live and follows its orders over REST.

    Raises:
        VenueError: not sandbox or live, or a ``sandbox_ws_url`` that is refused (see
            :func:`check_sandbox_ws_url`).
    """
    if env not in BITSTAMP_HOSTS:
        raise VenueError(f"Bitstamp's environments are sandbox and live, not {env!r}")
    hosts = BITSTAMP_HOSTS[env]
    ws_url = hosts.ws_url
    if sandbox_ws_url is not None:
        if env != "sandbox":
            raise VenueError("--sandbox-ws-url is for --env sandbox")
        ws_url = check_sandbox_ws_url(sandbox_ws_url)
    if ws_url is not None:
        return Venue(env, hosts.rest_url, ws_url, api_key, api_secret, keys_from=keys_from)
    live = BITSTAMP_HOSTS["live"]
    assert live.ws_url is not None
    return Venue(
        env,
        hosts.rest_url,
        live.ws_url,
        api_key,
        api_secret,
        market_rest_url=live.rest_url,
        orders_stream=False,
        keys_from=keys_from,
    )


def check_sandbox_ws_url(url: str) -> str:
    """``url`` as sandbox's WebSocket: ``wss://HOST[:PORT][/PATH]`` (``ws://`` on this
    machine only: the stream token would cross the network in clear), and never live's
    stream host, which must never see a sandbox token.

    Raises:
        VenueError: saying which of these ``url`` is not.
    """
    url = url.strip()
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in 0..65535
    except ValueError:
        raise VenueError(f"{url!r} has a port that is not a number") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("ws", "wss") or not host:
        raise VenueError(f"{url!r} is not a WebSocket URL like wss://HOST/")
    if parts.scheme == "ws" and not is_loopback_host(host):
        raise VenueError(f"{url!r}: use wss:// (ws:// would send the stream token in clear)")
    live_ws = BITSTAMP_HOSTS["live"].ws_url
    if live_ws is not None and _host_port(url).lower() == _host_port(live_ws).lower():
        raise VenueError(f"{host} is live's stream: a sandbox token is never sent there")
    return url


def attached_sim_venue(
    url: str, api_key: str | None, api_secret: str | None, *, allow_remote: bool = False
) -> Venue:
    """A running ``workstation sim`` at ``url`` (its REST base; the WebSocket is at ``/``).

    Only a loopback address unless ``allow_remote``; never a Bitstamp host, whatever the flag:
    a SIM badge skips the live confirm rule, so it must never sit on real money.

    Raises:
        VenueError: ``url`` is not an http(s) URL with a host, is Bitstamp's, or is another
            machine without ``allow_remote`` (the message says so).
    """
    base = url.strip().rstrip("/")
    parts = urlsplit(base)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in 0..65535
    except ValueError:
        raise VenueError(f"{url!r} has a port that is not a number") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise VenueError(f"{url!r} is not a simulator URL like http://127.0.0.1:8765")
    if parts.query or parts.fragment:
        raise VenueError(f"{url!r}: give the simulator's base URL, without ? or #")
    if is_bitstamp_host(parts.hostname):
        raise VenueError(
            f"{parts.hostname} is Bitstamp's own host, not a simulator; to trade there use "
            "--env sandbox or --env live (keys from `workstation keys set`)"
        )
    if not allow_remote and not is_loopback_host(parts.hostname):
        raise VenueError(
            f"{parts.hostname} is not on this machine; pass --allow-remote-sim to attach to a "
            "simulator on another host"
        )
    ws = "ws" + base[len("http") :] + "/"
    key = Secret(api_key) if api_key is not None else None
    secret = Secret(api_secret) if api_secret is not None else None
    return Venue("sim", base, ws, key, secret)


class EmbeddedSim:
    """Start ``workstation sim`` on a free loopback port in a child process.

    ``async with EmbeddedSim(seed=1) as venue:`` yields a :class:`Venue` with the child's URLs
    and its generated demo key pair; leaving the block stops the child.

    :meth:`spawn` starts the child before any event loop runs, so the CLI can start it first
    thing: its start-up (a Python process importing the simulator and making its markets)
    then overlaps the app's own imports and first screen instead of following them
    (``async with`` only waits for its ready line). ``started`` is a child already started
    (:mod:`workstation.launch` starts one before the command line's imports); it is used
    when its seed is this one's, else ended. The child exits by itself when our end of its
    stdin closes, so one spawned and never entered still ends with this process.

    With ``journal_path``, the orders no exchange can ever answer for are closed there as
    "venue ended" (:mod:`~workstation.services.embedded_runs`): those of earlier runs that
    never closed theirs when this one starts, and this run's own when it stops.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        startup_timeout_s: float = 20.0,
        journal_path: Path | None = None,
        started: SimProcess | None = None,
    ) -> None:
        self.seed = seed
        self._started = started
        self._child: SimProcess | None = None
        self.startup_timeout_s = startup_timeout_s
        self.journal_path = journal_path
        self.process: subprocess.Popen[bytes] | None = None
        self.run_id: str | None = None
        """A fresh 8-hex id per start: the journal scope of this run's orders."""
        self._ready_pipe: asyncio.ReadTransport | None = None

    def spawn(self) -> None:
        """Start the child now, if it is not started yet (no event loop needed)."""
        if self.process is not None:
            return
        child, self._started = self._started, None
        if child is not None and child.seed != self.seed:
            child.discard()  # another market than the one asked for
            child = None
        self._child = child = child or SimProcess(self.seed)
        self.process, self.run_id = child.process, child.run_id

    async def __aenter__(self) -> Venue:
        self.spawn()
        assert self.process is not None
        assert self.process.stdout is not None
        try:
            async with asyncio.timeout(self.startup_timeout_s):
                line = await self._ready_line(self.process.stdout)
        except TimeoutError:
            await self.stop()
            raise VenueError("the embedded simulator did not start in time") from None
        except BaseException:  # cancelled while starting (an app quit early): stop the child
            await self.stop()
            raise
        try:
            ready = json.loads(line)
            venue = Venue(
                env="sim",
                rest_url=ready["rest_url"],
                ws_url=ready["ws_url"],
                api_key=Secret(ready["api_key"]),
                api_secret=Secret(ready["api_secret"]),
                embedded_run=self.run_id,
            )
        except (ValueError, KeyError, TypeError):
            await self.stop()
            raise VenueError("the embedded simulator did not report its address") from None
        self._close_venue_ended(close_other_runs, venue.journal_env)
        return venue

    async def _ready_line(self, pipe: IO[bytes]) -> bytes:
        """The child's first line, read without blocking the loop (the pipe stays open until
        :meth:`stop`: the child never writes to a closed one)."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        self._ready_pipe, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), pipe
        )
        return await reader.readline()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        """Stop the child (stdin closed, then SIGTERM, then SIGKILL); safe to call again."""
        process, self.process, self._child = self.process, None, None
        if process is not None and self.run_id is not None:
            self._close_venue_ended(close_ended_run, f"sim@embedded-{self.run_id}")
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()  # the child exits on stdin EOF
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            if not await _exited(process, 5):
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await _exited(process, 5)
        if self._ready_pipe is not None:
            self._ready_pipe.close()
            self._ready_pipe = None
        elif process.stdout is not None:
            process.stdout.close()

    def end_after_loop(self) -> None:
        """Once the app's event loop has ended: stop a child still running (the app never
        entered or never left it, e.g. it crashed first), blocking for at most a few seconds.
        The journal's venue-ended step is :meth:`stop`'s; this only ends the process."""
        child, self._child = self._child, None
        self.process = None
        if child is not None:
            child.end()

    def _close_venue_ended(self, close: Callable[[Path, str], int], scope: str) -> None:
        """Close orders no exchange will ever answer for; a journal that fails is logged, and
        the simulator starts or stops all the same (the next start tries again)."""
        if self.journal_path is None:
            return
        try:
            closed = close(self.journal_path, scope)
        except Exception:  # noqa: BLE001 - logged; nothing here may stop the simulator
            _log.exception("closing the orders of ended simulator runs in %s", self.journal_path)
            return
        if closed:
            _log.info("closed %d orders of ended simulator runs (venue ended)", closed)


async def _exited(process: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """Wait up to ``timeout_s`` for ``process`` to end (reaped), without blocking the loop."""
    deadline = time.monotonic() + timeout_s
    while process.poll() is None:
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True
