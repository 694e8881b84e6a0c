# Two commands: `make run` (the product with demo data, on SQLite) and `make test`.
PY := .venv/bin/python
FLASK := .venv/bin/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run serve test venv db bench clean

.venv/.installed: requirements.txt requirements-nodeps.txt pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -r requirements-nodeps.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

venv: .venv/.installed

# ENV=development: the session cookie works over plain http://127.0.0.1, and a SECRET_KEY is
# generated once into instance/ (never committed). Outside development set SECRET_KEY.
db: venv
	ENV=development $(FLASK) init-db
	ENV=development $(FLASK) demo seed

# The reminder scheduler runs beside the web server as its own process (never inside a web
# worker: reminders/scheduler.py); stopping the server (Ctrl-C) stops it too.
run: db
	ENV=development $(FLASK) reminders run & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null; wait $$scheduler 2>/dev/null' EXIT INT TERM; \
	ENV=development $(FLASK) run --host $(HOST) --port $(PORT)

# Serving for a province (README): gunicorn with several workers behind any reverse proxy,
# plus the one scheduler process. Needs SECRET_KEY, and DATABASE_URL for PostgreSQL.
WORKERS ?= 4
BIND ?= 127.0.0.1:8000
serve: venv
	$(FLASK) init-db
	$(FLASK) reminders run & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null; wait $$scheduler 2>/dev/null' EXIT INT TERM; \
	.venv/bin/gunicorn --workers $(WORKERS) --bind $(BIND) --access-logfile - \
	    --forwarded-allow-ips "$${FORWARDED_ALLOW_IPS:-127.0.0.1}" 'app:create_app()'

test: venv
	$(PY) -m pytest -n 2 -q

bench: venv
	$(PY) bench/bulk_import.py
	$(PY) bench/rejudge.py
	$(PY) bench/statements.py
	$(PY) bench/ocr.py

clean:
	rm -rf instance .pytest_cache
