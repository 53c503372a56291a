# Two commands do everything on a fresh machine with nothing but Python 3.11:
#   make demo   set up .venv and run the main job on an embedded local Ray
#   make test   set up .venv, lint, and run the whole test suite (what CI runs)
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
PY := $(VENV)/bin/python

.PHONY: demo test test-fast lint format setup clean

setup: $(STAMP)

# Reinstall only when the dependency list changes.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (set PYTHON=...)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The main job, laptop-sized (about 8 minutes on 2 cores): real reacher rollouts collected by Ray
# actors, a MoSim model trained on them, the prediction benchmark against fresh real MuJoCo
# rollouts (horizons 3 / 16 / 100, beside constant-state prediction), then SAC trained only
# inside that model and scored in real MuJoCo.
DEMO_TASK ?= reacher-easy
DEMO_MINUTES ?= 4
DEMO_RL_STEPS ?= 30000
demo: $(STAMP)
	$(PY) pipelines/collect.py --task $(DEMO_TASK) --episodes 60 --steps 500 --process.kind poisson --out demo/data
	$(PY) pipelines/train.py --task $(DEMO_TASK) --data demo/data --out demo/run --training.minutes $(DEMO_MINUTES)
	$(PY) pipelines/benchmark.py --task $(DEMO_TASK) --checkpoint demo/run/model --test-sets random --data-dir demo/benchmark_data --out demo/benchmark
	$(PY) pipelines/zero_shot.py --task $(DEMO_TASK) --checkpoint demo/run/model --imagined-steps $(DEMO_RL_STEPS) --eval.every 5000 --out demo/zero_shot

# pytest exits 5 when it collects no test: that fails here, as any non-zero code does. The ten
# slowest tests are listed at the end: CI has 15 minutes, install included.
test: lint
	$(PY) benchmarks/report.py --check
	$(PY) -m pytest -q --durations=10

# The inner loop: every test that starts no Ray and takes seconds, not minutes.
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not ray and not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check mosim_ray pipelines benchmarks tests
	$(VENV)/bin/ruff format --check mosim_ray pipelines benchmarks tests

format: $(STAMP)
	$(VENV)/bin/ruff format mosim_ray pipelines benchmarks tests
	$(VENV)/bin/ruff check --fix mosim_ray pipelines benchmarks tests

clean:
	rm -rf $(VENV) .pytest_cache demo
