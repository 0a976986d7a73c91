"""Learns what a Mizan catalogue pack needs, on Apache Spark, for interaction
logs that outgrow one machine.

    spark-submit examples/spark/mizan_spark.py \
        --catalog catalog.csv --interactions interactions.csv --out learned/
    mizan pack build --catalog catalog.csv --learned learned/ --key pack.pk8 ...

It computes, with the same definitions as the Rust packer's `llr` model
(`core/src/packer/llr.rs`, `transitions.rs`), so that both give the same lists:

- popularity (interactions per item) and the trend (each interaction counting
  half per `--trend-half-life-days` before the newest one);
- per item, its users and how many came back to it later (the packer marks
  items a quarter of whose users do as consumable);
- per item, its top-K neighbours: co-occurrence in users' baskets (each user's
  `--max-per-user` most recently used distinct items, pairs at most `--window`
  positions apart), scored by Dunning's log-likelihood ratio as Mahout's
  `spark-itemsimilarity` does, weight 1 - 1/(1 + LLR);
- per item, its top-K successors within `--transition-window` steps, weighted
  1/distance and divided by the item's interactions;
- optionally item factors from Spark MLlib's implicit ALS (`--als-factors`).

and writes them as the learned directory `mizan pack build --learned` reads:
`meta.json`, and CSV part directories `items/`, `neighbours/`, `transitions/`
(and `factors/`). The job never sees the signing key: signing happens where
the key is, after the files are copied there.

No n x n matrix is formed: candidate pairs come only from users' baskets (a
self-join per user, capped per user) and from each history's next few steps.
Malformed rows and rows on items outside the catalogue are counted, not fatal.
"""

import argparse
import json
import math
import sys

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import FloatType, LongType, StringType, StructField, StructType

DAY_MS = 86_400_000.0
# Purchases within this long of an order's first are the same order (mizan::repurchase::ORDER_WINDOW_MS).
ORDER_WINDOW_MS = 3_600_000


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--catalog", required=True, help="catalogue CSV with an `id` column (row order is the pack's item order), or Mizan's catalogue JSON")
    p.add_argument("--interactions", required=True, help="interaction table: CSV with header user,item,timestamp_ms, or Parquet (path ending in .parquet)")
    p.add_argument("--out", required=True, help="the learned directory to write")
    p.add_argument("--top-k", type=int, default=40, help="neighbours kept per item")
    p.add_argument("--max-per-user", type=int, default=500, help="distinct items kept per user, the most recent")
    p.add_argument("--window", type=int, default=None, help="basket items co-occur when at most this many positions apart (default: anywhere)")
    p.add_argument("--min-count", type=int, default=2, help="users a pair must co-occur for")
    p.add_argument("--transitions-top-k", type=int, default=20, help="successors kept per item")
    p.add_argument("--transition-window", type=int, default=3, help="steps within which an item counts as following another (1 to 8)")
    p.add_argument("--trend-half-life-days", type=float, default=2.0)
    p.add_argument("--als-factors", type=int, default=0, help="also learn item factors with MLlib implicit ALS (0: none)")
    args = p.parse_args(argv)
    if args.max_per_user < 2 or (args.window is not None and args.window < 1) or not 1 <= args.transition_window <= 8:
        p.error("--max-per-user must be at least 2, --window at least 1, --transition-window 1 to 8")
    if not args.trend_half_life_days > 0:
        p.error("--trend-half-life-days must be positive")
    return args


def catalogue_index(spark: SparkSession, path: str) -> DataFrame:
    """(id, idx): each catalogue item's position in the file, as the packer numbers items."""
    if path.endswith(".json"):
        doc = spark.read.option("multiLine", True).json(path)
        return doc.select(F.posexplode("items").alias("idx", "it")).select(F.col("it.id").alias("id"), F.col("idx").cast(LongType()))
    rows = spark.read.option("header", True).csv(path).select("id").rdd.zipWithIndex()
    return rows.map(lambda r: (r[0][0], r[1])).toDF(StructType([StructField("id", StringType()), StructField("idx", LongType())]))


def read_interactions(spark: SparkSession, path: str) -> DataFrame:
    if path.endswith(".parquet"):
        raw = spark.read.parquet(path).select(F.col("user").cast(StringType()), F.col("item").cast(StringType()), F.col("timestamp_ms").cast(StringType()))
    else:
        schema = StructType([StructField(c, StringType()) for c in ("user", "item", "timestamp_ms")])
        raw = spark.read.option("header", True).option("mode", "PERMISSIVE").schema(schema).csv(path)
    return raw.select("user", "item", F.col("timestamp_ms").try_cast(LongType()).alias("ts"))


def x_log_x(x):
    return F.when(x == 0, F.lit(0.0)).otherwise(x.cast("double") * F.log(x.cast("double")))


def log_likelihood_ratio(k11, k12, k21, k22):
    """Dunning's LLR, summed in the same order as the Rust packer (and Mahout)."""
    row = x_log_x(k11 + k12 + k21 + k22) - (x_log_x(k11 + k12) + x_log_x(k21 + k22))
    column = x_log_x(k11 + k12 + k21 + k22) - (x_log_x(k11 + k21) + x_log_x(k12 + k22))
    matrix = x_log_x(k11 + k12 + k21 + k22) - (((x_log_x(k11) + x_log_x(k12)) + x_log_x(k21)) + x_log_x(k22))
    return F.when(row + column < matrix, F.lit(0.0)).otherwise(F.lit(2.0) * (row + column - matrix))


def strongest(pairs: DataFrame, k: int, other: str) -> DataFrame:
    """The k strongest (as f32, like the packer) per item, ties by the other item's index."""
    pairs = pairs.withColumn("weight", F.col("weight").cast(FloatType())).where(F.col("weight") > 0)
    rank = Window.partitionBy("a").orderBy(F.col("weight").desc(), F.col(other).asc())
    return pairs.withColumn("rank", F.row_number().over(rank)).where(F.col("rank") <= k)


def learn(spark: SparkSession, args) -> dict:
    catalogue = catalogue_index(spark, args.catalog).cache()
    raw = read_interactions(spark, args.interactions)
    valid = raw.where(F.col("user").isNotNull() & F.col("item").isNotNull() & F.col("ts").isNotNull())
    known = valid.join(F.broadcast(catalogue.withColumnRenamed("id", "item")), "item").select("user", "idx", "ts").cache()
    counts = raw.agg(
        F.count(F.lit(1)).alias("rows"),
        F.sum(F.when(F.col("user").isNull() | F.col("item").isNull() | F.col("ts").isNull(), 1).otherwise(0)).alias("bad"),
    ).first()
    interactions = known.count()
    stats = {"rows": counts["rows"], "bad_rows": counts["bad"] or 0, "interactions": interactions}
    stats["unknown_items"] = stats["rows"] - stats["bad_rows"] - interactions
    as_of = known.agg(F.max("ts")).first()[0] or 0

    # Popularity and the trend.
    items = known.groupBy("idx").agg(
        F.count(F.lit(1)).alias("count"),
        F.sum(F.pow(F.lit(0.5), ((F.lit(as_of) - F.col("ts")) / F.lit(DAY_MS)) / F.lit(args.trend_half_life_days))).alias("trend"),
    )

    # Who came back to an item at a later time: what marks it consumable in the pack.
    per_user = known.groupBy("user", "idx").agg(F.min("ts").alias("first"), F.max("ts").alias("last"))
    repeats = per_user.groupBy("idx").agg(
        F.count(F.lit(1)).alias("users"),
        F.sum(F.when(F.col("last") > F.col("first"), 1).otherwise(0)).alias("repeat_users"),
    )
    items = items.join(repeats, "idx")

    # The gaps between one person's orders of an item (a new order begins an hour or more after
    # the last one began), in whole hours rounded to the nearest; their median (the upper one of
    # an even count) is the pack's repurchase prior. Walked in time order, as the packer does.
    times = known.groupBy("user", "idx").agg(F.sort_array(F.collect_list("ts")).alias("ts"))
    walk = (
        "aggregate(slice(ts, 2, size(ts)), named_struct('start', ts[0], 'gaps', cast(array() as array<bigint>)), "
        f"(acc, t) -> if(t - acc.start >= {ORDER_WINDOW_MS}, "
        "named_struct('start', t, 'gaps', concat(acc.gaps, array((t - acc.start + 1800000) div 3600000))), acc)).gaps"
    )
    gaps = times.select("idx", F.explode(F.expr(walk)).alias("gap"))
    medians = gaps.groupBy("idx").agg(F.sort_array(F.collect_list("gap")).alias("g"))
    medians = medians.select("idx", F.expr("element_at(g, cast(size(g) div 2 + 1 as int))").alias("repeat_gap_hours"))
    items = items.join(medians, "idx", "left").fillna(0, ["repeat_gap_hours"])

    # What comes next: the following steps of each chronological history. 1/distance is summed in
    # whole units of 1/lcm(1..window), exactly and in any order, as the packer sums it.
    units = math.lcm(*range(1, args.transition_window + 1))
    order = Window.partitionBy("user").orderBy("ts", "idx")
    steps = known.select(
        "user", F.col("idx").alias("a"),
        F.array(*[F.struct(F.lead("idx", d).over(order).alias("b"), F.lit(units // d).cast(LongType()).alias("w")) for d in range(1, args.transition_window + 1)]).alias("next"),
    )
    follows = steps.select("a", F.explode("next").alias("n")).select("a", F.col("n.b").alias("b"), F.col("n.w").alias("w"))
    follows = follows.where(F.col("b").isNotNull() & (F.col("a") != F.col("b")))
    item_counts = items.select(F.col("idx").alias("a"), F.col("count"))
    transitions = (
        follows.groupBy("a", "b").agg(F.sum("w").alias("w"))
        .join(item_counts, "a")
        .select("a", "b", ((F.col("w").cast("double") / F.lit(float(units))) / F.col("count").cast("double")).alias("weight"))
    )
    transitions = strongest(transitions, args.transitions_top_k, "b")

    # Baskets: each user's most recently used distinct items, in order of latest use.
    last_use = known.groupBy("user", "idx").agg(F.max("ts").alias("last"))
    recent_first = Window.partitionBy("user").orderBy(F.col("last").desc(), F.col("idx").desc())
    baskets = last_use.withColumn("back", F.row_number().over(recent_first)).where(F.col("back") <= args.max_per_user)
    baskets = baskets.select("user", "idx", (-F.col("back")).alias("pos")).cache()
    users = baskets.select("user").distinct().count()
    holders = baskets.groupBy("idx").agg(F.count(F.lit(1)).alias("n"))
    x, y = baskets.alias("x"), baskets.alias("y")
    condition = (F.col("x.user") == F.col("y.user")) & (F.col("x.pos") < F.col("y.pos"))
    if args.window is not None:
        condition = condition & (F.col("y.pos") - F.col("x.pos") <= args.window)
    pairs = x.join(y, condition).select(F.col("x.idx").alias("a"), F.col("y.idx").alias("b"))
    both_ways = pairs.unionByName(pairs.select(F.col("b").alias("a"), F.col("a").alias("b")))
    co = both_ways.groupBy("a", "b").agg(F.count(F.lit(1)).alias("k11")).where(F.col("k11") >= args.min_count)
    co = (
        co.join(holders.select(F.col("idx").alias("a"), F.col("n").alias("na")), "a")
        .join(holders.select(F.col("idx").alias("b"), F.col("n").alias("nb")), "b")
    )
    k11, k12, k21 = F.col("k11"), F.col("na") - F.col("k11"), F.col("nb") - F.col("k11")
    k22 = F.lit(users) - k11 - k12 - k21
    llr = log_likelihood_ratio(k11, k12, k21, k22)
    neighbours = co.select("a", "b", (F.lit(1.0) - F.lit(1.0) / (F.lit(1.0) + llr)).alias("weight"))
    neighbours = strongest(neighbours, args.top_k, "b")

    ids = catalogue.select(F.col("idx"), F.col("id"))
    a_ids, b_ids = ids.withColumnRenamed("idx", "a").withColumnRenamed("id", "item"), ids.withColumnRenamed("idx", "b")
    columns = ["count", "trend", "users", "repeat_users", "repeat_gap_hours"]
    write_csv(items.join(ids, "idx").select(F.col("id").alias("item"), *columns), args.out + "/items")
    write_csv(neighbours.join(a_ids, "a").join(b_ids, "b").select("item", F.col("id").alias("neighbour"), "weight"), args.out + "/neighbours")
    write_csv(transitions.join(a_ids, "a").join(b_ids, "b").select("item", F.col("id").alias("next"), "weight"), args.out + "/transitions")
    if args.als_factors > 0:
        write_factors(known, ids, args)

    meta = {"model": "llr", "trend_as_of_ms": as_of, "users": users, **stats, "settings": {k: v for k, v in vars(args).items() if k not in ("catalog", "interactions", "out")}}
    write_text(spark, args.out + "/meta.json", json.dumps(meta, indent=2))
    return meta


def write_factors(known: DataFrame, ids: DataFrame, args):
    from pyspark.ml.recommendation import ALS

    users = known.select("user").distinct().withColumn("u", F.dense_rank().over(Window.orderBy("user")) - 1)
    ratings = known.join(users, "user").groupBy("u", F.col("idx").cast("int").alias("i")).agg(F.count(F.lit(1)).cast("float").alias("r"))
    als = ALS(rank=args.als_factors, implicitPrefs=True, userCol="u", itemCol="i", ratingCol="r", seed=1, coldStartStrategy="drop")
    factors = als.fit(ratings).itemFactors.select(F.col("id").cast(LongType()).alias("idx"), "features")
    # Items nobody used get zero factors: every catalogue item needs a row.
    zeros = F.array_repeat(F.lit(0.0).cast(FloatType()), args.als_factors)
    factors = ids.join(factors, "idx", "left").select("id", F.coalesce("features", zeros).alias("features"))
    rows = factors.select(F.col("id").alias("item"), F.concat(F.lit("["), F.concat_ws(", ", F.col("features").cast("array<string>")), F.lit("]")).alias("f"))
    rows.write.mode("overwrite").option("header", False).csv(args.out + "/factors")


def write_csv(df: DataFrame, path: str):
    df.write.mode("overwrite").option("header", True).csv(path)


def write_text(spark: SparkSession, path: str, text: str):
    """Writes one small file through Hadoop's file system API, so any cluster store works."""
    jvm = spark.sparkContext._jvm
    target = jvm.org.apache.hadoop.fs.Path(path)
    stream = target.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).create(target, True)
    stream.write(bytearray(text.encode("utf-8")))
    stream.close()


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    spark = SparkSession.builder.appName("mizan-learn").getOrCreate()
    meta = learn(spark, args)
    print(json.dumps({k: meta[k] for k in ("interactions", "users", "bad_rows", "unknown_items")}))


if __name__ == "__main__":
    main()
