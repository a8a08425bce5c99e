# s3audit: every target sets up what it needs. Two commands matter: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.s3audit-installed
REPORTS ?= reports

.PHONY: demo test bench lab venv clean samples

venv: $(STAMP)

# Create the venv once; re-install only when pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## The whole investigation, offline, on data/samples/; writes $(REPORTS)/.
demo: $(STAMP)
	$(PY) -m s3audit demo --out $(REPORTS)

## Unit, compliance, property, moto-server, notebook and browser tests.
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

## Benchmarks (large synthetic inputs; numbers go to the README's performance section).
bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) -m benchmarks $(BENCH_ARGS)

## JupyterLab on the notebooks.
lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

## Regenerate data/samples/ (deterministic).
samples: $(STAMP)
	$(PY) -m s3audit samples --out data/samples

clean:
	rm -rf $(VENV) $(REPORTS) .pytest_cache .hypothesis
