# infrawatch — see README.md.  Every target installs what it needs through scripts/bootstrap.
SHELL := /bin/bash
# Debian puts rbldnsd and nginx in /usr/sbin; make sure tests find them for non-login shells.
export PATH := $(PATH):/usr/sbin:/sbin
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.bootstrap-ok

.PHONY: setup build check-generated fmt lint test test-fast demo bench clean

$(STAMP): pyproject.toml devtools/pyproject.toml scripts/bootstrap
	scripts/bootstrap
	touch $@

setup: $(STAMP)

build: $(STAMP)
	$(VENV)/bin/infrawatch build

# CI: the committed generated files must equal what `make build` writes.
check-generated: build
	@if [ -n "$$(git status --porcelain -- rules dashboards alertmanager tests/rules/generated deploy)" ]; then \
	  git status --porcelain -- rules dashboards alertmanager tests/rules/generated deploy; \
	  echo "generated files are out of date: run 'make build' and commit"; exit 1; fi

fmt: $(STAMP)
	$(VENV)/bin/ruff format exporters devtools tests bench
	$(VENV)/bin/ruff check --fix exporters devtools tests bench
	find jsonnet -name '*.libsonnet' -o -name '*.jsonnet' | xargs -r jsonnetfmt -i -n 2 --max-blank-lines 2 --string-style s --comment-style s

lint: $(STAMP)
	$(VENV)/bin/ruff check exporters devtools tests bench
	find jsonnet -name '*.libsonnet' -o -name '*.jsonnet' | xargs -r jsonnetfmt --test -n 2 --max-blank-lines 2 --string-style s --comment-style s

test: $(STAMP)
	$(PY) -m pytest -q -ra $(PYTEST_ARGS)

demo: $(STAMP)
	$(PY) scripts/demo.py

bench: $(STAMP)
	$(PY) -m bench.probe_vs_blackbox
	$(PY) -m bench.dnsbl_throughput
	$(PY) -m bench.build_time

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
