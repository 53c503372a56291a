# Two commands do everything on a fresh machine with nothing but Python 3.11:
#   make demo   set up .venv and run the main job on an embedded local Ray
#   make test   set up .venv and run the tests
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test lint setup clean

setup: $(STAMP)

# Reinstall only when the dependency list changes.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (set PYTHON=...)"; exit 1; }
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/python pipelines/collect.py --task cheetah-run --episodes 8 --steps 500 --actors 2 --out data/cheetah-run

# pytest exits 5 when it collects no test: that fails here, as any non-zero code does.
test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check mosim_ray pipelines benchmarks tests

clean:
	rm -rf $(VENV) .pytest_cache
