#!/usr/bin/env python3
"""Per-user ranking time side by side, on the strong split files that `mizan eval`
wrote (train.csv, cases.csv, results.json): dense EASE in numpy (the person's
row of the item-item matrix summed over their history, then top 20 unseen) and
implicit's ALS `recommend` (user folded in from their history), each timed user
by user on one core, against the engine's own `recommend` per user (measured
by `mizan eval` through the public API: `us_per_recommend` for the first call
of a fresh engine, `us_per_warm_recommend` for the same call again). Model fitting is
excluded on every side. Prints a Markdown table.
Usage: bench-peers.py <eval out dir> [--warm-calls N] [--cold-cache]
With the flags `mizan eval` takes of the same names, each peer's call is also
asked N times per user (the mean of each repeat by its place is printed, and
dense EASE's time over the engine's at each place), after the processor's
caches are evicted when asked to.
"""
import os

# One core for every peer, as the engine's calls are timed one per core.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from peers import load, metrics, top_unseen  # noqa: E402


def per_user(cases, rank, calls=1, cold_cache=False):
    """Mean µs of `rank(history)` per case for each of `calls` repeats (after
    evicting the caches when `cold_cache`), and the ranked lists. No repeat's
    time includes freeing an earlier answer."""
    ranked, totals = [], [0.0] * calls
    eviction = np.zeros(64 << 20, dtype=np.uint8) if cold_cache else None
    for _, history in cases:
        if cold_cache:
            eviction[::64] += 1
        for n in range(calls):
            ranking = None
            started = time.perf_counter()
            ranking = rank(history)
            totals[n] += time.perf_counter() - started
        ranked.append(ranking)
    return [t / len(cases) * 1e6 for t in totals], ranked


def main():
    parser = argparse.ArgumentParser(description="Per-user ranking time of the peers beside the engine's.")
    parser.add_argument("out", type=pathlib.Path, help="the `mizan eval` out dir")
    parser.add_argument("--warm-calls", type=int, default=1, choices=range(1, 101), metavar="1..100", help="calls per user, each timed")
    parser.add_argument("--cold-cache", action="store_true", help="evict the processor's caches before the first call")
    args = parser.parse_args()
    out, calls, cold_cache = args.out, args.warm_calls, args.cold_cache
    train, cases = load(out)
    n_items = max(int(train[:, 1].max()), max(t for t, _ in cases), max((max(h) for _, h in cases if h), default=0)) + 1
    n_users = int(train[:, 0].max()) + 1
    x = sp.csr_matrix((np.ones(len(train), dtype=np.float32), (train[:, 0], train[:, 1])), shape=(n_users, n_items))
    x.data[:] = 1.0

    gram = (x.T @ x).toarray().astype(np.float64)
    gram[np.diag_indices(n_items)] += 250.0
    p = np.linalg.inv(gram)
    b = -p / np.diag(p)
    b[np.diag_indices(n_items)] = 0.0
    ease_us, ease_ranked = per_user(cases, lambda h: top_unseen(b[h].sum(axis=0), h), calls, cold_cache)

    from implicit.als import AlternatingLeastSquares
    model = AlternatingLeastSquares(factors=64, regularization=0.05, iterations=15, random_state=7, num_threads=1)
    model.fit(x, show_progress=False)

    def als(history):
        row = sp.csr_matrix((np.ones(len(history), dtype=np.float32), (np.zeros(len(history), dtype=np.int64), history)), shape=(1, n_items))
        ids, _ = model.recommend(0, row, N=20, filter_already_liked_items=True, recalculate_user=True)
        return ids

    als_us, als_ranked = per_user(cases, als, calls, cold_cache)

    rows = json.loads((out / "results.json").read_text())
    engine = [r for r in rows if r.get("us_per_recommend") is not None and r["split"] == "strong (test)"]
    print(f"| Method ({len(cases)} users, strong test split) | µs per user | HR@10 |")
    print("|---|---|---|")
    for r in engine:
        print(f'| {r["method"]}: first `recommend` of a fresh engine | {r["us_per_recommend"]:.0f} | {r["hr10"]:.4f} |')
        if r.get("us_per_warm_recommend") is not None:
            state = "from cold caches" if cold_cache else "an engine kept open"
            print(f'| {r["method"]}: the same `recommend` again ({state}) | {r["us_per_warm_recommend"]:.0f} | {r["hr10"]:.4f} |')
    print(f"| Dense EASE in numpy (λ=250): matrix-vector + top 20 | {ease_us[0]:.0f} | {metrics(cases, ease_ranked)['hr10']:.4f} |")
    print(f"| implicit ALS `recommend` (64 factors, user folded in) | {als_us[0]:.0f} | {metrics(cases, als_ranked)['hr10']:.4f} |")
    if calls > 1:
        cold = ", the caches evicted before the first" if cold_cache else ""
        print(f"\nµs per call, by its place among {calls} repeats per user{cold}:\n")
        repeated = [r for r in engine if r.get("us_per_repeat")]
        for r in repeated:
            print(f'- {r["method"]}: {" · ".join(f"{v:.0f}" for v in r["us_per_repeat"])}')
        print(f'- Dense EASE: {" · ".join(f"{v:.0f}" for v in ease_us)}')
        print(f'- implicit ALS: {" · ".join(f"{v:.0f}" for v in als_us)}')
        print("\nDense EASE's time over the engine's, by place (the ≥ 10× target):\n")
        for r in repeated:
            print(f'- {r["method"]}: {" · ".join(f"{e / m:.2f}×" for e, m in zip(ease_us, r["us_per_repeat"]))}')
    for r in (r for r in engine if r.get("us_per_answer_drop") is not None):
        print(f'\n{r["method"]}: dropping an answer took {r["us_per_answer_drop"]:.1f} µs (in no time above, as no peer\'s time includes freeing its answer)')


if __name__ == "__main__":
    main()
