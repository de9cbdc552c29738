PY ?= .venv/bin/python
VENV ?= .venv

.PHONY: install demo test lint check bench bench-sigma bench-es clean

$(VENV)/bin/python:
	python3 -m venv $(VENV)

install: $(VENV)/bin/python
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'

# The bundled sample is a day in November 2026 (syslog lines carry no year, hence --year).
demo: install
	$(VENV)/bin/secops correlate --input samples/logs --topology topology/example --year 2026 \
		--dead-letter .secops/demo-unparsed.jsonl --output .secops/demo-findings.jsonl
	@echo
	@echo "All findings, the cut ones with the reason (secops findings show ID explains one):"
	$(VENV)/bin/secops findings list --all

# Starts a real Elasticsearch (downloaded with Maven on first use), runs the suite, stops it.
test: install
	bash scripts/with-elasticsearch.sh $(VENV)/bin/pytest

# mypy: strict for secops/ (the exceptions and their reasons are in pyproject.toml [tool.mypy])
lint: install
	$(VENV)/bin/ruff check secops tests
	$(VENV)/bin/ruff format --check secops tests
	$(VENV)/bin/mypy

check: lint test

# Not part of test/check/CI: generates 1M- and 10M-line corpora under bench/data/ (~1.6 GB),
# installs SEC and liblognorm when missing, runs them beside secops; writes bench/RESULTS.md.
bench: install bench-es
	$(PY) -m bench.run $(BENCH_ARGS)

# Events/s of the whole SigmaHQ Windows rule set (needs ../shared/data; not part of CI).
bench-sigma: install
	$(PY) -m bench.sigma_windows $(BENCH_ARGS)

# The Elasticsearch sink (100,000 and 1,000,000 findings: findings/s, bytes/finding) and source.
bench-es: install
	bash scripts/with-elasticsearch.sh $(PY) scripts/bench_es.py $(BENCH_ES_ARGS)

clean:
	rm -rf build .secops .pytest_cache
