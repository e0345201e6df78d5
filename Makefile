# cvcore developer targets. Each builds .venv from nothing when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORE_VENV := .venv-core
PLUGINS := plugins/pose plugins/rcnn_fpn plugins/ssd plugins/gan plugins/prune plugins/int8_vnni
EDITABLES := $(filter-out plugins/int8_vnni,$(PLUGINS)) plugins/int8_vnni[openvino]
STAMP := $(VENV)/.cvcore-installed
CORE_STAMP := $(CORE_VENV)/.cvcore-installed
PYTEST_ARGS ?=
PLUGIN_TESTS := $(patsubst plugins/%,tests/%,$(filter-out plugins/int8_vnni,$(PLUGINS))) tests/int8

.PHONY: venv demo test test-slow test-install test-core test-alone lint bench readme-figures wheels clean

venv: $(STAMP)

$(STAMP): pyproject.toml $(addsuffix /pyproject.toml,$(PLUGINS))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23.1"
	$(BIN)/python -m pip install --quiet -e ".[test]" $(foreach p,$(EDITABLES),-e "$(p)")
	touch $(STAMP)

# The core alone, without any first-party plugin: its own suite must pass there too.
$(CORE_STAMP): pyproject.toml
	test -x $(CORE_VENV)/bin/python || $(PYTHON) -m venv $(CORE_VENV)
	$(CORE_VENV)/bin/python -m pip install --quiet --upgrade "pip>=23.1"
	$(CORE_VENV)/bin/python -m pip install --quiet -e ".[test]"
	touch $(CORE_STAMP)

demo: $(STAMP)
	$(BIN)/cvcore demo

# The README's test command: the fast suite, in a random order (pytest-randomly prints the seed to replay it).
test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not install" $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

# Wheels built and installed into fresh virtual environments (several minutes: MXNet, OpenVINO, NNCF).
test-install: $(STAMP)
	$(BIN)/python -m pytest -m install $(PYTEST_ARGS)

test-core: $(CORE_STAMP)
	$(CORE_VENV)/bin/python -m pytest -m "not slow and not install and not first_party" \
		$(foreach d,$(wildcard $(PLUGIN_TESTS)),--ignore=$(d)) $(PYTEST_ARGS)

# Every test file in a process of its own: no test may need another to have run first.
test-alone: $(STAMP)
	@failed=""; for f in $$(find tests -name 'test_*.py' | sort); do \
		$(BIN)/python -m pytest -q -m "not slow and not install" -p no:randomly "$$f" >/tmp/cvcore-test-alone.log 2>&1; \
		code=$$?; if [ $$code -ne 0 ] && [ $$code -ne 5 ]; then failed="$$failed $$f"; tail -20 /tmp/cvcore-test-alone.log; fi; \
	done; if [ -n "$$failed" ]; then echo "failed alone:$$failed"; exit 1; fi; echo "every test file passes alone"

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# The README's measured figures, rewritten from the committed benchmarks/results/*.json.
readme-figures: $(STAMP)
	$(BIN)/python benchmarks/_readme_figures.py

wheels: $(STAMP)
	rm -rf wheelhouse
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir wheelhouse . $(PLUGINS)
	@ls wheelhouse

clean:
	rm -rf $(VENV) $(CORE_VENV) wheelhouse build dist *.egg-info plugins/*/*.egg-info plugins/*/build
