"""Venues: the URLs of each environment, and the journal scope that keeps their orders apart."""

from __future__ import annotations

import pytest

from workstation.bitstamp.secret import Secret
from workstation.services.venue import (
    BITSTAMP_HOSTS,
    Venue,
    VenueError,
    attached_sim_venue,
    bitstamp_venue,
)

KEY = "AbCdEf0123456789AbCdEf0123456789"
SECRET = "s3cr3tS3CR3Ts3cr3tS3CR3Ts3cr3t99"


def test_live_and_sandbox_are_bitstamps_hosts_and_one_scope_each() -> None:
    live = bitstamp_venue("live", Secret(KEY), Secret(SECRET))
    sandbox = bitstamp_venue("sandbox", Secret(KEY), Secret(SECRET))
    assert (live.env, live.rest_url, live.ws_url, live.journal_env) == (
        "live",
        "https://www.bitstamp.net",
        "wss://ws.bitstamp.net/",
        "live",
    )
    assert (sandbox.env, sandbox.rest_url, sandbox.journal_env) == (
        "sandbox",
        "https://sandbox.bitstamp.net",
        "sandbox",
    )
    # The reference names no sandbox WebSocket (section 1): public data from the live stream
    # (and live's REST book, so snapshots and diffs are one exchange's), orders over REST.
    assert BITSTAMP_HOSTS["sandbox"].ws_url is None
    assert sandbox.ws_url == BITSTAMP_HOSTS["live"].ws_url == live.ws_url
    assert sandbox.market_data_from == "https://www.bitstamp.net"
    assert (sandbox.orders_stream, live.orders_stream) == (False, True)
    assert live.market_data_from == live.rest_url
    assert (live.label, sandbox.label) == ("LIVE", "SANDBOX")
    for venue in (live, sandbox):
        assert SECRET not in repr(venue)
        assert KEY not in repr(venue)
    with pytest.raises(VenueError, match="sandbox and live"):
        bitstamp_venue("sim", Secret(KEY), Secret(SECRET))


def test_without_keys_a_bitstamp_venue_is_watched_not_traded() -> None:
    for env in ("live", "sandbox"):
        venue = bitstamp_venue(env)
        assert not venue.has_credentials
        assert (venue.api_key, venue.api_secret) == (None, None)
        assert venue.rest_url == BITSTAMP_HOSTS[env].rest_url


def test_a_sandbox_websocket_given_carries_sandboxs_whole_stream() -> None:
    venue = bitstamp_venue(
        "sandbox", Secret(KEY), Secret(SECRET), sandbox_ws_url="wss://ws.sandbox.example/"
    )
    assert (venue.ws_url, venue.orders_stream) == ("wss://ws.sandbox.example/", True)
    assert venue.market_data_from == "https://sandbox.bitstamp.net"
    local = bitstamp_venue("sandbox", sandbox_ws_url="ws://127.0.0.1:9001/")
    assert local.ws_url == "ws://127.0.0.1:9001/"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("wss://ws.bitstamp.net/", "live's stream"),
        ("wss://WS.Bitstamp.net:443", "live's stream"),
        ("ws://ws.sandbox.example/", "in clear"),
        ("https://ws.sandbox.example/", "not a WebSocket URL"),
        ("wss://", "not a WebSocket URL"),
        ("wss://h:port/", "not a number"),
    ],
)
def test_a_sandbox_websocket_that_would_leak_its_token_is_refused(url: str, message: str) -> None:
    with pytest.raises(VenueError, match=message):
        bitstamp_venue("sandbox", Secret(KEY), Secret(SECRET), sandbox_ws_url=url)


def test_a_sandbox_websocket_is_for_sandbox_only() -> None:
    with pytest.raises(VenueError, match="--env sandbox"):
        bitstamp_venue(
            "live", Secret(KEY), Secret(SECRET), sandbox_ws_url="wss://ws.sandbox.example/"
        )


@pytest.mark.parametrize(
    ("url", "rest", "ws", "scope"),
    [
        (
            "http://127.0.0.1:8765/",
            "http://127.0.0.1:8765",
            "ws://127.0.0.1:8765/",
            "sim@127.0.0.1:8765",
        ),
        (
            "http://LocalHost:9000",
            "http://LocalHost:9000",
            "ws://LocalHost:9000/",
            "sim@localhost:9000",
        ),
        ("https://sim.example", "https://sim.example", "wss://sim.example/", "sim@sim.example:443"),
        ("http://sim.example", "http://sim.example", "ws://sim.example/", "sim@sim.example:80"),
        ("http://[::1]:8765", "http://[::1]:8765", "ws://[::1]:8765/", "sim@[::1]:8765"),
    ],
)
def test_an_attached_simulator_is_scoped_by_its_address(
    url: str, rest: str, ws: str, scope: str
) -> None:
    venue = attached_sim_venue(url, "demokey", "demosecret", allow_remote=True)
    assert (venue.env, venue.rest_url, venue.ws_url, venue.journal_env) == ("sim", rest, ws, scope)
    assert (venue.api_key, venue.api_secret) == (Secret("demokey"), Secret("demosecret"))


def test_a_venue_built_by_hand_for_a_simulator_gets_the_same_scope() -> None:
    venue = Venue(
        "sim", "http://127.0.0.1:8765", "ws://127.0.0.1:8765/", Secret(KEY), Secret(SECRET)
    )
    assert venue.journal_env == "sim@127.0.0.1:8765"
    assert venue.journal_env == attached_sim_venue("http://127.0.0.1:8765", None, None).journal_env


@pytest.mark.parametrize(
    "url", ["127.0.0.1:8765", "ftp://127.0.0.1:8765", "http://", "http://h:port", "http://h/?a=1"]
)
def test_not_a_simulator_url(url: str) -> None:
    with pytest.raises(VenueError):
        attached_sim_venue(url, None, None)


def test_the_embedded_simulator_is_scoped_by_its_run() -> None:
    one = Venue("sim", "http://127.0.0.1:40001", "ws://127.0.0.1:40001/", embedded_run="0123abcd")
    two = Venue("sim", "http://127.0.0.1:40001", "ws://127.0.0.1:40001/", embedded_run="89ef4567")
    assert one.journal_env == "sim@embedded-0123abcd"
    assert two.journal_env == "sim@embedded-89ef4567"
    assert one.env == two.env == "sim"  # the badge stays "sim"
    for bad in ("0123ABCD", "0123abc", "0123abcde", "0123abcg"):
        with pytest.raises(ValueError, match="8 lowercase hex"):
            Venue("sim", "http://127.0.0.1:1", "ws://127.0.0.1:1/", embedded_run=bad)


# --- issue 12 item 11: the venue that is named is the venue that is used ----------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://www.bitstamp.net",
        "https://sandbox.bitstamp.net/",
        "http://WWW.Bitstamp.NET:80",
        "https://bitstamp.net",
        "https://api.bitstamp.net:443",
    ],
)
def test_a_bitstamp_host_is_never_a_simulator(url: str) -> None:
    """A SIM badge (no confirm on ``--no-confirm``, a sim journal scope) on Bitstamp's own
    hosts would trade real money under the wrong rules: refused, even when remote is allowed."""
    for allow_remote in (False, True):
        with pytest.raises(VenueError, match="Bitstamp"):
            attached_sim_venue(url, KEY, SECRET, allow_remote=allow_remote)
    with pytest.raises(ValueError, match="Bitstamp"):
        Venue("sim", url, "wss://ws.bitstamp.net/", Secret(KEY), Secret(SECRET))


@pytest.mark.parametrize(
    "url", ["http://sim.example:8765", "http://10.0.0.5:8765", "https://192.168.1.20"]
)
def test_a_remote_simulator_needs_the_explicit_flag(url: str) -> None:
    with pytest.raises(VenueError, match="--allow-remote-sim"):
        attached_sim_venue(url, KEY, SECRET)
    venue = attached_sim_venue(url, KEY, SECRET, allow_remote=True)
    assert venue.env == "sim"
    assert venue.journal_env.startswith("sim@")


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8765", "http://localhost:8765", "http://[::1]:8765", "http://127.9.9.9"],
)
def test_loopback_simulators_need_no_flag(url: str) -> None:
    assert attached_sim_venue(url, KEY, SECRET).env == "sim"


def test_key_material_given_as_text_is_refused_at_once() -> None:
    """A plain string would only fail later, inside the signer, as a stalled start."""
    with pytest.raises(TypeError, match="held as Secret"):
        Venue("sim", "http://127.0.0.1:1", "ws://127.0.0.1:1/", KEY, Secret(SECRET))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="held as Secret"):
        bitstamp_venue("live", Secret(KEY), SECRET)  # type: ignore[arg-type]
