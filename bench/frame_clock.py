"""A bare WebSocket client in its own process that stamps each frame as it arrives.

``python -m bench.frame_clock WS_URL CHANNEL...`` subscribes to the channels and writes one
line per frame to stdout: ``time.monotonic_ns()`` at receipt, a space, the frame's text. It does
nothing else, so the stamp is not delayed by the measuring process drawing a terminal
(CLOCK_MONOTONIC is one clock for every process on the machine). It exits when stdin closes.
"""

from __future__ import annotations

import json
import sys
import threading
import time

from websockets.sync.client import connect

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    url, channels = args[0], args[1:]
    out = sys.stdout
    with connect(url, max_size=None) as ws:  # deflate on, as the app's client has it
        for channel in channels:
            ws.send(json.dumps({"event": "bts:subscribe", "data": {"channel": channel}}))

        def close_on_eof() -> None:
            sys.stdin.read()
            ws.close()

        threading.Thread(target=close_on_eof, daemon=True).start()
        try:
            for frame in ws:
                stamp = time.monotonic_ns()
                text = frame if isinstance(frame, str) else frame.decode()
                out.write(f"{stamp} {text}\n")
                out.flush()
        except (BrokenPipeError, OSError):
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
