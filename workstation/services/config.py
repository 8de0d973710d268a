"""The config file: the guards of each environment and the app's starting choices.

One TOML file, ``config.toml`` in the user config directory (platformdirs, e.g.
``~/.config/bitstamp-workstation/config.toml``) or the one ``--config FILE`` names. Every key
is optional; what the file does not set keeps its default, and :class:`Settings` remembers
which came from the file (``workstation config show`` says so).

```toml
default_pair = "btcusd"
watched_pairs = ["btcusd", "ethusd"]
refresh_hz = 10                 # the order book's timed redraws per second
theme = "mono"                  # or "default"
low_bandwidth = true            # draw less for a slow link (--low-bandwidth wins)
sandbox_ws_url = "wss://..."    # sandbox's WebSocket host (none is documented)

[live]                          # and [sim], [sandbox]: the same keys
price_band_bps = 300            # a limit price at most 3 % from the mid
market_slippage_bps = 50        # a market order walking at most 0.5 % past the touch
confirm = true                  # never false on live

[live.max_notional]             # the largest order value, per quote currency
USD = 5000
BTC = 0.05

[live.max_amount]               # the largest amount in the base currency, per pair
btcusd = 0.1
```

A file that is not right is refused whole, never half-read: a TOML syntax error, a key we do
not know, a value of the wrong type or out of range, ``confirm = false`` on live. The
:class:`ConfigError` names the file, the line and the key; the command exits 2 and nothing
starts. Numbers are read as exact ``Decimal`` (``tomllib``'s ``parse_float``), never float.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
import platformdirs

from ..domain.guards import DEFAULT_LIMITS, GuardLimits
from .app_dirs import APP_NAME

__all__ = [
    "CONFIG_FILE_NAME",
    "DEFAULT_PAIR",
    "DEFAULT_REFRESH_HZ",
    "ENVS",
    "THEMES",
    "ConfigError",
    "Settings",
    "default_config_path",
    "load_settings",
]

CONFIG_FILE_NAME = "config.toml"
ENVS = ("sim", "sandbox", "live")
THEMES = ("default", "mono")
DEFAULT_PAIR = "btcusd"
DEFAULT_REFRESH_HZ = 10
MAX_REFRESH_HZ = 60
MAX_PRICE_BAND_BPS = Decimal(2000)
"""Bitstamp itself refuses a limit price more than 20 % from the market (reference 4.3)."""
MAX_SLIPPAGE_BPS = Decimal(10_000)
MAX_WATCHED = 20

_APP_KEYS = (
    "default_pair",
    "watched_pairs",
    "refresh_hz",
    "theme",
    "low_bandwidth",
    "sandbox_ws_url",
)
_PAIR = re.compile(r"[a-z0-9]{4,20}", re.ASCII)
_CURRENCY = re.compile(r"[A-Z0-9]{2,10}", re.ASCII)


def default_config_path() -> Path:
    """``config.toml`` in the user config directory (platformdirs reads XDG_CONFIG_HOME)."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / CONFIG_FILE_NAME


class ConfigError(ValueError):
    """A config file that is refused: where, and what is wrong, on one line."""

    def __init__(
        self, path: Path, problem: str, *, line: int | None = None, key: str | None = None
    ) -> None:
        self.path = path
        self.problem = problem
        self.line = line
        self.key = key
        where = str(path)
        if line is not None:
            where += f", line {line}"
        if key is not None:
            where += f", key {key}"
        super().__init__(f"{where}: {problem}")


class Settings(msgspec.Struct, frozen=True):
    """What the config says, defaults filled in.

    Attributes:
        path: the file read (or that would be read: it may not exist).
        exists: the file was there and was read.
        guards: each environment's guards (``GuardLimits.source`` is ``path``).
        default_pair: the pair shown first.
        watched_pairs: the pairs watched from the start (besides the default pair).
        refresh_hz: the order book's timed redraws per second (a moved book is redrawn at
            once, at most 25 times a second; low bandwidth: this, at most 2).
        theme: ``default`` or ``mono``.
        low_bandwidth: start in low-bandwidth mode (the command line's flag wins).
        sandbox_ws_url: sandbox's WebSocket URL; None when not set.
        from_file: the dotted keys the file set (``live.max_notional.USD``, ``theme``).
    """

    path: Path
    exists: bool = False
    guards: Mapping[str, GuardLimits] = msgspec.field(default_factory=lambda: dict(DEFAULT_LIMITS))
    default_pair: str = DEFAULT_PAIR
    watched_pairs: tuple[str, ...] = (DEFAULT_PAIR,)
    refresh_hz: int = DEFAULT_REFRESH_HZ
    theme: str = "default"
    low_bandwidth: bool = False
    sandbox_ws_url: str | None = None
    from_file: frozenset[str] = frozenset()

    @property
    def pairs(self) -> tuple[str, ...]:
        """The pairs to watch at start, the default pair first."""
        return tuple(dict.fromkeys((self.default_pair, *self.watched_pairs)))


def load_settings(path: Path | None = None) -> Settings:
    """The settings of ``path`` (``--config``), else of the default file if there is one,
    else the defaults.

    Raises:
        ConfigError: the file cannot be read, is not TOML, or says something we refuse;
            a ``path`` given explicitly must exist.
    """
    explicit = path is not None
    where = (path if path is not None else default_config_path()).expanduser()
    try:
        raw = where.read_bytes()
    except FileNotFoundError:
        if explicit:
            raise ConfigError(where, "no such file") from None
        return _with_source(Settings(path=where), f"{where} (not created yet)")
    except OSError as exc:
        raise ConfigError(where, f"cannot be read: {exc.strerror or exc}") from None
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(where, f"is not UTF-8 text (byte {exc.start})") from None
    lines = source.splitlines()
    # imported here: a start without a config file (the default) never parses TOML, and
    # tomllib's import was ~10 ms of every start's CPU (docs/decisions.md, "Cold start")
    import tomllib

    from .toml_lines import syntax_error_line

    try:
        document = tomllib.loads(source, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        line = syntax_error_line(str(exc))
        raise ConfigError(where, f"not valid TOML: {exc}", line=line) from None
    defaults = _with_source(Settings(path=where), str(where))
    return _Reader(where, lines).settings(document, defaults)


def _with_source(settings: Settings, source: str) -> Settings:
    """The guards say where they are set: the file, even when it is still to be made."""
    guards = {env: replace(limits, source=source) for env, limits in settings.guards.items()}
    return msgspec.structs.replace(settings, guards=guards)


class _Reader:
    """Checks one parsed document key by key; the first problem is raised with its line."""

    def __init__(self, path: Path, lines: list[str]) -> None:
        self.path = path
        self.lines = lines
        self.seen: set[str] = set()

    def fail(self, key: tuple[str, ...], problem: str) -> ConfigError:
        from .toml_lines import key_line

        return ConfigError(self.path, problem, line=key_line(self.lines, key), key=".".join(key))

    def settings(self, document: dict[str, Any], defaults: Settings) -> Settings:
        known = {*_APP_KEYS, *ENVS}
        self._unknown(document, (), known)
        out = msgspec.structs.replace(defaults, exists=True)
        if "default_pair" in document:
            out = msgspec.structs.replace(
                out, default_pair=self._pair(document["default_pair"], ("default_pair",))
            )
        if "watched_pairs" in document:
            out = msgspec.structs.replace(out, watched_pairs=self._pairs(document["watched_pairs"]))
        if "refresh_hz" in document:
            out = msgspec.structs.replace(out, refresh_hz=self._refresh(document["refresh_hz"]))
        if "theme" in document:
            out = msgspec.structs.replace(out, theme=self._theme(document["theme"]))
        if "sandbox_ws_url" in document:
            out = msgspec.structs.replace(
                out, sandbox_ws_url=self._ws_url(document["sandbox_ws_url"])
            )
        if "low_bandwidth" in document:
            out = msgspec.structs.replace(
                out, low_bandwidth=self._switch(document["low_bandwidth"], "low_bandwidth")
            )
        guards = dict(out.guards)
        for env in ENVS:
            if env in document:
                guards[env] = self._limits(env, document[env], guards[env])
        self.seen.update(k for k in _APP_KEYS if k in document)
        return msgspec.structs.replace(out, guards=guards, from_file=frozenset(self.seen))

    # -- the app's choices ------------------------------------------------------------------

    def _unknown(self, table: dict[str, Any], at: tuple[str, ...], known: set[str]) -> None:
        for name in table:
            if name not in known:
                expected = ", ".join(sorted(known))
                raise self.fail((*at, name), f"unknown key (expected one of: {expected})")

    def _pair(self, value: object, key: tuple[str, ...]) -> str:
        if not isinstance(value, str):
            raise self.fail(
                key, f'must be a pair\'s symbol in quotes, like "btcusd", not {_shown(value)}'
            )
        if not _PAIR.fullmatch(value):
            raise self.fail(key, f'{value!r} is not a pair\'s symbol (lower case, like "btcusd")')
        return value

    def _pairs(self, value: object) -> tuple[str, ...]:
        key = ("watched_pairs",)
        if not isinstance(value, list):
            raise self.fail(
                key, f'must be a list of pairs, like ["btcusd", "ethusd"], not {_shown(value)}'
            )
        if not 1 <= len(value) <= MAX_WATCHED:
            raise self.fail(key, f"must list 1 to {MAX_WATCHED} pairs, not {len(value)}")
        return tuple(dict.fromkeys(self._pair(item, key) for item in value))

    def _refresh(self, value: object) -> int:
        key = ("refresh_hz",)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(
                key, f"must be a whole number of redraws per second, not {_shown(value)}"
            )
        if not 1 <= value <= MAX_REFRESH_HZ:
            raise self.fail(key, f"must be from 1 to {MAX_REFRESH_HZ}, not {value}")
        return value

    def _theme(self, value: object) -> str:
        if value not in THEMES:
            raise self.fail(("theme",), f'must be "default" or "mono", not {_shown(value)}')
        assert isinstance(value, str)
        return value

    def _switch(self, value: object, name: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail((name,), f"must be true or false, not {_shown(value)}")
        return value

    def _ws_url(self, value: object) -> str:
        key = ("sandbox_ws_url",)
        if not isinstance(value, str):
            raise self.fail(key, f"must be a URL in quotes, not {_shown(value)}")
        parts = urlsplit(value.strip())
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise self.fail(key, f"{value!r} is not a WebSocket URL like wss://host/")
        return value.strip()

    # -- an environment's guards ------------------------------------------------------------

    def _limits(self, env: str, value: object, limits: GuardLimits) -> GuardLimits:
        at = (env,)
        if not isinstance(value, dict):
            raise self.fail(at, f"must be a table ([{env}]), not {_shown(value)}")
        known = {"max_notional", "max_amount", "price_band_bps", "market_slippage_bps", "confirm"}
        self._unknown(value, at, known)
        if "max_notional" in value:
            notional = self._table(
                value["max_notional"],
                (*at, "max_notional"),
                _CURRENCY,
                "a currency code in capitals, like USD",
            )
            limits = replace(limits, max_notional={**limits.max_notional, **notional})
        if "max_amount" in value:
            amounts = self._table(
                value["max_amount"],
                (*at, "max_amount"),
                _PAIR,
                "a pair's symbol in lower case, like btcusd",
            )
            limits = replace(limits, max_amount={**limits.max_amount, **amounts})
        if "price_band_bps" in value:
            band = self._number(
                value["price_band_bps"], (*at, "price_band_bps"), MAX_PRICE_BAND_BPS
            )
            limits = replace(limits, price_band_bps=band)
        if "market_slippage_bps" in value:
            slip = self._number(
                value["market_slippage_bps"], (*at, "market_slippage_bps"), MAX_SLIPPAGE_BPS
            )
            limits = replace(limits, market_slippage_bps=slip)
        if "confirm" in value:
            confirm = value["confirm"]
            if not isinstance(confirm, bool):
                raise self.fail((*at, "confirm"), f"must be true or false, not {_shown(confirm)}")
            if env == "live" and not confirm:
                raise self.fail(
                    (*at, "confirm"), "cannot be false on live: every live order is confirmed"
                )
            limits = replace(limits, confirm=confirm)
            self.seen.add(f"{env}.confirm")
        self.seen.update(
            f"{env}.{k}" for k in ("price_band_bps", "market_slippage_bps") if k in value
        )
        return limits

    def _table(
        self, value: object, at: tuple[str, ...], name: re.Pattern[str], what: str
    ) -> dict[str, Decimal]:
        if not isinstance(value, dict):
            raise self.fail(
                at,
                f"must be a table, like {{ {what.split()[-1]} = 1000 }}, not {_shown(value)}",
            )
        out: dict[str, Decimal] = {}
        for entry, limit in value.items():
            key = (*at, entry)
            if not name.fullmatch(entry):
                raise self.fail(key, f"{entry!r} is not {what}")
            out[entry] = self._number(limit, key, None)
            self.seen.add(".".join(key))
        return out

    def _number(self, value: object, key: tuple[str, ...], most: Decimal | None) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise self.fail(key, f"must be a number, not {_shown(value)}")
        number = Decimal(value)
        if not number.is_finite() or number <= 0:
            raise self.fail(key, f"must be a number above 0, not {value}")
        if most is not None and number > most:
            raise self.fail(key, f"must be at most {most}, not {value}")
        return number


def _shown(value: object) -> str:
    """A value as a message shows it: its TOML type, and the value when short."""
    kinds: dict[type, str] = {
        bool: "a boolean",
        int: "an integer",
        Decimal: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }
    kind = next((name for t, name in kinds.items() if isinstance(value, t)), type(value).__name__)
    text = repr(value) if not isinstance(value, dict | list) else ""
    if isinstance(value, Decimal):
        text = str(value)
    if isinstance(value, bool):
        text = "true" if value else "false"
    return f"{kind} ({text})" if text and len(text) <= 40 else kind
