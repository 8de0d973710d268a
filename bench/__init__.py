"""``make bench``: book throughput against ccxt, cryptofeed's C book and a naive reference, and
the UI event loop's lag while ten pairs stream. Measurements, not tests: nothing here runs
under pytest, and the figures land in ``bench.json`` at the repository root."""
