"""The import contracts bite: a forbidden import planted in a copy of the package breaks
exactly the contract that forbids it, and every contract has a plant that breaks it.

Each case copies ``workstation/`` and ``pyproject.toml`` to a temp folder, adds one module
holding one import, and runs the real ``lint-imports`` on the copy (about 0.3 s a run)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

DOMAIN_PURE = "domain is pure: it imports no other layer"
WIRE_ONLY_DOMAIN = "bitstamp (the wire) imports only domain"
SERVICES_LAYER = "services never import ui or sim"
UI_LAYER = "ui never imports bitstamp or sim"
SIM_LAYER = "sim never imports services or ui"
DOMAIN_NO_IO = "domain does no I/O (no network, storage, UI or event-loop library)"
TEXTUAL_IN_UI = "textual and rich (the terminal UI) only in ui"
NETWORK_IN_WIRE = "httpx and websockets (the client's network) only in bitstamp"
AIOHTTP_IN_SIM = "aiohttp (the simulator's server) only in sim"
SERVE_IN_BROWSER_SERVER = "textual-serve (the app in a browser) only in browser_server"
UI_FACADE = "ui talks to the services facade only (its views, events and refusals)"

# (where the planted module goes, what it imports, the contracts it must break)
PLANTS = [
    ("services", "import textual", {TEXTUAL_IN_UI}),
    ("bitstamp", "from rich.text import Text", {TEXTUAL_IN_UI}),
    ("", "import rich", {TEXTUAL_IN_UI}),  # a module beside the layers (where cli.py is)
    ("domain", "import httpx", {DOMAIN_NO_IO, NETWORK_IN_WIRE}),
    ("domain", "import sqlite3", {DOMAIN_NO_IO}),
    ("domain", "import asyncio", {DOMAIN_NO_IO}),
    ("domain", "import workstation.services", {DOMAIN_PURE}),
    # the I/O contract follows chains: paths reads files (pathlib)
    ("domain", "import workstation.paths", {DOMAIN_PURE, DOMAIN_NO_IO}),
    ("bitstamp", "import workstation.paths", {WIRE_ONLY_DOMAIN}),
    ("bitstamp", "import workstation.services", {WIRE_ONLY_DOMAIN}),
    ("services", "import aiohttp", {AIOHTTP_IN_SIM}),
    ("ui", "import textual_serve", {SERVE_IN_BROWSER_SERVER}),
    ("", "from aiohttp import web", {AIOHTTP_IN_SIM}),  # beside browser_server, not in it
    ("services", "import workstation.ui", {SERVICES_LAYER}),
    ("ui", "import websockets", {NETWORK_IN_WIRE}),
    ("ui", "import workstation.bitstamp", {UI_LAYER}),
    ("ui", "from workstation.services.hub import MarketHub", {UI_FACADE}),
    ("ui", "import workstation.services.trading", {UI_FACADE}),
    ("ui", "from workstation.services.reconciler import ReconcilePolicy", {UI_FACADE}),
    ("ui", "from workstation.services.venue import Venue", {UI_FACADE}),
    ("sim", "import httpx", {NETWORK_IN_WIRE}),
    ("sim", "import workstation.services", {SIM_LAYER}),
]


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(
        REPO / "workstation",
        tmp_path / "workstation",
        ignore=shutil.ignore_patterns("__pycache__", "_styles"),
    )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint_imports(root: Path) -> tuple[int, str]:
    """Run lint-imports on the copy at ``root``; its return code and report."""
    assert LINT_IMPORTS.exists(), f"{LINT_IMPORTS} is missing: pip install -e '.[test]'"
    env = {
        **os.environ,
        "PYTHONPATH": str(root),  # the copy, never the package this test runs from
        "COLUMNS": "200",  # contract names on one line each
    }
    done = subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--no-logo", "pyproject.toml"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def _broken(report: str) -> set[str]:
    """The names of the broken contracts (a contract with ignores says how many after it)."""
    broken = r"^(.+?) BROKEN(?: \(\d+ ignored imports?\))?$"
    return set(re.findall(broken, report, flags=re.MULTILINE))


def test_the_package_as_it_is_keeps_every_contract(tmp_path: Path) -> None:
    code, report = _lint_imports(_copy(tmp_path))
    assert code == 0, report
    assert _broken(report) == set()
    assert re.search(r"^Contracts: \d+ kept, 0 broken\.$", report, flags=re.MULTILINE), report


@pytest.mark.parametrize(
    ("layer", "statement", "contracts"),
    PLANTS,
    ids=[f"{layer or 'top'}: {statement}" for layer, statement, _ in PLANTS],
)
def test_a_planted_import_breaks_its_contract(
    tmp_path: Path, layer: str, statement: str, contracts: set[str]
) -> None:
    root = _copy(tmp_path)
    planted = root.joinpath("workstation", layer, "planted.py")
    planted.write_text(f'"""Planted by the contract test."""\n\n{statement}\n', encoding="utf-8")
    module = ".".join(["workstation", layer, "planted"] if layer else ["workstation", "planted"])

    code, report = _lint_imports(root)

    assert code != 0, report
    assert _broken(report) == contracts, report
    assert module in report  # the report names the copy's planted module, so the copy was read


def test_every_contract_has_a_plant_that_breaks_it() -> None:
    """A new contract needs a case above; a removed one fails its cases."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    names = {c["name"] for c in config["tool"]["importlinter"]["contracts"]}
    assert names == set().union(*(contracts for _, _, contracts in PLANTS))
