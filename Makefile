# Thin wrappers: every target installs what it needs into .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench bench-accuracy prometheus victoria-metrics chromium demo-data clean

$(BIN)/rightsizer: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

demo: $(BIN)/rightsizer
	$(BIN)/rightsizer report --demo

test: $(BIN)/rightsizer prometheus victoria-metrics chromium
	$(BIN)/python -m pytest -n auto

lint: $(BIN)/rightsizer
	$(BIN)/ruff check rightsizer tests bench scripts

prometheus:
	scripts/ensure-apt.sh prometheus promtool "the tests run a real Prometheus"

victoria-metrics:
	scripts/ensure-apt.sh victoria-metrics victoria-metrics "the tests query VictoriaMetrics too"

chromium:
	scripts/ensure-apt.sh chromium chromium "the HTML report is rendered in it"

bench: $(BIN)/rightsizer prometheus
	$(BIN)/python bench/run.py --chart docs/benchmarks-scale.png

bench-accuracy: $(BIN)/rightsizer
	$(BIN)/python bench/accuracy.py

demo-data: $(BIN)/rightsizer
	$(BIN)/python scripts/make-demo-snapshot.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
