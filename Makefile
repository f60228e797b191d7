# Switchboard — the two commands a new machine needs are `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

.PHONY: install run test lint bench clean schema

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Switchboard needs Python 3.11; set PYTHON=/path/to/python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

install: $(VENV)/.installed

# Set up, migrate, load the demo, then serve web + Celery worker (with beat) until Ctrl-C.
run: export DEBUG ?= 1
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	PORT=$(PORT) bin/run-demo

# The whole suite. DATABASE_URL / REDIS_URL (as .ci/run sets them) add the PostgreSQL,
# Redis and worker tests; without them those skip, saying why. Parallel on one process per
# core (pytest-xdist; each has its own test database and Redis database, tests/conftest.py);
# TEST_WORKERS=0 runs it in one process (a debugger, --pdb), TEST_WORKERS=4 on four.
TEST_WORKERS ?= auto
test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# The public API's OpenAPI schema, generated from the code and committed (tests/api/test_schema.py
# fails when they differ).
schema: install
	DJANGO_SETTINGS_MODULE=config.settings_test $(BIN)/python manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# bench/requirements.txt: the profiler (bench only). bench_webhook loads gunicorn with wrk
# (apt-get install wrk); without it that benchmark says so and skips its load steps.
bench: install
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	@command -v wrk >/dev/null || echo "wrk is not installed (apt-get install wrk): bench_webhook skips its load steps."
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var
