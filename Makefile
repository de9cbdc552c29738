PY ?= .venv/bin/python
VENV ?= .venv

.PHONY: install demo test lint check bench clean

$(VENV)/bin/python:
	python3 -m venv $(VENV)

install: $(VENV)/bin/python
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'

demo: install
	$(VENV)/bin/secops correlate --input samples/logs --topology topology/example --output .secops/demo-findings.jsonl
	$(VENV)/bin/secops findings list

# Starts a real Elasticsearch (downloaded with Maven on first use), runs the suite, stops it.
test: install
	bash scripts/with-elasticsearch.sh $(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check secops tests
	$(VENV)/bin/ruff format --check secops tests

check: lint test

clean:
	rm -rf build .secops .pytest_cache
