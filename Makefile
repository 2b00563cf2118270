# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed
# Side venv for the BigQuery emulator: it pins sqlglot<30.12 and protobuf 6.
BQEMU_VENV := .venv-bqemu
BQEMU_STAMP := $(BQEMU_VENV)/.installed
BQEMU_PKGS := bqemulator==1.4.0 duckdb==1.5.5 duckdb-extensions==1.5.5 \
	duckdb-extension-spatial==1.5.5 duckdb-extension-avro==1.5.5 numpy==2.4.6

.PHONY: venv demo test test-fast lint bench bench-quick clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check uv==0.13.9
	$(UV) pip install -q --python $(PY) -e '.[dev,fast]'
	touch $@

$(BQEMU_STAMP): Makefile
	test -x $(BQEMU_VENV)/bin/python || $(PYTHON) -m venv $(BQEMU_VENV)
	$(BQEMU_VENV)/bin/pip install -q --disable-pip-version-check uv==0.13.9
	$(BQEMU_VENV)/bin/uv pip install -q --python $(BQEMU_VENV)/bin/python $(BQEMU_PKGS)
	touch $@

bqemu: $(BQEMU_STAMP)

demo: $(STAMP)
	$(PY) -m idcbq.demo

test: $(STAMP) $(BQEMU_STAMP)
	IDCBQ_BQEMU_PYTHON=$(CURDIR)/$(BQEMU_VENV)/bin/python $(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow and not bigquery"

lint: $(STAMP)
	$(VENV)/bin/ruff check idcbq tests bench
	$(VENV)/bin/ruff format --check idcbq tests bench

bench: $(STAMP) $(BQEMU_STAMP)
	$(PY) -m bench

# Fast path: scale/remote/idc-index benches on the embedded sample, 1 repeat.
bench-quick: $(STAMP)
	$(PY) -m bench --quick

clean:
	rm -rf $(VENV) $(BQEMU_VENV) .pytest_cache
