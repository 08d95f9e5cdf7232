# The README's two commands are `make run` and `make test`; everything else is a helper.
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/.venv
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.PHONY: setup run demo test screenshots lint format bench bench-scale clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	touch $@

setup: .venv/.synced

run: setup
	.venv/bin/dermis serve --demo

# Tests run in parallel (pytest-xdist), one database per worker; JOBS=1 runs them in one process.
JOBS ?= auto

test: setup browser-deps
	.venv/bin/pytest -n $(JOBS) $(PYTEST_ARGS)

# The browser tests again, writing the screenshots the documentation shows into docs/screenshots/.
screenshots: setup browser-deps
	DERMIS_DOC_SCREENSHOTS=1 .venv/bin/pytest -n $(JOBS) tests/browser

# --- Real-browser tests (tests/browser): Debian's Chromium, and axe-core pinned in package-lock.json.
# Playwright's own browser download cannot work on a closed network, so the tests drive Debian's
# build. Both steps do nothing once done, so CI's second `make test` (PostgreSQL) pays nothing.
CHROMIUM := /usr/bin/chromium
NPM_STAMP := node_modules/.npm-ci.stamp
APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends

.PHONY: browser-deps test-fast

# Everything except the real-browser tests, for a quick edit-test loop; CI runs `make test`.
test-fast: setup
	.venv/bin/pytest -n $(JOBS) -m "not browser and not slow" $(PYTEST_ARGS)

browser-deps: $(CHROMIUM) $(NPM_STAMP)

# Install the Debian package $(1), refreshing the package lists only when the first try fails.
define apt_install
	@if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
	  echo "make: the browser tests need Debian's '$(1)' package, and only root can install it" \
	    "with apt-get. Run 'apt-get install --no-install-recommends $(1)' as root (or install" \
	    "it with your system's package manager), then run make again." >&2; \
	  exit 1; \
	fi
	@echo "== installing Debian's $(1) for the browser tests"
	$(APT_INSTALL) $(1) 2>/dev/null \
	  || { echo "== refreshing Debian's package lists"; apt-get update -qq && $(APT_INSTALL) $(1); }
endef

$(CHROMIUM):
	$(call apt_install,chromium)
	@test -x $@ || { echo "make: Debian's chromium package did not provide $@" >&2; exit 1; }

# `npm ci` empties node_modules/ first, so a stamp inside it marks a finished install.
$(NPM_STAMP): package.json package-lock.json
	$(if $(shell command -v npm),,$(call apt_install,npm))
	npm ci --no-audit --no-fund
	touch $@

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: setup
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

# The benchmarks live outside the package (benchmarks/); each prints a table against a baseline
# measured in the same run.
bench: setup
	.venv/bin/python benchmarks/bench_outcome.py
	.venv/bin/python benchmarks/bench_slots.py
	.venv/bin/python benchmarks/bench_diary.py
	.venv/bin/python benchmarks/bench_cli.py

# A clinic group on PostgreSQL served by gunicorn (DATABASE_URL names the server; the benchmark
# makes its own database). SCALE=0.1 for a tenth of the group.
SCALE ?= 1
bench-scale: setup
	.venv/bin/python benchmarks/scale.py --scale $(SCALE) $(BENCH_ARGS)

clean:
	rm -rf .venv .tools
