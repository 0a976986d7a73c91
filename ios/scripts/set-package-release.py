#!/usr/bin/env python3
"""Points the root Package.swift at a release's XCFramework zip.

Usage: set-package-release.py --tag 0.1.0 --url-base https://host/org/mizan/releases/download \
           --checksum-file ios/build/MizanFFI.xcframework.zip.sha256 [--package Package.swift]

Rewrites the `releaseTag`, `releaseURLBase` and `checksum` constants (the binary target's URL is
`<url-base>/<tag>/MizanFFI.xcframework.zip`). Upload that zip to that URL, then tag the commit.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

CONSTANTS = ("releaseTag", "releaseURLBase", "checksum")


def set_release(package: str, tag: str, url_base: str, checksum: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{64}", checksum):
        raise ValueError(f"not a SHA-256 checksum: {checksum!r}")
    if not re.fullmatch(r"[0-9A-Za-z._-]+", tag) or not url_base.startswith("https://"):
        raise ValueError("the tag must be a plain version and the URL base an https URL")
    for name, value in zip(CONSTANTS, (tag, url_base.rstrip("/"), checksum)):
        package, n = re.subn(rf'^let {name} = "[^"]*"$', f'let {name} = "{value}"', package, flags=re.M)
        if n != 1:
            raise ValueError(f"Package.swift has no single `let {name} = \"…\"` line")
    return package


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tag", required=True)
    ap.add_argument("--url-base", required=True)
    ap.add_argument("--checksum-file", required=True, type=Path)
    ap.add_argument("--package", type=Path, default=Path(__file__).resolve().parents[2] / "Package.swift")
    args = ap.parse_args()
    try:
        updated = set_release(args.package.read_text(), args.tag, args.url_base, args.checksum_file.read_text().strip())
    except (OSError, ValueError) as e:
        print(f"set-package-release: {e}", file=sys.stderr)
        return 1
    args.package.write_text(updated)
    print(f"set-package-release: {args.package} -> {args.tag}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
