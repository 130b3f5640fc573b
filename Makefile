# The two commands a newcomer needs: `make up` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# PostgreSQL for the second half of the suite: CI sets it; locally it is used
# when a server answers on 127.0.0.1:5432 (trust auth, database `test`).
PG_LOCAL := postgresql://postgres@127.0.0.1:5432/test
XCISS_TEST_POSTGRES_URL ?= $(shell pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && echo $(PG_LOCAL))
export XCISS_TEST_POSTGRES_URL

.PHONY: up test install lint asyncapi clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

up: $(STAMP)
	$(BIN)/xciss up

test: $(STAMP)
	$(BIN)/xciss asyncapi --check
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_ARGS)

asyncapi: $(STAMP)
	$(BIN)/xciss asyncapi

clean:
	rm -rf $(VENV) .xciss .pytest_cache
