"""android/scripts/check-so-alignment.py tells 16 KB-aligned libraries from 4 KB-aligned ones,
loose and inside archives (as in an AAR), on libraries linked here with gcc both ways."""
import importlib.util
import shutil
import subprocess
import tempfile
import unittest
import zipfile
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "android" / "scripts" / "check-so-alignment.py"
spec = importlib.util.spec_from_file_location("check_so_alignment", SCRIPT)
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)


@unittest.skipUnless(shutil.which("gcc"), "needs gcc")
class AlignmentTest(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        (self.dir / "f.c").write_text("int f(void) { return 42; }\n")
        self.aligned = self.link("aligned.so", 16384)
        self.loose = self.link("loose.so", 4096)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def link(self, name, page):
        out = self.dir / name
        subprocess.run(["gcc", "-shared", "-fPIC", f"-Wl,-z,max-page-size={page}", "-Wl,-z,common-page-size=4096",
                        "-o", str(out), str(self.dir / "f.c")], check=True)
        return out

    def test_alignment_is_read_from_the_program_headers(self):
        self.assertEqual(check.load_alignment(self.aligned.read_bytes()), (64, 16384))
        self.assertEqual(check.load_alignment(self.loose.read_bytes()), (64, 4096))
        self.assertIsNone(check.load_alignment(b"not an ELF file at all" * 4))

    def test_an_archive_with_a_loose_library_fails_and_one_without_passes(self):
        good, bad = self.dir / "good.aar", self.dir / "bad.aar"
        with zipfile.ZipFile(good, "w") as z:
            z.write(self.aligned, "jni/arm64-v8a/libmizan_ffi.so")
        with zipfile.ZipFile(bad, "w") as z:
            z.write(self.aligned, "jni/arm64-v8a/libmizan_ffi.so")
            z.write(self.loose, "jni/arm64-v8a/libjnidispatch.so")
        self.assertEqual(check.main([str(good)]), 0)
        self.assertEqual(check.main([str(bad)]), 1)
        self.assertEqual(check.main([str(self.dir / "empty-dir-none-here")]), 1, "finding nothing is a failure")


if __name__ == "__main__":
    unittest.main()
