#!/usr/bin/env python3
"""Python peers on the split files written by `mizan eval` (strong generalisation,
test): implicit ALS (PyPI `implicit`, users folded in from their history) and
EASE in numpy. Merges them with the Rust results into one table (report.md) and
draws the chart (chart.svg). Usage: peers.py <eval out dir> <dataset name>
"""
import json
import pathlib
import sys
import time

import numpy as np
import scipy.sparse as sp


def load(out: pathlib.Path):
    train = np.loadtxt(out / "train.csv", delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
    cases = []
    with open(out / "cases.csv") as f:
        next(f)
        for line in f:
            _, target, history = line.rstrip("\n").split(",")
            cases.append((int(target), [int(i) for i in history.split()]))
    return train, cases


def metrics(cases, ranked):
    hr10 = ndcg10 = hr20 = 0.0
    for (target, _), rec in zip(cases, ranked):
        rec = list(rec)
        if target in rec[:20]:
            hr20 += 1
        if target in rec[:10]:
            pos = rec.index(target)
            hr10 += 1
            ndcg10 += 1.0 / np.log2(pos + 2)
    n = len(cases)
    return {"hr10": hr10 / n, "ndcg10": ndcg10 / n, "hr20": hr20 / n, "users": n}


def top_unseen(scores, history, k=20):
    scores = scores.copy()
    scores[history] = -np.inf
    top = np.argpartition(-scores, k)[:k]
    return top[np.lexsort((top, -scores[top]))]


def main():
    out, dataset = pathlib.Path(sys.argv[1]), sys.argv[2]
    train, cases = load(out)
    rows = json.loads((out / "results.json").read_text())
    n_items = max(int(train[:, 1].max()), max(t for t, _ in cases), max((max(h) for _, h in cases if h), default=0)) + 1
    n_users = int(train[:, 0].max()) + 1
    x = sp.csr_matrix((np.ones(len(train), dtype=np.float32), (train[:, 0], train[:, 1])), shape=(n_users, n_items))
    x.data[:] = 1.0

    peers = []
    started = time.time()
    gram = (x.T @ x).toarray().astype(np.float64)
    gram[np.diag_indices(n_items)] += 250.0
    p = np.linalg.inv(gram)
    b = -p / np.diag(p)
    b[np.diag_indices(n_items)] = 0.0
    ranked = [top_unseen(np.asarray(b[h].sum(axis=0)).ravel(), h) for _, h in cases]
    peers.append(("EASE in numpy (λ=250, peer)", metrics(cases, ranked), time.time() - started))

    from implicit.als import AlternatingLeastSquares
    started = time.time()
    model = AlternatingLeastSquares(factors=64, regularization=0.05, iterations=15, random_state=7)
    model.fit(x, show_progress=False)
    rows_csr = sp.csr_matrix(
        (np.ones(sum(len(h) for _, h in cases), dtype=np.float32),
         (np.repeat(np.arange(len(cases)), [len(h) for _, h in cases]), np.concatenate([h for _, h in cases]))),
        shape=(len(cases), n_items))
    ids, _ = model.recommend(np.arange(len(cases)), rows_csr, N=20, filter_already_liked_items=True, recalculate_user=True)
    peers.append(("implicit ALS (64 factors, peer)", metrics(cases, ids), time.time() - started))

    for name, m, seconds in peers:
        rows.append({"split": "strong (test)", "method": name, **m, "fit_seconds": round(seconds, 2)})
    (out / "results-with-peers.json").write_text(json.dumps(rows, indent=2))

    head = "| Split | Method | HR@10 | NDCG@10 | HR@20 | Cov@10 | ILD@10 | Novelty | HR@10 gap≥1h (n) | Pack | ms/user |\n"
    head += "|---|---|---|---|---|---|---|---|---|---|---|\n"
    lines = []
    for r in rows:
        gap = f'{r["hr10_gap1h"]:.4f} ({r["users_gap1h"]})' if "hr10_gap1h" in r else ""
        extra = lambda key, fmt: fmt.format(r[key]) if r.get(key) is not None else ""
        lines.append(f'| {r["split"]} | {r["method"]} | {r["hr10"]:.4f} | {r["ndcg10"]:.4f} | {r["hr20"]:.4f} | '
                     f'{extra("coverage10", "{:.3f}")} | {extra("ild10", "{:.3f}")} | {extra("novelty10", "{:.2f}")} | {gap} | '
                     f'{extra("pack_bytes", "{:,} B")} | {extra("ms_per_user", "{:.2f}")} |')
    text = (out / "results.md").read_text()
    protocol = text.split("\n|")[0]
    sections = text[text.index("\n## "):] if "\n## " in text else ""
    (out / "report.md").write_text(f"{protocol}\n{head}" + "\n".join(lines) + "\n" + sections)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    test = [r for r in rows if r["split"] == "strong (test)"]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ypos = np.arange(len(test))
    ax.barh(ypos - 0.2, [r["hr10"] for r in test], height=0.4, label="HR@10")
    ax.barh(ypos + 0.2, [r["ndcg10"] for r in test], height=0.4, label="NDCG@10")
    ax.set_yticks(ypos, [r["method"] for r in test], fontsize=8)
    ax.invert_yaxis()
    ax.set_title(f"{dataset}: strong generalisation, leave-last-out test, full ranking")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "chart.svg")
    curve = [r for r in rows if r["split"].startswith("trade-off")]
    if curve:
        fig, ax = plt.subplots(figsize=(6, 4.5))
        ax.plot([r["ild10"] for r in curve], [r["hr10"] for r in curve], "o")
        for r in curve:
            ax.annotate(r["method"].replace("Mizan, ", ""), (r["ild10"], r["hr10"]), fontsize=7)
        ax.set_xlabel("intra-list diversity @10")
        ax.set_ylabel("HR@10")
        ax.set_title(f"{dataset}: accuracy / diversity trade-off (strong test)")
        fig.tight_layout()
        fig.savefig(out / "tradeoff.svg")
    sizes = [r for r in rows if r["split"].startswith("pack size")]
    if sizes:
        fig, ax = plt.subplots(figsize=(6, 4.5))
        ax.plot([r["pack_bytes"] / 1e6 for r in sizes], [r["hr10"] for r in sizes], "o-")
        ax.axvline(2.0, color="grey", linestyle=":", label="2 MB budget")
        ax.set_xlabel("signed pack size (MB, int8 weights)")
        ax.set_ylabel("HR@10")
        ax.set_title(f"{dataset}: pack size against HR@10 (strong test)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "pack-size.svg")
    print((out / "report.md").read_text())


if __name__ == "__main__":
    main()
