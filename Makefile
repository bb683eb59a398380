# CityVitals: `make demo` runs the platform, `make test` runs the checks and tests.
# Each target installs what it needs: system binaries (PostgreSQL, Mosquitto) and the virtualenv.

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup system-deps demo test test-timescaledb lint bench clean

setup: system-deps $(STAMP)

system-deps:
	@scripts/system-deps.sh

$(STAMP): pyproject.toml
	@python="$$(scripts/find-python.sh)" && echo "using $$python" && \
		{ [ -x $(BIN)/python ] || "$$python" -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

demo: setup
	$(BIN)/cityvitals demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	$(BIN)/cityvitals sensors schema --check
	$(BIN)/cityvitals sensors validate schemas/sensor_types --inventory schemas/inventory/example.yaml
	$(BIN)/cityvitals grafana export --check

test: setup lint
	$(BIN)/pytest
	@if command -v node >/dev/null && command -v npm >/dev/null; then \
		$(MAKE) --no-print-directory test-timescaledb; \
	else \
		echo "Node.js/npm not found: skipped the storage tests on TimescaleDB-in-WASM"; \
	fi

# The storage tests' TimescaleDB variant against TimescaleDB-in-WASM (needs Node.js and npm);
# with a real server, set CITYVITALS_TEST_TIMESCALEDB_URL and run make test instead.
test-timescaledb: $(STAMP)
	cd tests/timescaledb_wasm && npm ci --legacy-peer-deps --no-audit --no-fund
	CITYVITALS_TEST_TIMESCALEDB=wasm $(BIN)/pytest tests/storage tests/grafana_dashboards -m timescaledb
	@# The alert engine's ticks, restarts, silences, escalation and ops actions on TimescaleDB; the
	@# tests that deliver over several pooled connections at once stay out: PGlite serves one
	@# session at a time and stalls on concurrent writers (a real server runs them all).
	CITYVITALS_TEST_TIMESCALEDB=wasm $(BIN)/pytest tests/alerts/test_core.py tests/alerts/test_ops.py \
		-m timescaledb -k "restarted or stuck or silence or escalation or ops"

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
