# Jiangxin — the two commands a newcomer needs are `make run` and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
DEV    := JIANGXIN_ENV=development
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install run test test-pg lint format bench loadtest examload translations extract clean

install: $(VENV)/.installed translations

$(VENV)/.installed: setup.cfg pyproject.toml
	test -d $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

translations: $(VENV)/.installed
	$(VENV)/bin/pybabel -q compile -f -d comp/translations

extract: $(VENV)/.installed
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k _l -k _p:1c,2 --project Jiangxin -o comp/translations/messages.pot .
	$(VENV)/bin/pybabel -q update -i comp/translations/messages.pot -d comp/translations

# The job worker (certificate batches) runs beside the web server and stops with it.
run: install
	$(DEV) $(FLASK) db upgrade
	$(DEV) $(FLASK) demo --if-empty
	$(DEV) $(FLASK) jobs worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT; trap 'exit 130' INT TERM; \
	$(DEV) $(FLASK) run --host 127.0.0.1 --port 5000

test: install
	$(PY) -m pytest

test-pg: install
	TEST_DATABASE_URL=$(PG_URL) $(PY) -m pytest

# ruff (lint, import order, format) and mypy (all of comp/, strict on comp/scoring).
lint: install
	$(VENV)/bin/ruff check comp tests bench wsgi.py
	$(VENV)/bin/ruff format --check comp tests bench wsgi.py
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix comp tests bench wsgi.py
	$(VENV)/bin/ruff format comp tests bench wsgi.py

bench: install
	$(PY) -m bench

# The judging day under load: judges and hall screens against gunicorn on PostgreSQL, a worker killed
# mid-run, the acknowledged saves checked against the database, the bare floor beside it (≤ 3 min).
# PostgreSQL at LOADTEST_PG (default postgresql+psycopg://postgres@127.0.0.1:5432); REDIS_URL is passed on.
loadtest: install
	$(PY) -m bench.loadtest $(LOADTEST_ARGS)

# The theory exam day under load: 2,000 phones saving answers against gunicorn on PostgreSQL, a worker
# killed mid-run, every acknowledged answer checked against exam_answer, the bare upsert floor beside
# it, the candidates one machine holds (≤ 3 min). PostgreSQL at LOADTEST_PG; e.g. EXAMLOAD_ARGS="-n 500".
examload: install
	$(PY) -m bench.examload $(EXAMLOAD_ARGS)

clean:
	rm -rf $(VENV) instance/*.db .pytest_cache .coverage
