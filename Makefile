# The commands a newcomer needs: `make up`, `make check` (the fast loop) and
# `make test` (everything CI runs).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# PostgreSQL for the second half of the suite: CI sets it; locally it is used
# when a server answers on 127.0.0.1:5432 (trust auth, database `test`).
PG_LOCAL := postgresql://postgres@127.0.0.1:5432/test
XCISS_TEST_POSTGRES_URL ?= $(shell pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && echo $(PG_LOCAL))
export XCISS_TEST_POSTGRES_URL

.PHONY: up check test test-parallel install lint asyncapi clean browser-deps client-deps axe-deps lock i18n bytecode

# pytest-xdist: WORKERS processes share the tests (the tests wait on servers and
# subprocesses much of the time, so more workers than the two cores). Each
# browser module is one group (its portal and Chromium start once); without
# reordering the groups, the long tests go first (tests/conftest.py).
# `make test` (what CI runs) in two parts: first the fault-injection runs
# (tests/faults: the real processes under faults, a fifth of the machine's
# time each) one at a time, alone on the machine; then everything else on
# TEST_WORKERS workers. With the fault runs among the workers, 4 workers on two
# cores passed once in 24 min and failed the next run under a load of 20-30;
# without them the rest takes 12 min on 3 workers instead of 24 serial.
# Both parts always run; the target fails if either did. `make test-parallel`
# runs all of it on WORKERS workers for whoever has the cores.
WORKERS ?= 4
TEST_WORKERS ?= 3
XDIST   := -n $(WORKERS) --dist loadgroup --no-loadscope-reorder

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,local,otlp]"
	touch $(STAMP)

install: $(STAMP) bytecode

up: $(STAMP) bytecode
	$(BIN)/xciss up

# The project's modules compiled to bytecode once, here, not by every process that
# imports them: where PYTHONDONTWRITEBYTECODE is set (containers, some CI machines)
# Python reads .pyc files but never writes them, and each service process would
# compile its ~200 modules again (0.2 s of CPU a process; `xciss up`'s warm start
# 6.1-6.2 s against 5.4-5.7 s, bench/README.md "Bytecode, and this session's machine"). Only what changed since
# the last run is compiled again.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q services contracts > /dev/null

# The browser tests (tests/browser) drive Debian's Chromium, with a CJK font for
# legible screenshots; installed when missing and apt is usable, otherwise those
# tests skip. Playwright's own browser download is never used.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	  || echo "make: chromium is not installed (no apt or not root): the browser tests will skip"; }
	@fc-list :lang=zh 2>/dev/null | grep -q . || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] \
	  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei \
	  || echo "make: no Chinese font installed: screenshots will show boxes"; }

# The typed TypeScript client's packages (clients/typescript, pinned in its
# package-lock.json): tests/integration/gateway/test_typescript_client.py
# generates its types from the combined OpenAPI document and type-checks it.
CLIENT := clients/typescript
$(CLIENT)/node_modules/.installed: $(CLIENT)/package-lock.json
	npm ci --prefix $(CLIENT) --no-audit --no-fund --loglevel=error
	touch $@

client-deps: $(CLIENT)/node_modules/.installed

# axe-core, the accessibility engine tests/browser/test_portal_accessibility.py
# injects into every portal page (pinned in tests/browser/package-lock.json).
AXE := tests/browser
$(AXE)/node_modules/.installed: $(AXE)/package-lock.json
	npm ci --prefix $(AXE) --no-audit --no-fund --loglevel=error
	touch $@

axe-deps: $(AXE)/node_modules/.installed

# The event document is current and the import contracts hold.
lint: $(STAMP) bytecode
	$(BIN)/xciss asyncapi --check
	$(BIN)/lint-imports

# The fast loop: lint, the unit tests and the integration tests not marked `slow`,
# on SQLite; `make test` runs them on PostgreSQL too (CHECK_MARKS="not slow": both here).
CHECK_MARKS ?= not slow and not postgres
check: lint client-deps
	$(BIN)/pytest $(XDIST) -m "$(CHECK_MARKS)" tests/unit tests/integration $(PYTEST_ARGS)

test: lint browser-deps client-deps axe-deps
	@set +e; \
	$(BIN)/pytest -m faults --durations=10 $(PYTEST_ARGS); faults=$$?; \
	$(BIN)/pytest -m "not faults" -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder --durations=30 $(PYTEST_ARGS); rest=$$?; \
	echo "make test: fault runs exit $$faults, the rest exit $$rest"; \
	[ $$faults -eq 0 ] && [ $$rest -eq 0 ]

test-parallel: lint browser-deps client-deps axe-deps
	$(BIN)/pytest $(XDIST) $(PYTEST_ARGS)

asyncapi: $(STAMP)
	$(BIN)/xciss asyncapi

clean:
	rm -rf $(VENV) .xciss .pytest_cache $(CLIENT)/node_modules $(AXE)/node_modules

# The production image's dependencies, pinned with their sha256 hashes
# (deploy/requirements.lock, read by deploy/Containerfile): run after changing the
# dependencies in pyproject.toml; tests/deploy/test_containerfile.py checks it is current.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet "uv>=0.9"
	$(BIN)/uv pip compile pyproject.toml --extra otlp --generate-hashes --universal \
	  --python-version 3.11 --no-header -o deploy/requirements.lock

# The portal's strings (docs/portal.md, "Language"): extract the keys the templates and
# code use (babel.cfg), keep the computed keys and the Chinese comments
# (tools/i18n_catalogues.py), and merge into both catalogues; then fill in the new
# entries' msgstr in locale/zh and locale/en (tests/unit/test_portal_catalogues.py).
PORTAL := services/gateway/portal
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k t -k translate --no-location --sort-output \
	  -o $(PORTAL)/locale/messages.pot $(PORTAL)
	$(BIN)/python tools/i18n_catalogues.py
	$(BIN)/pybabel update -i $(PORTAL)/locale/messages.pot -d $(PORTAL)/locale --no-fuzzy-matching
