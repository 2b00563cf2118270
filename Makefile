# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed
# Exact dev/CI versions (pyproject.toml holds ranges); `make lock` re-resolves it.
LOCK := requirements/lock.txt
EXTRAS := dev,fast,googlesql
# Lowest-versions smoke run: Colab's stack (tests/colab/constraints.txt) and every other
# direct dependency at its lower bound (uv --resolution lowest-direct).
LOWEST_VENV := .venv-lowest
LOWEST_STAMP := $(LOWEST_VENV)/.installed
SMOKE_TESTS := tests/test_templates.py tests/test_manifest.py tests/test_download.py \
	tests/test_seed.py tests/test_api.py tests/test_magics.py tests/test_compat.py \
	tests/test_gcs_without_gcsfs.py
# Side venv for the BigQuery emulator: it pins sqlglot<30.12 and protobuf 6.
BQEMU_VENV := .venv-bqemu
BQEMU_STAMP := $(BQEMU_VENV)/.installed
BQEMU_PKGS := bqemulator==1.4.0 duckdb==1.5.5 duckdb-extensions==1.5.5 \
	duckdb-extension-spatial==1.5.5 duckdb-extension-avro==1.5.5 numpy==2.4.6

.PHONY: orthanc venv demo test test-fast test-lowest test-install lock lint bench bench-quick clean \
	conformance conformance-subset

venv: $(STAMP)

# The lock constrains the install: exactly its versions, plus anything pyproject.toml
# gained since (run `make lock` to record it).
$(STAMP): pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check uv==0.13.9
	$(UV) pip install -q --compile-bytecode --python $(PY) -c $(LOCK) -e '.[$(EXTRAS)]'
	touch $@

# Needs only uv (not the installed venv, which a stale lock may fail to install).
lock:
	test -x $(UV) || { test -x $(PY) || $(PYTHON) -m venv $(VENV); \
		$(VENV)/bin/pip install -q --disable-pip-version-check uv==0.13.9; }
	$(UV) pip compile -q pyproject.toml --extra dev --extra fast --extra googlesql \
		--python-version 3.11 --custom-compile-command "make lock" -o $(LOCK)

# Left out of the constraints here: Colab's duckdb (below idcbq's lower bound: installing
# idcbq moves it) and protobuf (the googlesql extra's zetasql needs protobuf>=6.31.1).
$(LOWEST_STAMP): pyproject.toml tests/colab/constraints.txt
	test -x $(LOWEST_VENV)/bin/python || $(PYTHON) -m venv $(LOWEST_VENV)
	$(LOWEST_VENV)/bin/pip install -q --disable-pip-version-check uv==0.13.9
	grep -v -E '^(duckdb|protobuf)==' tests/colab/constraints.txt > $(LOWEST_VENV)/constraints.txt
	$(LOWEST_VENV)/bin/uv pip install -q --compile-bytecode --python $(LOWEST_VENV)/bin/python \
		--resolution lowest-direct -c $(LOWEST_VENV)/constraints.txt -e '.[$(EXTRAS)]'
	touch $@

$(BQEMU_STAMP): Makefile
	test -x $(BQEMU_VENV)/bin/python || $(PYTHON) -m venv $(BQEMU_VENV)
	$(BQEMU_VENV)/bin/pip install -q --disable-pip-version-check uv==0.13.9
	$(BQEMU_VENV)/bin/uv pip install -q --python $(BQEMU_VENV)/bin/python $(BQEMU_PKGS)
	touch $@

bqemu: $(BQEMU_STAMP)

# DICOMweb tests need Orthanc and its DICOMweb plugin (Debian packages); installed when
# running as root (CI), else those tests skip and say why.
orthanc:
	@if command -v Orthanc >/dev/null 2>&1 && ls /usr/share/orthanc/plugins/libOrthancDicomWeb.so >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq orthanc orthanc-dicomweb >/dev/null; \
	else echo "Orthanc not installed and not root: the DICOMweb tests will skip"; fi

demo: $(STAMP)
	$(PY) -m idcbq.demo

# The modules' docstring examples first (a few seconds), then the suite.
test: $(STAMP) $(BQEMU_STAMP) orthanc
	$(PY) -m pytest -q -p no:cacheprovider --doctest-modules idcbq
	IDCBQ_BQEMU_PYTHON=$(CURDIR)/$(BQEMU_VENV)/bin/python $(PY) -m pytest -q -m "not install" --durations=25

# A broad smoke subset (templates on DuckDB, manifests, seeded downloads, the magic) on
# the lowest versions pyproject.toml allows.
test-lowest: $(LOWEST_STAMP) $(BQEMU_STAMP)
	IDCBQ_BQEMU_PYTHON=$(CURDIR)/$(BQEMU_VENV)/bin/python \
		$(LOWEST_VENV)/bin/python -m pytest -q -p no:cacheprovider $(SMOKE_TESTS)

# The wheel into a venv holding Colab's stack: nothing changes, pip check is clean.
test-install: $(STAMP)
	$(PY) -m pytest -q -rP -m install tests/test_install_colab.py

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow and not bigquery and not install"

lint: $(STAMP)
	$(VENV)/bin/ruff check idcbq tests bench
	$(VENV)/bin/ruff format --check idcbq tests bench

bench: $(STAMP) $(BQEMU_STAMP)
	$(PY) -m bench

# Fast path: scale/remote/idc-index benches on the embedded sample, 1 repeat.
bench-quick: $(STAMP)
	$(PY) -m bench --quick

# Google's GoogleSQL compliance cases (issue 18 §4), read from CORPUS (never copied here):
# each case on DuckDB through idcbq vs the file's expected result. Fails on a silent
# difference or an invalid query answered that tests/conformance/known_gaps.toml lacks.
CORPUS ?= $(CURDIR)/../shared/zetasql-compliance
conformance: $(STAMP)
	$(PY) -m tests.conformance $(CORPUS) --jobs 2

# The fixed subset CI runs (tests/conformance/ci_subset.txt: ~10 min on 2 cores).
conformance-subset: $(STAMP)
	$(PY) -m tests.conformance $(CORPUS) --jobs 2 --subset tests/conformance/ci_subset.txt

clean:
	rm -rf $(VENV) $(BQEMU_VENV) $(LOWEST_VENV) .pytest_cache
