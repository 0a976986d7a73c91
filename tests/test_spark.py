"""One answer, two engines: the Spark job (examples/spark/mizan_spark.py, Spark
local[2]) and the Rust packer (`mizan pack learn --model llr`) learn the same
neighbour lists, successors, popularity and trend from the same log, and the
packs `mizan pack build --learned` signs from either are byte-identical.

Run through examples/spark/test.sh (it installs pyspark and sets MIZAN_BIN).
"""

import csv
import glob
import json
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples", "spark"))

import mizan_spark  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402

MIZAN = os.environ.get("MIZAN_BIN", os.path.join(ROOT, "target", "debug", "mizan"))


def mizan(*args):
    return subprocess.run([MIZAN, *args], check=True, capture_output=True, text=True)


def table(directory, name):
    """A learned table's rows: `name.csv` or the parts in `name/`."""
    single = os.path.join(directory, name + ".csv")
    files = [single] if os.path.isfile(single) else sorted(glob.glob(os.path.join(directory, name, "*.csv")))
    rows = []
    for path in files:
        with open(path, newline="") as f:
            rows += list(csv.DictReader(f))
    return rows


class SparkJobAgreesWithThePacker(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        data = os.path.join(cls.dir, "data")
        mizan("pack", "synth-log", "--items", "300", "--per-item", "20", "--seed", "7", "--out", data)
        cls.catalog = os.path.join(data, "catalog.csv")
        cls.log = os.path.join(data, "interactions.csv")
        with open(cls.log, "a") as f:
            f.write("u1,i3,soon\nu2\nu3,not-in-the-catalogue,5\n")
        mizan("pack", "keygen", "--out", os.path.join(cls.dir, "k.pk8"), "--public-key-out", os.path.join(cls.dir, "k.pub"))
        cls.spark = (
            SparkSession.builder.master("local[2]")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
        cls.spark.sparkContext.setLogLevel("ERROR")

    @classmethod
    def tearDownClass(cls):
        cls.spark.stop()
        cls.tmp.cleanup()

    def learn_both(self, name, *settings):
        rust, spark = os.path.join(self.dir, name + "-rust"), os.path.join(self.dir, name + "-spark")
        mizan("pack", "learn", "--model", "llr", "--catalog", self.catalog, "--interactions", self.log, "--out", rust, *settings)
        args = mizan_spark.parse_args(["--catalog", self.catalog, "--interactions", self.log, "--out", spark, *settings])
        meta = mizan_spark.learn(self.spark, args)
        return rust, spark, meta

    def assert_same_lists(self, rust, spark):
        for name, other in [("neighbours", "neighbour"), ("transitions", "next")]:
            ours = {(r["item"], r[other]): float(r["weight"]) for r in table(rust, name)}
            theirs = {(r["item"], r[other]): float(r["weight"]) for r in table(spark, name)}
            self.assertGreater(len(ours), 1000, name)
            self.assertEqual(ours.keys(), theirs.keys(), name)
            for pair, weight in ours.items():
                self.assertAlmostEqual(weight, theirs[pair], delta=1e-6 * weight, msg=f"{name} {pair}")
        row = lambda r: (float(r["count"]), float(r["trend"]), int(r["users"]), int(r["repeat_users"]), int(r["repeat_gap_hours"]))
        ours = {r["item"]: row(r) for r in table(rust, "items")}
        theirs = {r["item"]: row(r) for r in table(spark, "items")}
        self.assertEqual({k for k, v in ours.items() if v[0] > 0}, theirs.keys())
        for item, (count, trend, users, repeaters, gap) in theirs.items():
            self.assertEqual((ours[item][0], ours[item][2], ours[item][3], ours[item][4]), (count, users, repeaters, gap), item)
            self.assertAlmostEqual(ours[item][1], trend, delta=1e-9 * max(trend, 1e-300), msg=item)
        self.assertTrue(any(v[3] > 0 for v in theirs.values()), "some items are used again")
        self.assertTrue(any(v[4] > 0 for v in theirs.values()), "some come back an hour or more later")

    def build(self, learned, out, *extra):
        path = os.path.join(self.dir, out)
        key = os.path.join(self.dir, "k.pk8")
        mizan("pack", "build", "--catalog", self.catalog, "--learned", learned, "--key", key, "--version", "1", "--built-at-ms", "0", "--out", path, *extra)
        with open(path, "rb") as f:
            return f.read()

    def test_same_lists_and_byte_identical_packs(self):
        rust, spark, meta = self.learn_both("basket")
        self.assert_same_lists(rust, spark)
        self.assertEqual(self.build(rust, "rust.pack"), self.build(spark, "spark.pack"))
        self.assertEqual((meta["bad_rows"], meta["unknown_items"], meta["interactions"]), (2, 1, 6000))
        with open(os.path.join(spark, "meta.json")) as f:
            self.assertEqual(json.load(f)["model"], "llr")

    def test_capped_windowed_baskets_agree_too(self):
        settings = ("--max-per-user", "12", "--window", "3", "--min-count", "1", "--top-k", "10", "--transitions-top-k", "5")
        rust, spark, _ = self.learn_both("capped", *settings)
        self.assert_same_lists(rust, spark)
        self.assertEqual(self.build(rust, "rust-capped.pack"), self.build(spark, "spark-capped.pack"))

    def test_a_parquet_table_gives_what_the_csv_gives(self):
        parquet = os.path.join(self.dir, "interactions.parquet")
        self.spark.read.option("header", True).csv(self.log).write.parquet(parquet)
        learned = {}
        for name, source in [("csv", self.log), ("parquet", parquet)]:
            learned[name] = os.path.join(self.dir, "from-" + name)
            mizan_spark.learn(self.spark, mizan_spark.parse_args(["--catalog", self.catalog, "--interactions", source, "--out", learned[name]]))
        self.assertEqual(self.build(learned["csv"], "csv.pack"), self.build(learned["parquet"], "parquet.pack"))

    def test_mllib_factors_become_the_packs_embeddings(self):
        out = os.path.join(self.dir, "als")
        args = mizan_spark.parse_args(["--catalog", self.catalog, "--interactions", self.log, "--out", out, "--als-factors", "4"])
        mizan_spark.learn(self.spark, args)
        rows = []
        for part in sorted(glob.glob(os.path.join(out, "factors", "*.csv"))):
            with open(part, newline="") as f:
                rows += list(csv.reader(f))
        self.assertEqual(len(rows), 300, "every catalogue item has factors")
        plain, with_factors = self.build(out, "plain.pack"), self.build(out, "als.pack", "--factors", os.path.join(out, "factors"))
        self.assertGreater(len(with_factors), len(plain) + 300 * 4)


class SparkSubmitRunsTheJob(unittest.TestCase):
    def test_spark_submit_runs_the_job_unchanged(self):
        venv = os.environ.get("SPARK_VENV", os.path.dirname(os.path.dirname(sys.executable)))
        with tempfile.TemporaryDirectory() as d:
            catalog, log = os.path.join(d, "catalog.csv"), os.path.join(d, "log.csv")
            with open(catalog, "w") as f:
                f.write("id,title\na,A\nb,B\nc,C\n")
            with open(log, "w") as f:
                # a and b go together for half the users; the other half use c alone.
                f.write("user,item,timestamp_ms\n" + "".join(f"u{u},{i},{u * 10 + k}\n" for u in range(12) for k, i in enumerate("ab" if u < 6 else "c")))
            job = os.path.join(ROOT, "examples", "spark", "mizan_spark.py")
            run = subprocess.run(
                [os.path.join(venv, "bin", "spark-submit"), "--master", "local[2]", "--conf", "spark.ui.showConsoleProgress=false", job, "--catalog", catalog, "--interactions", log, "--out", os.path.join(d, "out")],
                capture_output=True, text=True,
                env={**os.environ, "PATH": os.path.join(venv, "bin") + os.pathsep + os.environ["PATH"], "PYSPARK_PYTHON": sys.executable},
            )
            self.assertEqual(run.returncode, 0, run.stderr[-2000:])
            self.assertEqual(json.loads(run.stdout.strip().splitlines()[-1])["interactions"], 18)
            self.assertTrue(table(os.path.join(d, "out"), "neighbours"))


if __name__ == "__main__":
    unittest.main()
