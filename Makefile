# CloudCore CRM — two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# `make run PORT=8010` serves on another port; printed logins and email links follow it.
PORT ?= 8000
export PORT

.PHONY: run test install lint format bench clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

## make run [PORT=8000]: install, migrate the embedded SQLite database, load the demo world, serve.
run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_demo_tickets
	$(PY) manage.py seed_demo_pipeline
	$(PY) manage.py seed_demo_orders
	$(PY) manage.py seed_demo_billing
	$(PY) manage.py seed_demo_renewals
	$(PY) manage.py snapshot_month --last 13
	@$(PY) manage.py demo_logins
	DJANGO_DEBUG=1 $(PY) manage.py runserver 127.0.0.1:$(PORT)

## make test: install and run the whole suite (PostgreSQL when DATABASE_URL is set).
test: $(STAMP)
	$(PY) -m pytest -q -n auto

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
