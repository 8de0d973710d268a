"""The ``workstation`` command's first step: on the default start, the simulator goes first.

``workstation`` with no venue option trades on the embedded simulator, a child process that
takes ~0.5 s of CPU to start (Python, aiohttp, a seeded book for every market). The command
line itself spends ~0.1 s importing and checking before it has decided on a venue; when the
arguments alone already say it will be the embedded simulator (:func:`default_start`), the
child is started here, before any of that, so its start overlaps it too (measured side by
side: the first painted book ~0.1 s sooner, docs/decisions.md). ``cli.main`` still decides
everything as always and hands the child to the app, or ends it.
"""

from __future__ import annotations

import contextlib
import sys

from .services.sim_process import SimProcess

__all__ = ["default_start", "main"]


def default_start(argv: list[str]) -> tuple[bool, int | None]:
    """Whether ``argv`` is the plain start on the embedded simulator (nothing, or
    ``--seed N``), and its seed (None: none given). Deliberately narrow: any other argument
    (a subcommand, ``--env``, ``--sim-url``, a typo) goes the usual way, where only the full
    parser can say what it means."""
    if not argv:
        return True, None
    if len(argv) == 1 and argv[0].startswith("--seed="):
        text = argv[0].removeprefix("--seed=")
    elif len(argv) == 2 and argv[0] == "--seed":
        text = argv[1]
    else:
        return False, None
    try:
        return True, int(text)  # as argparse's type=int reads it
    except ValueError:
        return False, None  # the parser says what is wrong with it


def main(argv: list[str] | None = None) -> int:
    """``workstation ARGV...``: :func:`workstation.cli.main`, with the simulator started
    first on the default start. The app ends a child it used; one it never used (a refusal,
    a bad option) is killed here: it has done nothing yet."""
    argv = sys.argv[1:] if argv is None else argv
    plain, seed = default_start(argv)
    sim: SimProcess | None = None
    if plain:
        # a process that cannot be started here (no fork, no memory) is only a head start
        # lost: the app starts its own and shows and logs what goes wrong there
        with contextlib.suppress(OSError):
            sim = SimProcess(seed)
    try:
        from .cli import main as cli_main

        return cli_main(argv, sim=sim)
    finally:
        if sim is not None:
            sim.discard()  # the app has ended it if it used it
