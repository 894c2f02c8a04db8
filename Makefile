# 青创城 platform. `make run` serves it with demo data; `make test` passes the whole suite.
# Both set up everything they need on a fresh machine (virtualenv, Python packages, SeaweedFS,
# Chromium and CJK fonts through apt-get, a running PostgreSQL).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_ARGS ?=
export FLASK_APP := wsgi

.PHONY: help install run test test-postgres test-sqlite system-deps postgres translations translations-update bench-deps \
        translations-check migrate-check bench clean

help:
	@echo "make run    - set up and serve the platform with demo data on http://127.0.0.1:5000"
	@echo "make test   - set up and run the whole suite on PostgreSQL and on SQLite"

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed translations

translations: $(VENV)/.installed
	$(BIN)/flask i18n compile

translations-update: $(VENV)/.installed
	$(BIN)/flask i18n update

translations-check: $(VENV)/.installed
	$(BIN)/flask i18n check

# Chromium and CJK fonts for the browser tests; only installed when missing.
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
	  echo "installing chromium and fonts-noto-cjk"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk; \
	fi

# The local PostgreSQL cluster: start it if it is installed but down.
postgres:
	@if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then \
	  echo "starting PostgreSQL"; \
	  $(SUDO) pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | sort -V | tail -n 1) main start; \
	  for i in $$(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done; \
	fi
	@pg_isready -h 127.0.0.1 -p 5432

run: install
	$(BIN)/flask dev

test: install system-deps postgres
	$(MAKE) test-postgres
	$(MAKE) test-sqlite

test-postgres:
	TEST_BACKEND=postgresql $(BIN)/python -m pytest $(PYTEST_ARGS)

test-sqlite:
	TEST_BACKEND=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks need wrk (Debian package) as the HTTP load generator; figures go in docs/benchmarks.md.
bench-deps: install postgres
	@command -v wrk >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk; }

bench: bench-deps
	@echo "Each benchmark prints its figures; see docs/benchmarks.md for the commands, e.g.:"
	@echo "  $(BIN)/python -m bench.bench_assign --preset 10k --baseline"

clean:
	rm -rf $(VENV) test-output .pytest_cache
