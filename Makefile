# The one entry point: `make run` (all services with demo data) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: run test lint format bench demo catalog screenshots lock floors clean

# Installed from the lock (exact versions, checked against their hashes), then the project itself.
$(BIN)/.installed: pyproject.toml requirements/dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

run: $(BIN)/.installed
	$(BIN)/python -m ops.launcher

# Four workers (each test has its own namespace): the tests mostly wait on PostgreSQL, the broker
# and the browser, so four keep two cores busier than two (measured: 10.0 min against 12.7 for
# the same suite). Work stealing keeps every worker busy to the end, where the long browser
# journeys would otherwise queue behind one worker; the slowest tests are listed last. Then,
# alone, the tests that restart or disconnect the shared servers. Four workers want PostgreSQL's
# max_connections above its default 100 (.ci/run raises it to 300); `make test WORKERS=2` otherwise.
WORKERS ?= 4
test: lint
	$(BIN)/pytest -n $(WORKERS) --dist worksteal --durations 25 -m "not serial"
	$(BIN)/pytest -m serial

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(BIN)/.installed
	$(BIN)/python -m bench

demo: $(BIN)/.installed
	$(BIN)/gradeline demo

# Each role's main view, English and Chinese, as PNGs under docs/screenshots/ (shown in the README).
screenshots: $(BIN)/.installed
	$(BIN)/python -m ops.screenshots

catalog: $(BIN)/.installed
	$(BIN)/gradeline catalog docs/event-catalog.json

# After changing a dependency in pyproject.toml: pin everything again (uv resolves, pip installs).
LOCK = $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
	--quiet --custom-compile-command "make lock"
lock: $(BIN)/.installed
	$(BIN)/pip install --quiet uv
	$(LOCK) -o requirements/runtime.lock
	$(LOCK) --extra test --extra bench -o requirements/dev.lock

# The floors declared in pyproject.toml are true: the lowest versions they admit pass the tests.
FLOORS = .floors
floors: $(BIN)/.installed
	$(BIN)/pip install --quiet uv
	$(BIN)/uv venv --quiet --python $(PYTHON) $(FLOORS)
	$(BIN)/uv pip compile pyproject.toml --extra test --extra bench --resolution lowest-direct \
		--python-version 3.11 --quiet -o $(FLOORS)/requirements.txt
	VIRTUAL_ENV=$(FLOORS) $(BIN)/uv pip install --quiet -r $(FLOORS)/requirements.txt
	VIRTUAL_ENV=$(FLOORS) $(BIN)/uv pip install --quiet --no-deps -e .
	$(FLOORS)/bin/pytest tests/unit tests/integration tests/hostile tests/e2e

clean:
	rm -rf $(VENV) $(FLOORS) .pytest_cache .mypy_cache .ruff_cache .hypothesis
