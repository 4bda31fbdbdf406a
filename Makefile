# Two commands set everything up on a fresh machine with Python 3.11+:
#   make demo   - scan the built-in simulated AWS account (runtime dependencies only)
#   make test   - the whole test suite, cfn-lint on the pack included (adds the test extras)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet --disable-pip-version-check
# Two stamps: the runtime (what `transcribe-guard` needs, setup.cfg install_requires) and, on top
# of it, the test extras (cfn-lint, mypy, hypothesis, rdk, ...). `make demo` installs only the first.
RUNTIME := $(VENV)/.installed-runtime
STAMP := $(VENV)/.installed-test

.PHONY: demo test lint audit build clean bench

$(RUNTIME): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip==25.3
	$(PIP) -e .
	$(PIP) --require-hashes --no-deps --force-reinstall -r transcribe_guard/requirements-lambda.txt
	touch $(RUNTIME)

$(STAMP): $(RUNTIME)
	$(PIP) -e '.[test]'
	touch $(STAMP)

# Exit status 3 means "findings reported", which is the demo's point, not a failure.
demo: $(RUNTIME)
	$(BIN)/transcribe-guard scan --demo; status=$$?; [ $$status -eq 0 ] || [ $$status -eq 3 ]
	$(BIN)/transcribe-guard scan --demo --organization --rule transcribe-job-pii-redaction \
		--rule transcribe-iam-user-no-access; status=$$?; [ $$status -eq 0 ] || [ $$status -eq 3 ]
	$(BIN)/transcribe-guard deploy --demo
	$(BIN)/transcribe-guard deploy --demo --organization

test: $(STAMP) lint
	$(BIN)/python -m pytest -q -n auto --dist loadfile
	$(BIN)/cfn-lint conformance-pack.yaml transcribe_guard/templates/*.yaml

# Static checks: ruff on all code, mypy --strict on the rule code that runs in Lambda.
lint: $(STAMP)
	$(BIN)/ruff check rules transcribe_guard tests
	$(BIN)/mypy rules

# Known-vulnerable pins (reads PyPI's advisory data).
audit: $(STAMP)
	$(BIN)/pip-audit --progress-spinner off -r transcribe_guard/requirements-lambda.txt
	$(BIN)/pip-audit --progress-spinner off --skip-editable

# Regenerate every generated file (rdk_config/, conformance-pack.yaml, templates, docs/rules/, README rule table).
build: $(RUNTIME)
	$(BIN)/transcribe-guard build

# Scale and cost benchmark (not part of make test): ours vs a naive rdklib baseline on the
# simulator, full configuration (tens of minutes). Prints a table, writes build/bench.json.
bench: $(STAMP)
	$(BIN)/python -m transcribe_guard.bench --output build/bench.json

clean:
	rm -rf $(VENV) build *.egg-info
