# cvcore developer targets. Each builds .venv from nothing when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PLUGINS := plugins/pose plugins/rcnn_fpn plugins/gan plugins/prune plugins/int8_vnni
EDITABLES := $(filter-out plugins/int8_vnni,$(PLUGINS)) plugins/int8_vnni[openvino]
STAMP := $(VENV)/.cvcore-installed
PYTEST_ARGS ?=

.PHONY: venv demo test test-slow bench wheels clean

venv: $(STAMP)

$(STAMP): pyproject.toml $(addsuffix /pyproject.toml,$(PLUGINS))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23.1"
	$(BIN)/python -m pip install --quiet -e ".[test]" $(foreach p,$(EDITABLES),-e "$(p)")
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cvcore demo

test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

wheels: $(STAMP)
	rm -rf wheelhouse
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir wheelhouse . $(PLUGINS)
	@ls wheelhouse

clean:
	rm -rf $(VENV) wheelhouse build dist *.egg-info plugins/*/*.egg-info plugins/*/build
