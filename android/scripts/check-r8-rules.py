#!/usr/bin/env python3
"""Checks the consumer R8 rules (android/consumer-rules.pro) against the compiled Kotlin bindings.

Usage: check-r8-rules.py RULES JAR

Fails (exit 1, a line per problem) unless:
  - the rules keep the attributes JNA and the bindings need at run time: RuntimeVisibleAnnotations
    (JNA reads @Structure.FieldOrder), Signature and InnerClasses;
  - every class in JAR is kept whole by a `-keep class <package>.** { *; }` rule, so R8 renames and
    strips nothing JNA or native code looks up by name;
  - some class in JAR carries @Structure.FieldOrder (else the check no longer sees the bindings'
    JNA structures, and what it proves about them is void).
"""
import re
import sys
import zipfile

FIELD_ORDER = b"com/sun/jna/Structure$FieldOrder"
NEEDED_ATTRIBUTES = {"RuntimeVisibleAnnotations", "Signature", "InnerClasses"}


def main() -> int:
    rules_path, jar_path = sys.argv[1], sys.argv[2]
    rules = open(rules_path).read()
    problems = []
    attributes = {a.strip() for line in re.findall(r"^-keepattributes\s+(.+)$", rules, re.M) for a in line.split(",")}
    for needed in sorted(NEEDED_ATTRIBUTES - attributes):
        problems.append(f"-keepattributes lacks {needed}")
    kept = [p.replace(".", "/") + "/" for p in re.findall(r"^-keep class ([\w.]+)\.\*\* \{ \*; \}$", rules, re.M)]
    with zipfile.ZipFile(jar_path) as jar:
        classes = [n for n in jar.namelist() if n.endswith(".class")]
        structures = [n for n in classes if FIELD_ORDER in jar.read(n)]
    for name in classes:
        if not any(name.startswith(prefix) for prefix in kept):
            problems.append(f"not kept whole by any -keep rule: {name}")
    if not classes:
        problems.append(f"no classes in {jar_path}")
    if not structures:
        problems.append("no class carries @Structure.FieldOrder: the check no longer sees the bindings' structures")
    for p in problems:
        print(f"check-r8-rules: {p}")
    print(f"check-r8-rules: {len(classes)} classes, {len(structures)} JNA structures with @FieldOrder, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
