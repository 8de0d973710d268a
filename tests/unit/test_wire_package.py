"""The wire keeps its split: the client package (``workstation.bitstamp``) reads Bitstamp's
payloads, the simulator's half (``workstation.sim.wire``) writes them, and each helper is
defined once. Walks both packages, so a module added later is checked too."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections import defaultdict
from types import ModuleType

#: What a client itself sends on the stream (reference 7.2): the only encoders it needs.
CLIENT_REQUESTS = {
    "workstation.bitstamp.stream_frames.encode_heartbeat",
    "workstation.bitstamp.stream_frames.encode_subscribe",
    "workstation.bitstamp.stream_frames.encode_unsubscribe",
}


def _modules(package: str) -> list[ModuleType]:
    root = importlib.import_module(package)
    names = [info.name for info in pkgutil.walk_packages(root.__path__, f"{package}.")]
    return [root, *(importlib.import_module(name) for name in names)]


def _defined(module: ModuleType) -> list[str]:
    """The public functions and classes ``module`` defines (not those it imports)."""
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__ == module.__name__
    ]


def test_the_client_package_defines_no_simulator_encoder() -> None:
    encoders = {
        f"{module.__name__}.{name}"
        for module in _modules("workstation.bitstamp")
        for name in _defined(module)
        if name.startswith("encode_")
    }
    assert encoders == CLIENT_REQUESTS


def test_no_wire_helper_is_defined_twice() -> None:
    where: defaultdict[str, list[str]] = defaultdict(list)
    for package in ("workstation.bitstamp", "workstation.sim.wire"):
        for module in _modules(package):
            for name in _defined(module):
                where[name].append(module.__name__)
    assert {name: found for name, found in where.items() if len(found) > 1} == {}
