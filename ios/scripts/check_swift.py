#!/usr/bin/env python3
"""Static checks of uniffi-generated Swift bindings, for machines without a Swift compiler.

Usage: check_swift.py --lib target/debug/libmizan_ffi.so --dir ios/build/generated/swift

Check groups (each prints PASS/FAIL lines; the last line is "swift: N passed, M failed"):
  parse     every *.swift parses with tree-sitter-swift: no ERROR and no MISSING node
            (`@_documentation(visibility: private)`, unknown to the grammar, is blanked first)
  header    every *.h compiles: gcc -fsyntax-only -D_Nullable= -D_Nonnull= -x c;
            every *.modulemap names headers that exist
  symbols   every uniffi_* / ffi_* symbol the Swift or the header references is exported by the
            library (nm -D --defined-only)
  checksums the contract version and every API checksum the Swift expects equal what the library
            returns, called through ctypes (return types taken from the header's prototypes)
  wrappers  every call the hand-written Swift in ios/Sources/Mizan makes on the engine (`self.f(a:b:)`,
            `Engine.f(a:)`) names a method the generated bindings declare, with the same labels (the
            hand-written files are parsed with the generated ones)
  privacy   ios/Sources/Mizan/PrivacyInfo.xcprivacy is a property list declaring no tracking, no
            tracking domains, nothing collected, and a documented reason for each required-reason
            API the store uses; the root Package.swift bundles it as a resource of the Mizan target
  tests     the XCTest tests (ios/Tests) parse, every engine call they make names a method the
            bindings declare with the same labels, and every record they build passes labels its
            initialiser has, in its order, with every one that has no default
  samples   the sample apps: examples/ios parses and is checked like the tests; the Android-only
            Kotlin of examples/android (Application, Activity, Keystore: no Android SDK here)
            parses with tree-sitter-kotlin (its JVM part is compiled and tested by test-jvm.sh)
  purposes  the constants of ios/Sources/Mizan/Purpose.swift are exactly the core's built-in
            purposes (core/src/consent.rs)
  committed ios/Sources/Mizan/mizan_ffi.swift (committed, so that the package builds from the
            repository) is exactly what the bindings generate now
  package   the root Package.swift parses and takes the XCFramework by URL and checksum;
            package-xcframework.sh zips a (stand-in) XCFramework with its checksum, and
            set-package-release.py puts tag, URL and that checksum into a copy of Package.swift

Needs: python packages tree-sitter and tree-sitter-swift, gcc, nm.
"""
from __future__ import annotations

import argparse
import ctypes
import re
import subprocess
import sys
from pathlib import Path

DOC_ATTR = re.compile(r"@_documentation\s*\(\s*visibility\s*:\s*\w+\s*\)")
# `{ () }`, a closure returning the empty tuple: valid Swift (uniffi writes it for callback methods
# that return nothing) that the pinned tree-sitter-swift grammar does not parse; checked as `{ }`.
VOID_CLOSURE = re.compile(r"\{ \(\) \}")
SYMBOL = re.compile(r"\b(?:uniffi|ffi)_[A-Za-z0-9_]+\b")
# A prototype in the generated header: "<ret type> <name>(" at the start of a line.
PROTOTYPE = re.compile(r"^\s*((?:const\s+)?[A-Za-z_]\w*(?:\s*\*+\s*(?:_Nullable|_Nonnull)?)?)\s+"
                       r"((?:uniffi|ffi)_\w+)\s*\(", re.M)
CONTRACT_EXPECTED = re.compile(r"\blet\s+bindings_contract_version\s*=\s*(\d+)")
CONTRACT_FN = re.compile(r"\blet\s+scaffolding_contract_version\s*=\s*((?:uniffi|ffi)_\w+)\s*\(\s*\)")
CHECKSUM = re.compile(r"\b(uniffi_\w+_checksum_\w+)\s*\(\s*\)\s*!=\s*(\d+)")
CTYPES = {
    "uint8_t": ctypes.c_uint8, "int8_t": ctypes.c_int8,
    "uint16_t": ctypes.c_uint16, "int16_t": ctypes.c_int16,
    "uint32_t": ctypes.c_uint32, "int32_t": ctypes.c_int32,
    "uint64_t": ctypes.c_uint64, "int64_t": ctypes.c_int64,
}


class Report:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def ok(self, group: str, what: str) -> None:
        self.passed += 1
        print(f"PASS [{group}] {what}")

    def fail(self, group: str, what: str, details: list[str] | str = ()) -> None:
        self.failed += 1
        print(f"FAIL [{group}] {what}")
        for line in ([details] if isinstance(details, str) else details):
            print(f"     {line}")


def check_parse(rep: Report, swift_files: list[Path]) -> None:
    try:
        import tree_sitter
        import tree_sitter_swift
    except ImportError as e:  # pragma: no cover - environment problem
        rep.fail("parse", "tree-sitter-swift is not importable", str(e))
        return
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))
    for path in swift_files:
        text = path.read_text(encoding="utf-8")
        # Same length, newlines kept: reported lines and columns stay those of the real file.
        blanked = DOC_ATTR.sub(lambda m: " " * len(m.group(0)), text)
        blanked = VOID_CLOSURE.sub("{    }", blanked)
        src = blanked.encode("utf-8")
        tree = parser.parse(src)
        problems: list[str] = []
        lines = text.splitlines()
        cursor = tree.walk()
        visited_children = False
        while True:  # iterative pre-order walk; stop descending into an ERROR node
            node = cursor.node
            if not visited_children and (node.is_error or node.is_missing):
                row, col = node.start_point
                kind = f"MISSING {node.type}" if node.is_missing else "ERROR"
                snippet = lines[row].strip() if row < len(lines) else ""
                problems.append(f"{path.name}:{row + 1}:{col + 1}: {kind}: {snippet[:160]}")
                visited_children = True  # do not report the ERROR node's insides
            if not visited_children and cursor.goto_first_child():
                continue
            if cursor.goto_next_sibling():
                visited_children = False
                continue
            if not cursor.goto_parent():
                break
            visited_children = True
        if tree.root_node.has_error and not problems:
            problems.append(f"{path.name}: tree has errors (no single node located)")
        if problems:
            rep.fail("parse", f"{path.name} ({len(lines)} lines)", problems[:50] +
                     ([f"... {len(problems) - 50} more"] if len(problems) > 50 else []))
        else:
            rep.ok("parse", f"{path.name} ({len(lines)} lines, no ERROR/MISSING node)")


def swift_parses(text: str) -> bool:
    """Whether `text` parses with tree-sitter-swift without an error node."""
    import tree_sitter
    import tree_sitter_swift
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))
    return not parser.parse(text.encode("utf-8")).root_node.has_error


def check_headers(rep: Report, headers: list[Path], modulemaps: list[Path]) -> None:
    for h in headers:
        # Included from a translation unit (twice, to exercise the include guards) rather than given
        # as the main file, which only adds gcc's "#pragma once in main file" warning.
        cmd = ["gcc", "-fsyntax-only", "-std=c11", "-Wall", "-D_Nullable=", "-D_Nonnull=",
               "-I", str(h.parent), "-x", "c", "-"]
        tu = f'#include "{h.name}"\n#include "{h.name}"\n'
        res = subprocess.run(cmd, input=tu, capture_output=True, text=True)
        if res.returncode == 0:
            rep.ok("header", f"{h.name} compiles (gcc -fsyntax-only)")
        else:
            rep.fail("header", f"{h.name} does not compile", (res.stderr or res.stdout).strip().splitlines()[:40])
    for mm in modulemaps:
        text = mm.read_text(encoding="utf-8")
        named = re.findall(r'\bheader\s+"([^"]+)"', text)
        missing = [n for n in named if not (mm.parent / n).is_file()]
        if not named:
            rep.fail("header", f"{mm.name} names no header")
        elif missing:
            rep.fail("header", f"{mm.name} names missing headers", missing)
        else:
            rep.ok("header", f"{mm.name} -> {', '.join(named)}")


def exported_symbols(lib: Path) -> set[str]:
    res = subprocess.run(["nm", "-D", "--defined-only", str(lib)], capture_output=True, text=True, check=True)
    syms = set()
    for line in res.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            syms.add(parts[2].split("@")[0])
    return syms


def check_symbols(rep: Report, lib: Path, files: list[Path], exported: set[str]) -> None:
    for f in files:
        text = f.read_text(encoding="utf-8")
        if f.suffix == ".swift":
            text = re.sub(r"//[^\n]*", "", text)  # ignore mentions in comments
        refs = sorted(set(SYMBOL.findall(text)))
        missing = [s for s in refs if s not in exported]
        if not refs:
            rep.fail("symbols", f"{f.name} references no uniffi_/ffi_ symbol (unexpected)")
        elif missing:
            rep.fail("symbols", f"{f.name}: {len(missing)} of {len(refs)} symbols not exported by {lib.name}",
                     missing[:50])
        else:
            rep.ok("symbols", f"{f.name}: all {len(refs)} referenced symbols exported by {lib.name}")


def check_checksums(rep: Report, lib: Path, swift_files: list[Path], headers: list[Path],
                    exported: set[str]) -> None:
    ret_types: dict[str, str] = {}
    for h in headers:
        for ret, name in PROTOTYPE.findall(h.read_text(encoding="utf-8")):
            ret_types[name] = ret.strip()
    try:
        dll = ctypes.CDLL(str(lib.resolve()))
    except OSError as e:
        rep.fail("checksums", f"cannot load {lib} with ctypes", str(e))
        return

    def call(name: str, default: str) -> int:
        ctype = CTYPES.get(ret_types.get(name, default))
        if ctype is None:
            raise TypeError(f"{name} returns {ret_types.get(name)!r} in the header, not an integer")
        fn = getattr(dll, name)
        fn.restype = ctype
        fn.argtypes = []
        return int(fn())

    seen_checksums: set[str] = set()
    for sf in swift_files:
        text = sf.read_text(encoding="utf-8")
        exp = CONTRACT_EXPECTED.search(text)
        fn = CONTRACT_FN.search(text)
        if not exp or not fn:
            rep.fail("checksums", f"{sf.name}: contract version check not found in the Swift")
        else:
            try:
                got = call(fn.group(1), "uint32_t")
            except (AttributeError, TypeError) as e:
                rep.fail("checksums", f"{sf.name}: cannot call {fn.group(1)}", str(e))
            else:
                want = int(exp.group(1))
                if got == want:
                    rep.ok("checksums", f"{sf.name}: contract version {got} ({fn.group(1)})")
                else:
                    rep.fail("checksums", f"{sf.name}: contract version mismatch",
                             f"Swift expects {want}, {fn.group(1)}() returns {got}")
        for name, want_s in CHECKSUM.findall(text):
            seen_checksums.add(name)
            want = int(want_s)
            try:
                got = call(name, "uint16_t")
            except (AttributeError, TypeError) as e:
                rep.fail("checksums", f"{name}: cannot call", str(e))
                continue
            if got == want:
                rep.ok("checksums", f"{name}() == {want}")
            else:
                rep.fail("checksums", f"{name}() mismatch", f"Swift expects {want}, library returns {got}")
    # Checksums exported by the library that no Swift file checks: stale or partial bindings?
    unchecked = sorted(s for s in exported if "_checksum_" in s and s.startswith("uniffi_") and s not in seen_checksums)
    if unchecked:
        print(f"WARN [checksums] {len(unchecked)} checksum functions exported but not checked by the Swift: "
              + ", ".join(unchecked[:10]) + (" ..." if len(unchecked) > 10 else ""))


# Required-reason API categories the library uses, with the reason it declares for each
# (Apple's codes: C617.1 files inside the app container; 35F9.1 elapsed time between events).
REQUIRED_REASONS = {
    "NSPrivacyAccessedAPICategoryFileTimestamp": "C617.1",
    "NSPrivacyAccessedAPICategorySystemBootTime": "35F9.1",
}


def labels(args: str) -> tuple[str, ...]:
    """The argument labels of a call or declaration's argument list (`a: x, b: y` -> (a, b))."""
    return tuple(part.split(":")[0].strip() for part in args.split(",") if ":" in part)


def declared_methods(generated: list[Path]) -> set[tuple[str, tuple[str, ...]]]:
    """(name, labels) of every method and static function the generated bindings declare."""
    return {(name, labels(args)) for f in generated
            for name, args in re.findall(r"(?:open|public static) func `?(\w+)`?\(([^)]*)\)", f.read_text())}


def check_wrappers(rep: Report, generated: list[Path], handwritten: list[Path]) -> None:
    declared = declared_methods(generated)
    for f in handwritten:
        calls = re.findall(r"try (?:self|Engine)\.(\w+)\(([^)]*)\)", f.read_text())
        unknown = sorted({f"{name}({':'.join(labels(args))}:)" for name, args in calls if (name, labels(args)) not in declared})
        if not calls:
            continue
        if unknown:
            rep.fail("wrappers", f"{f.name}: calls the bindings do not declare", unknown)
        else:
            rep.ok("wrappers", f"{f.name}: all {len(calls)} engine calls are declared by the bindings")


def check_privacy(rep: Report, package_dir: Path) -> None:
    import plistlib
    manifest = package_dir / "Sources" / "Mizan" / "PrivacyInfo.xcprivacy"
    try:
        plist = plistlib.loads(manifest.read_bytes())
    except (OSError, plistlib.InvalidFileException, ValueError) as e:
        rep.fail("privacy", f"{manifest.name} does not read as a property list", str(e))
        return
    for key, want in [("NSPrivacyTracking", False), ("NSPrivacyTrackingDomains", []), ("NSPrivacyCollectedDataTypes", [])]:
        if plist.get(key) == want:
            rep.ok("privacy", f"{key} == {want!r}")
        else:
            rep.fail("privacy", f"{key} is {plist.get(key)!r}, expected {want!r}")
    declared = {d.get("NSPrivacyAccessedAPIType"): d.get("NSPrivacyAccessedAPITypeReasons") for d in plist.get("NSPrivacyAccessedAPITypes", [])}
    if declared == {k: [v] for k, v in REQUIRED_REASONS.items()}:
        rep.ok("privacy", "required-reason APIs: " + ", ".join(f"{k} ({v})" for k, v in REQUIRED_REASONS.items()))
    else:
        rep.fail("privacy", "required-reason APIs differ from what the library uses", f"declared {declared}")
    package = (package_dir.parent / "Package.swift").read_text()
    if re.search(r'resources:\s*\[\s*\.(copy|process)\("PrivacyInfo\.xcprivacy"\)', package):
        rep.ok("privacy", "Package.swift bundles PrivacyInfo.xcprivacy")
    else:
        rep.fail("privacy", "Package.swift does not bundle PrivacyInfo.xcprivacy as a resource")


def call_args(text: str, start: int) -> str:
    """The text between the parenthesis at `start` and its match."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[start + 1:i]
    return text[start + 1:]


def top_level_labels(args: str) -> tuple[str, ...]:
    """The argument labels of an argument list, ignoring those of nested calls and closures."""
    parts, depth, current = [], 0, ""
    for ch in args:
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return tuple(m.group(1) for p in parts if (m := re.match(r"\s*(\w+)\s*:(?!:)", p)))


def record_initialisers(generated: list[Path]) -> dict[str, list[tuple[str, bool]]]:
    """Record name -> its public initialiser's (label, has a default), in order."""
    inits = {}
    for f in generated:
        text = re.sub(r"/\*\*.*?\*/", "", f.read_text(), flags=re.S)
        for m in re.finditer(r"public struct (\w+)\b[^{]*\{(.*?)\n\}", text, flags=re.S):
            init = re.search(r"public init\(", m.group(2))
            if init:
                params = call_args(m.group(2), init.end() - 1)
                inits[m.group(1)] = [(p.split(":")[0].strip(), "=" in p) for p in params.split(",") if ":" in p]
    return inits


def check_calls(rep: Report, group: str, generated: list[Path], tests: list[Path]) -> None:
    """Engine calls and record initialisers in `tests` against the generated bindings."""
    if not tests:
        rep.fail(group, "no Swift files to check")
        return
    declared = declared_methods(generated)
    inits = record_initialisers(generated)
    for f in tests:
        text = f.read_text()
        calls = [(m.group(1), top_level_labels(call_args(text, m.end() - 1))) for m in re.finditer(r"\b(?:engine|Engine)\.(\w+)\(", text)]
        unknown = sorted({f"{n}({':'.join(l)}:)" for n, l in calls if (n, l) not in declared})
        if unknown:
            rep.fail(group, f"{f.name}: engine calls the bindings do not declare", unknown)
        elif calls:
            rep.ok(group, f"{f.name}: all {len(calls)} engine calls are declared by the bindings")
        bad, built = [], 0
        for m in re.finditer(r"\b(" + "|".join(sorted(inits)) + r")\(", text):
            built += 1
            given = list(top_level_labels(call_args(text, m.end() - 1)))
            params = inits[m.group(1)]
            order = [label for label, _ in params]
            required = {label for label, has_default in params if not has_default}
            in_order = [l for l in order if l in given] == given
            if not in_order or not required <= set(given):
                bad.append(f"{m.group(1)}({', '.join(given)}) against init({', '.join(order)})")
        if bad:
            rep.fail(group, f"{f.name}: records built with labels their initialisers do not take", bad)
        elif built:
            rep.ok(group, f"{f.name}: all {built} records built with their initialisers' labels, in order")


def check_kotlin_parses(rep: Report, group: str, files: list[Path]) -> None:
    import tree_sitter
    import tree_sitter_kotlin
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_kotlin.language()))
    if not files:
        rep.fail(group, "no Kotlin files to parse")
    for f in files:
        errors = []
        stack = [parser.parse(f.read_bytes()).root_node]
        while stack:
            node = stack.pop()
            if node.is_error or node.is_missing:
                errors.append(f"{f.name}:{node.start_point[0] + 1}: {'MISSING ' + node.type if node.is_missing else 'ERROR'}")
            else:
                stack.extend(node.children)
        if errors:
            rep.fail(group, f"{f.name} does not parse as Kotlin", errors[:20])
        else:
            rep.ok(group, f"{f.name} parses as Kotlin")


def check_purposes(rep: Report, root: Path) -> None:
    consent = (root / "core" / "src" / "consent.rs").read_text()
    built_in = re.search(r"BUILT_IN_PURPOSES: \[&str; \d+\] = \[([^\]]*)\]", consent)
    core = {re.search(rf'pub const {name.strip()}: &str = "([^"]+)"', consent).group(1) for name in built_in.group(1).split(",") if name.strip()}
    swift = set(re.findall(r'public static let \w+ = "([^"]+)"', (root / "ios" / "Sources" / "Mizan" / "Purpose.swift").read_text()))
    if swift == core:
        rep.ok("purposes", f"Purpose.swift holds the core's built-in purposes: {', '.join(sorted(core))}")
    else:
        rep.fail("purposes", "Purpose.swift and the core's built-in purposes differ", f"swift {sorted(swift)}, core {sorted(core)}")


def check_committed(rep: Report, generated: Path, committed: Path) -> None:
    if committed.is_file() and committed.read_bytes() == generated.read_bytes():
        rep.ok("committed", f"{committed.name} is what the bindings generate")
    else:
        rep.fail("committed", f"{committed} differs from the generated bindings: copy {generated} over it")


def check_package(rep: Report, root: Path, parses) -> None:
    import hashlib
    import importlib.util
    import shutil
    import tempfile
    import zipfile
    package = root / "Package.swift"
    text = package.read_text()
    if parses(text) and re.search(r"\.binaryTarget\(name: \"mizan_ffiFFI\", url: [^,]+, checksum: checksum\)", text):
        rep.ok("package", "the root Package.swift parses and takes mizan_ffiFFI by URL and checksum")
    else:
        rep.fail("package", "the root Package.swift does not parse, or has no binaryTarget(url:checksum:)")
    scripts = root / "ios" / "scripts"
    with tempfile.TemporaryDirectory() as tmp:
        xcf = Path(tmp) / "MizanFFI.xcframework"
        (xcf / "ios-arm64").mkdir(parents=True)
        (xcf / "Info.plist").write_text("<plist/>")
        (xcf / "ios-arm64" / "libmizan_ffi.a").write_bytes(b"!<arch>\n")
        run = subprocess.run(["bash", str(scripts / "package-xcframework.sh"), str(xcf)], capture_output=True, text=True)
        zip_path = Path(f"{xcf}.zip")
        checksum_file = Path(f"{zip_path}.sha256")
        if run.returncode != 0 or not zip_path.is_file():
            rep.fail("package", "package-xcframework.sh failed", run.stderr.strip())
            return
        names = zipfile.ZipFile(zip_path).namelist()
        checksum = checksum_file.read_text().strip()
        if checksum == hashlib.sha256(zip_path.read_bytes()).hexdigest() and "MizanFFI.xcframework/Info.plist" in names:
            rep.ok("package", "package-xcframework.sh: the zip holds MizanFFI.xcframework/ and its checksum is its SHA-256")
        else:
            rep.fail("package", "package-xcframework.sh: wrong zip layout or checksum", f"{names} {checksum}")
        spec = importlib.util.spec_from_file_location("set_package_release", scripts / "set-package-release.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        copy = Path(tmp) / "Package.swift"
        shutil.copy(package, copy)
        released = module.set_release(copy.read_text(), "9.8.7", "https://example.test/releases/download/", checksum)
        wanted = [f'let releaseTag = "9.8.7"', 'let releaseURLBase = "https://example.test/releases/download"', f'let checksum = "{checksum}"']
        if all(line in released for line in wanted) and parses(released):
            rep.ok("package", "set-package-release.py writes the tag, the URL base and the zip's checksum")
        else:
            rep.fail("package", "set-package-release.py did not write the release into Package.swift")
        try:
            module.set_release(released, "9.8.7", "https://example.test", "not-a-checksum")
            rep.fail("package", "set-package-release.py accepted a malformed checksum")
        except ValueError:
            rep.ok("package", "set-package-release.py refuses a malformed checksum")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lib", required=True, type=Path, help="the unstripped cdylib the bindings came from")
    ap.add_argument("--dir", required=True, type=Path, help="directory with the generated .swift/.h/.modulemap")
    args = ap.parse_args()

    rep = Report()
    swift_files = sorted(args.dir.glob("*.swift"))
    headers = sorted(args.dir.glob("*.h"))
    modulemaps = sorted(args.dir.glob("*.modulemap"))
    if not args.lib.is_file():
        rep.fail("setup", f"library not found: {args.lib}")
    if not swift_files or not headers:
        rep.fail("setup", f"no generated .swift / .h files in {args.dir}")
    if rep.failed:
        print(f"swift: {rep.passed} passed, {rep.failed} failed")
        return 1

    package_dir = Path(__file__).resolve().parent.parent
    handwritten = sorted(p for p in (package_dir / "Sources" / "Mizan").glob("*.swift") if p.name != "mizan_ffi.swift")
    tests = sorted((package_dir / "Tests").rglob("*.swift"))
    samples = package_dir.parent / "examples"
    ios_sample = sorted((samples / "ios").rglob("*.swift"))
    check_parse(rep, swift_files + handwritten + tests + ios_sample)
    check_headers(rep, headers, modulemaps)
    exported = exported_symbols(args.lib)
    check_symbols(rep, args.lib, swift_files + headers, exported)
    check_checksums(rep, args.lib, swift_files, headers, exported)
    check_wrappers(rep, swift_files, handwritten)
    check_calls(rep, "tests", swift_files, tests)
    check_calls(rep, "samples", swift_files, ios_sample)
    check_kotlin_parses(rep, "samples", sorted((samples / "android").rglob("sample/android/*.kt")))
    check_privacy(rep, package_dir)
    check_purposes(rep, package_dir.parent)
    check_committed(rep, args.dir / "mizan_ffi.swift", package_dir / "Sources" / "Mizan" / "mizan_ffi.swift")
    check_package(rep, package_dir.parent, swift_parses)

    print(f"swift: {rep.passed} passed, {rep.failed} failed")
    return 0 if rep.failed == 0 and rep.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
