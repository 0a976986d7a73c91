#!/usr/bin/env bash
# Packer benchmark on MovieLens-1M: EASE, sequential and sequence-network build
# time, pack size, pack verify+load time and on-device recommend time with and
# without a network (criterion). Fetches the data (never committed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT=results/bench-pack
mkdir -p "$OUT"

python3 examples/movielens/fetch.py ml-1m --out results/data
cargo build --release -q -p mizan-cli
MIZAN=target/release/mizan
[[ -f "$OUT/signing.pk8" ]] || "$MIZAN" pack keygen --out "$OUT/signing.pk8" --public-key-out "$OUT/signing.pub"

build() { # build NAME EXTRA-ARGS...
  local name="$1"; shift
  "$MIZAN" pack build --catalog results/data/ml-1m/catalog.csv --interactions results/data/ml-1m/interactions.csv \
    --key "$OUT/signing.pk8" --version 1 --built-at-ms 0 --source "MovieLens-1M (all users)" --out "$OUT/$name.pack" "$@"
}
echo "== EASE (lambda 250) + top-40 pruning + transitions, 3 runs"
for _ in 1 2 3; do build ease --model ease; done
echo "== sequential (lambda 200, next 3 items) + top-40 + 20 successors, pruned and refitted"
build sequential --model sequential --lambda 200
echo "== headline: sequential top-50 + 25 successors + sequence network (128-d, 3 epochs)"
build sequential-network --model sequential --lambda 200 --top-k 50 --transitions-top-k 25 --network-dim 128
echo "== co-occurrence (time-decayed) + transitions"
build cooccurrence --model cooccurrence
echo "== EASE + implicit ALS embeddings (32 factors, 8 iterations)"
build ease-als --model ease --als-factors 32
"$MIZAN" pack verify "$OUT/ease.pack" --public-key "$OUT/signing.pub"

echo "== pack verify + load (criterion)"
MIZAN_BENCH_PACK="$ROOT/$OUT/ease.pack" MIZAN_BENCH_PUBKEY="$ROOT/$OUT/signing.pub" \
  cargo bench -q -p mizan --features packer --bench pack 2>&1 | grep -E "pack size|time:"
MIZAN_BENCH_PACK="$ROOT/$OUT/sequential-network.pack" MIZAN_BENCH_PUBKEY="$ROOT/$OUT/signing.pub" \
  cargo bench -q -p mizan --features packer --bench pack 2>&1 | grep -E "pack size|time:"
echo "== record + recommend, top 10 of 3,883 items (criterion, synthetic pack)"
cargo bench -q -p mizan --features packer --bench recommend 2>&1 | grep -E "^recommend|time:"
