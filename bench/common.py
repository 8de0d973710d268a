"""What both bench scripts share: where ``bench.json`` lives, how a section is written to it,
how figures are printed and summarised."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from pathlib import Path
from typing import Any

__all__ = ["BENCH_JSON", "REPO", "machine", "say", "spread", "write_section"]

REPO = Path(__file__).resolve().parent.parent
BENCH_JSON = REPO / "bench.json"


def say(text: str = "") -> None:
    """Print a line (the scripts' output is their purpose; ruff's T20 rule is for libraries)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def machine() -> dict[str, Any]:
    """Enough about the host to read the figures in context: a shared 2-core box is noisy."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_1m": round(load[0], 2) if load else None,
    }


def spread(samples: list[float]) -> float:
    """Half the interquartile range relative to the median, in percent: how noisy a figure is."""
    if len(samples) < 4:
        return 100 * (max(samples) - min(samples)) / 2 / statistics.median(samples)
    q1, _, q3 = statistics.quantiles(samples, n=4)
    return 100 * (q3 - q1) / 2 / statistics.median(samples)


def write_section(name: str, data: dict[str, Any]) -> None:
    """Replace one top-level section of ``bench.json``, keeping what the other script wrote."""
    try:
        current = json.loads(BENCH_JSON.read_text())
        if not isinstance(current, dict):
            current = {}
    except (OSError, ValueError):
        current = {}
    current[name] = data
    BENCH_JSON.write_text(json.dumps(current, indent=2, sort_keys=False) + "\n")
