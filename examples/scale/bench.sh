#!/usr/bin/env bash
# recommend at catalogue scale: the criterion bench over 1k/10k/100k items x
# 50/500/5,000-event histories, the p50/p99 of each, and the chart.
# Writes results/bench-scale/{latency.jsonl,latency.svg}. Usage: examples/scale/bench.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT=results/bench-scale
mkdir -p "$OUT"
rm -f "$OUT/latency.jsonl"
MIZAN_BENCH_OUT="$ROOT/$OUT/latency.jsonl" cargo bench -p mizan --features packer --bench scale -- --noplot
python3 examples/scale/chart.py "$OUT/latency.jsonl" "$OUT/latency.svg"
echo "wrote $OUT/latency.jsonl and $OUT/latency.svg"
