# Two commands matter: `make run` and `make test`. Both set up .venv when it is missing or
# when pyproject.toml changed since the last install.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test soak lint sim bench tty-bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@ $(VENV)/.installed-test $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/workstation

sim: $(VENV)/.installed-run
	$(BIN)/workstation sim

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

# The counts of tests/counts (reconnect cycles, submit timeouts, fuzzed frames and bodies,
# ticket inputs) 25 times over: 5,000 cycles, 12,500 timeouts, 1.25 million frames. About
# half an hour on two cores; the summary line at the end says what ran and how it went.
soak: $(VENV)/.installed-test
	WORKSTATION_COUNTS_FACTOR=25 $(BIN)/python -m pytest tests/counts

# Measurements, not tests: book throughput against ccxt, cryptofeed's C book and a naive
# reference; the UI loop's lag with 10 pairs at --speed 100; then the real app in a pty drawn by
# pyte: frame -> paint at --speed 1 and 100, cold start, CPU and memory. About 4 minutes.
# Figures go to bench.json; the last step prints the README's Performance table.
bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench.book_bench
	$(BIN)/python -m bench.loop_lag
	$(BIN)/python -m bench.frame_to_paint
	$(BIN)/python -m bench.cold_start
	$(BIN)/python -m bench.footprint
	$(BIN)/python -m bench.headline

# Bytes per second the real app writes to its terminal (a pty drawn by pyte): idle (--speed 0)
# and busy (--speed 1 and 10) at 80x24 and 120x40, normal and --low-bandwidth side by side.
# About 3 minutes, so it is apart from `bench`.
tty-bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench.tty_bytes --mode both

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .mypy_cache .import_linter_cache
