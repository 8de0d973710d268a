"""``make bench``: book throughput against ccxt, cryptofeed's C book and a naive reference, the
UI event loop's lag while ten pairs stream, and the real app watched from outside in a
pseudo-terminal (frame to paint, cold start, CPU and memory). Measurements, not tests: only
their smoke test runs under pytest, and the figures land in ``bench.json`` at the repository
root (``bench.headline`` gathers them)."""
