# Partnerzone: `make demo` serves the portal with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Links in e-mails, SMS and what the demo prints point where the demo serves (`make demo PORT=8123`).
PORTAL_BASE_URL ?= http://127.0.0.1:$(PORT)
# The embedded default: SQLite, eager tasks, dev outbox for SMS and e-mail, 2FA optional.
DEMO_ENV := DEBUG=true PORTAL_REQUIRE_2FA=false PORTAL_DEV_OUTBOX=true PORTAL_BASE_URL=$(PORTAL_BASE_URL)
# The browser tests drive Debian's Chromium; Playwright's own download is blocked here.
CHROMIUM ?= /usr/bin/chromium

.PHONY: help install assets messages demo demo-data serve test test-fast check-chromium lint format check-deploy worker beat clean

help:
	@echo "make demo   - set up everything and serve the portal with demo data on http://127.0.0.1:$(PORT)"
	@echo "make test   - set up everything and run the whole test suite"
	@echo "make lint   - ruff, import-linter layer contract, translation catalogues"

install: $(VENV)/.installed
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

# Front-end libraries come from the npm registry and are copied into static/vendor (not committed).
assets: static/vendor/.built
static/vendor/.built: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor/bootstrap static/vendor/htmx static/vendor/chartjs
	cp node_modules/bootstrap/dist/css/bootstrap.min.css static/vendor/bootstrap/
	cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js static/vendor/bootstrap/
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx/
	cp node_modules/chart.js/dist/chart.umd.min.js static/vendor/chartjs/
	touch $@

# Rebuild the translation catalogues after changing user-facing text (needs GNU gettext).
messages: install
	DEBUG=true $(BIN)/python manage.py makemessages -l de -l ru --no-obsolete --no-location \
		--ignore=node_modules --ignore=.venv --ignore=var --ignore=tests --ignore=benchmarks
	for lang in de ru; do msgfmt --check-format -o locale/$$lang/LC_MESSAGES/django.mo locale/$$lang/LC_MESSAGES/django.po; done

demo: install assets
	mkdir -p var
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py demo
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Two workers on this 2-core machine (pytest-xdist), whole files per worker; each its own test database
# and Redis database (tests/xdist_env.py). TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: check-chromium install assets
	mkdir -p var
	$(BIN)/python -m pytest -p tests.xdist_env -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Checked first, so a newcomer learns it at once and not after minutes of tests.
check-chromium:
	@test -x $(CHROMIUM) || { \
		echo "The browser tests need Debian's Chromium at $(CHROMIUM), and it is missing." >&2; \
		echo "Install it with: sudo apt-get install -y chromium   (.ci/run installs it for CI)" >&2; \
		exit 1; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_translations.py

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check-deploy: install
	DEBUG=false SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
	ALLOWED_HOSTS=partnerzone.example $(BIN)/python manage.py check --deploy --fail-level WARNING

# Against Postgres and Redis: export DATABASE_URL and REDIS_URL first (see README).
worker: install
	$(BIN)/celery -A portal worker --loglevel=INFO --concurrency=2

beat: install
	$(BIN)/celery -A portal beat --loglevel=INFO --schedule=var/celerybeat-schedule

clean:
	rm -rf var static/vendor node_modules
