# Set-up, demo and tests. `make demo` and `make test` each create the virtualenv first.

PYTHON ?= python3
VENV ?= .venv
AIRFLOW_VERSION ?= 3.3.2
# Extra requirements pinned into the venv, e.g. the oldest supported versions.
PINS ?=
PYTEST_ARGS ?=
DEMO_DIR ?= $(CURDIR)/.demo
SOURCE ?=
BANDWIDTH_LIMIT ?=
UI_DIR ?= $(CURDIR)/.ui
UI_PORT ?= 28080

STAMP := $(VENV)/.installed-$(AIRFLOW_VERSION)

.PHONY: install demo test ui clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet "apache-airflow==$(AIRFLOW_VERSION)" $(PINS) -e ".[test]"
	touch $@

demo: $(STAMP)
	$(VENV)/bin/python scripts/demo.py --demo-dir "$(DEMO_DIR)" \
		$(if $(SOURCE),--source "$(SOURCE)") \
		$(if $(BANDWIDTH_LIMIT),--bandwidth-limit $(BANDWIDTH_LIMIT))

ui: $(STAMP)
	$(VENV)/bin/python scripts/ui.py --ui-dir "$(UI_DIR)" --port $(UI_PORT) \
		$(if $(BANDWIDTH_LIMIT),--bandwidth-limit $(BANDWIDTH_LIMIT))

test: $(STAMP)
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .demo .ui .pytest_cache
