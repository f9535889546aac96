# Two commands on a fresh machine: `make demo` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SAMPLES := tests/fixtures/zipkin/zipkin-lens__testdata__messaging-kafka.json \
           tests/fixtures/zipkin/zipkin-lens__testdata__smartthings-oauth-authorization.json \
           tests/fixtures/jaeger/internal__storage__v2__memory__fixtures__otel_traces_01.json

.PHONY: setup system-deps node-deps demo test lint format bench clean

$(STAMP): pyproject.toml setup.py $(wildcard src/spanscope/formats/_otlp_native_src/*) \
	  $(wildcard src/spanscope/analysis/_profile_native_src/*)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Debian's Chromium for the page tests (no browser downloads: Playwright drives this one), and
# the fonts whose widths the SVG labels are fitted by (tests/viz/test_textwidth.py checks the
# width tables against them; the label tests draw CJK and emoji names).
SYSTEM_PACKAGES := chromium fonts-dejavu-core fonts-liberation fonts-noto-cjk fonts-noto-color-emoji
system-deps:
	@missing=$$(for package in $(SYSTEM_PACKAGES); do \
	  dpkg -s $$package >/dev/null 2>&1 || echo $$package; done); \
	[ -z "$$missing" ] || { \
	  echo "installing Debian's" $$missing "for the page tests"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; }

# Node.js and the packages of the interop tests (OpenTelemetry JS and zipkin-js as real clients,
# tests/interop/): Debian's nodejs and npm only when node or npm is missing; the packages the
# lock file pins, again whenever the lock file is newer than the installed set.
NODE_DIR := tests/interop/node
NODE_STAMP := $(NODE_DIR)/node_modules/.installed-stamp
node-deps: $(NODE_STAMP)
# (after system-deps: under make -j, two apt-get runs would fight over dpkg's lock)
$(NODE_STAMP): $(NODE_DIR)/package-lock.json | system-deps
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { \
	  echo "installing Debian's nodejs npm for the interop tests"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	npm ci --prefix $(NODE_DIR) --engine-strict --no-audit --no-fund --loglevel=error
	touch $@

DEMO := demo-output

# The main job end to end: synthetic shop traces with known problems -> report, waterfall page,
# critical-path flame graph and service map; the report on real third-party traces; then the
# live example (instrumented services -> spanscope serve -> report) and the instrumentation check.
demo: $(STAMP)
	@mkdir -p $(DEMO)
	$(BIN)/spanscope generate --traces 3000 -o $(DEMO)/shop.jsonl
	$(BIN)/spanscope analyze $(DEMO)/shop.jsonl --top 5
	$(BIN)/spanscope view $(DEMO)/shop.jsonl -o $(DEMO)/shop.html
	$(BIN)/spanscope flamegraph $(DEMO)/shop.jsonl --aggregate \
	  --endpoint 'frontend:POST /api/checkout' -o $(DEMO)/checkout-flamegraph.svg
	$(BIN)/spanscope servicemap $(DEMO)/shop.jsonl -o $(DEMO)/servicemap.html
	$(BIN)/spanscope sample $(DEMO)/shop.jsonl -p errors -p 'latency>=300ms' -p probability=5% \
	  -o $(DEMO)/shop-sampled.jsonl
	@echo "== the next release of the shop: what got slower, and where the time went"
	$(BIN)/spanscope generate --traces 3000 --seed 7 --next-release -o $(DEMO)/shop-next.jsonl
	$(BIN)/spanscope diff $(DEMO)/shop.jsonl $(DEMO)/shop-next.jsonl --top 3
	$(BIN)/spanscope info $(SAMPLES)
	$(BIN)/spanscope analyze $(SAMPLES) --top 5
	@echo
	@echo "== live: four instrumented services send OTLP to spanscope serve for 10 s"
	$(BIN)/python -m examples.shop --output-dir $(DEMO)/shop --duration 10
	@echo
	@echo "== how well are they instrumented? (the live example and the third-party samples)"
	$(BIN)/spanscope lint $(DEMO)/shop/traces.otlp.jsonl $(SAMPLES) --fail-on never
	@echo
	@echo "Open in a browser: $(DEMO)/shop.html  $(DEMO)/checkout-flamegraph.svg  $(DEMO)/servicemap.html"

# The live example: spanscope serve + four instrumented services + traffic, then the report.
# More: make example EXAMPLE_ARGS='--duration 60 --keep-running'
.PHONY: example
example: $(STAMP)
	$(BIN)/python -m examples.shop --output-dir $(DEMO)/shop $(EXAMPLE_ARGS)

test: $(STAMP) system-deps node-deps
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy
	$(BIN)/pytest -q -n 2

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks examples
	$(BIN)/ruff check --fix src tests benchmarks examples

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
