# CityVitals: `make demo` runs the platform, `make test` runs the checks and tests.
# Each target installs what it needs: system binaries (PostgreSQL, Mosquitto) and the virtualenv.

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The ops console's front-end packages (ECharts, Swagger UI), pinned by package-lock.json.
CONSOLE := gateway/console
CONSOLE_STAMP := $(CONSOLE)/node_modules/.installed-stamp
# Grafana's own unit formatting (@grafana/data, the version deploy/ runs) for the units test.
GRAFANA_UNITS := tests/grafana_dashboards/grafana_units
GRAFANA_UNITS_STAMP := $(GRAFANA_UNITS)/node_modules/.installed-stamp

.PHONY: setup system-deps demo test lint bench clean

setup: system-deps $(STAMP) $(CONSOLE_STAMP) $(GRAFANA_UNITS_STAMP)

system-deps:
	@scripts/system-deps.sh

$(STAMP): pyproject.toml
	@python="$$(scripts/find-python.sh)" && echo "using $$python" && \
		{ [ -x $(BIN)/python ] || "$$python" -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# npm ci installs exactly the lock file; --prefer-offline reuses npm's cache after the first time.
# No install scripts: the packages are served as they come (and swagger-ui-dist's dependency
# @scarf/scarf would report the install to its maker: scarfSettings in package.json says no too).
$(CONSOLE_STAMP): $(CONSOLE)/package.json $(CONSOLE)/package-lock.json
	cd $(CONSOLE) && npm ci --no-audit --no-fund --prefer-offline --ignore-scripts
	@touch $@

# The same way for the units test's package (tests/grafana_dashboards/test_units.py).
$(GRAFANA_UNITS_STAMP): $(GRAFANA_UNITS)/package.json $(GRAFANA_UNITS)/package-lock.json
	cd $(GRAFANA_UNITS) && npm ci --no-audit --no-fund --prefer-offline --ignore-scripts
	@touch $@

demo: setup
	$(BIN)/cityvitals demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_place_names.py
	$(BIN)/cityvitals sensors schema --check
	$(BIN)/cityvitals sensors validate schemas/sensor_types --inventory schemas/inventory/example.yaml
	$(BIN)/cityvitals grafana export --check

# With TimescaleDB installed for the local PostgreSQL, every database test also runs on it.
test: setup lint
	$(BIN)/pytest

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache $(CONSOLE)/node_modules \
		$(GRAFANA_UNITS)/node_modules
