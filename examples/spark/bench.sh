#!/usr/bin/env bash
# The Spark job at growing input sizes, on this machine in local mode: wall time and shuffle
# bytes per size (from Spark's event log). Synthetic long-tail logs from `mizan pack synth-log`,
# 100 interactions per item. Writes results/spark-bench/results.jsonl.
#   Usage: examples/spark/bench.sh [INTERACTIONS...]   (default: 1000000 3000000 10000000)
#   Env: SPARK_MASTER (default local[2]), SPARK_DRIVER_MEMORY (default 12g), JOB_ARGS (extra job flags)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
VENV="${MIZAN_TOOLS_DIR:-$HOME/.cache/mizan-tools}/spark-venv"
[[ -x "$VENV/bin/spark-submit" ]] || { echo "run examples/spark/test.sh first (it installs pyspark)" >&2; exit 1; }
cargo build --release -p mizan-cli
OUT="$ROOT/results/spark-bench"
mkdir -p "$OUT"
sizes=("$@"); (( ${#sizes[@]} )) || sizes=(1000000 3000000 10000000)
for size in "${sizes[@]}"; do
  items=$(( size / 100 ))
  data="$OUT/log-$size"
  [[ -f "$data/interactions.csv" ]] || target/release/mizan pack synth-log --items "$items" --per-item 100 --out "$data"
  events="$OUT/events-$size"
  rm -rf "$events" "$OUT/learned-$size"; mkdir -p "$events"
  start=$(date +%s.%N)
  PATH="$VENV/bin:$PATH" PYSPARK_PYTHON="$VENV/bin/python" "$VENV/bin/spark-submit" \
    --master "${SPARK_MASTER:-local[2]}" --driver-memory "${SPARK_DRIVER_MEMORY:-12g}" \
    --conf spark.eventLog.enabled=true --conf spark.eventLog.compress=false --conf "spark.eventLog.dir=file://$events" \
    --conf spark.ui.showConsoleProgress=false --conf spark.sql.shuffle.partitions=16 \
    examples/spark/mizan_spark.py --catalog "$data/catalog.csv" --interactions "$data/interactions.csv" \
    --out "$OUT/learned-$size" ${JOB_ARGS:-} > "$OUT/job-$size.out" 2> "$OUT/job-$size.err"
  seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  "$VENV/bin/python" examples/spark/shuffle.py "$events" "$size" "$items" "$seconds" | tee -a "$OUT/results.jsonl"
done
