#!/usr/bin/env bash
# T1b of the research note: the testbed transformer as AutoTune's learner, where realizability no longer
# holds. One seed on a small clustered op-chain (8 clusters, T=3, Z_5) so every arm finishes on 2 CPU cores.
# Usage: benchmarks/autotune_transformer.sh [OUT]   (default runs/autotune-transformer; about 30 min)
set -euo pipefail
OUT=${1:-runs/autotune-transformer}
BIN=${BIN:-autocurriculum}
TASK='{"clusters": 8, "steps": 3, "modulus": 5}'
COMMON=(--learner transformer --task-config "$TASK" --test-prompts 500 --seed 0)
PHASES='{"chunk": 32, "max_phase_train": 512, "validation_size": 64}'

"$BIN" autotune sft --method uniform --demos 3000 --steps-per-fit 50 "${COMMON[@]}" --out "$OUT/uniform"
"$BIN" autotune sft --method uniform --demos 3000 --steps-per-fit 100 "${COMMON[@]}" --out "$OUT/uniform-100-steps"
"$BIN" autotune sft --method counterexample --eps 0.1 --batch 16 --max-prompts 20000 --steps-per-fit 50 \
    "${COMMON[@]}" --out "$OUT/counterexample"
"$BIN" autotune sft --method autotune --eps 0.2 --reuse-supervision --autotune-config "$PHASES" \
    --steps-per-fit 50 "${COMMON[@]}" --out "$OUT/autotune-reuse"
"$BIN" autotune sft --method autotune --eps 0.2 --autotune-config "$PHASES" --steps-per-fit 50 \
    "${COMMON[@]}" --out "$OUT/autotune"

"${PYTHON:-python3}" - "$OUT" <<'PY'
import json, sys
from pathlib import Path

out = Path(sys.argv[1])
rows = []
for run in ("uniform", "uniform-100-steps", "counterexample", "autotune-reuse", "autotune"):
    data = json.loads((out / run / "result.json").read_text())
    costs, extra = data["costs"], data["extra"]
    rows.append((run, data["accuracy"], costs["teacher_demonstrations"], costs["learner_training_steps"],
                 costs["verifier_calls"], extra.get("weak_target_missed", "-")))
    if run.startswith("uniform"):
        for target in (0.7, 0.8, 0.9):
            hit = next((p for p in data["curve"] if p["accuracy"] >= target), None)
            rows.append((f"  {run} first at >= {target}", hit and hit["accuracy"],
                         hit and hit["teacher_demonstrations"], hit and hit["learner_training_steps"], "-", "-"))
lines = ["| run | held-out accuracy | demonstrations | training steps | verifier calls | weak target missed |",
         "|---|---|---|---|---|---|"]
for run, acc, demos, steps, calls, missed in rows:
    acc_text = "not reached" if acc is None else f"{acc:.3f}"
    lines.append(f"| {run} | {acc_text} | {demos if demos is not None else '-'} | {steps if steps is not None else '-'} | {calls} | {missed} |")
(out / "report.md").write_text("# AutoTune with the transformer learner (T1b)\n\n" + "\n".join(lines) + "\n")
print("\n".join(lines))
PY
