#!/usr/bin/env bash
# Quality evaluation on MovieLens-100K and -1M: fetch (pinned sha256), convert,
# run `mizan eval` (engine + baselines), then the Python peers, writing
# results/eval/<dataset>/{report.md,chart.svg,results-with-peers.json}.
# Usage: examples/movielens/eval.sh [extra `mizan eval` flags]
# The headline configuration (tuned on the validation split of ML-1M; ranker
# weights are the sequential pack's defaults):
HEADLINE=(--model sequential --seq-lambda 200 --top-k 50 --transitions-top-k 25 --steps-ahead 3 --network-dim 128)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
VENV="${MIZAN_TOOLS_DIR:-$HOME/.cache/mizan-tools}/eval-venv"
if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q implicit==0.7.3 numpy==2.4.6 scipy==1.17.1 matplotlib==3.11.2
fi
cargo build --release -q -p mizan-cli
for dataset in ml-100k ml-1m; do
  python3 examples/movielens/fetch.py "$dataset" --out results/data
  out="results/eval/$dataset"
  # Every user is also evaluated, in five folds: the 20% split alone is 189
  # users on ML-100K (±0.05 on HR@10) and 1,208 on ML-1M (±0.026). The online
  # ranker is measured by replaying each history's last 20 steps as screens.
  target/release/mizan eval --data "results/data/$dataset" --out "$out" --tradeoff --size-curve --cross-validate --online-feedback 20 "${HEADLINE[@]}" "$@" > /dev/null
  "$VENV/bin/python" examples/movielens/peers.py "$out" "$dataset"
done
