#!/usr/bin/env python3
"""Checks that every 64-bit native library is aligned for 16 KB memory pages.

Usage: check-so-alignment.py PATH...   (.so files, directories, or .aar/.apk/.jar/.zip archives)

Android 15+ devices may use 16 KB pages: a 64-bit .so whose LOAD segments are aligned to less
(JNA 5.13's libjnidispatch.so, or a library linked without -Wl,-z,max-page-size=16384) fails to
load there, and Play flags it. Every ELF found (inside archives too) is listed with its smallest
LOAD alignment; the exit status is 1 when a 64-bit one is below 16384. 32-bit ABIs
(armeabi-v7a, x86) run with 4 KB pages and are listed only. Reads ELF headers itself: no readelf.
"""
from __future__ import annotations

import io
import struct
import sys
import zipfile
from pathlib import Path

PAGE = 16384
PT_LOAD = 1


def load_alignment(elf: bytes) -> tuple[int, int] | None:
    """(bits, smallest LOAD p_align) of an ELF image, or None if it is not one."""
    if elf[:4] != b"\x7fELF" or len(elf) < 64:
        return None
    bits = {1: 32, 2: 64}.get(elf[4])
    endian = {1: "<", 2: ">"}.get(elf[5])
    if bits is None or endian is None:
        return None
    if bits == 64:
        phoff, = struct.unpack_from(endian + "Q", elf, 0x20)
        phentsize, phnum = struct.unpack_from(endian + "HH", elf, 0x36)
        fmt, align_at = endian + "I", 0x30
    else:
        phoff, = struct.unpack_from(endian + "I", elf, 0x1C)
        phentsize, phnum = struct.unpack_from(endian + "HH", elf, 0x2A)
        fmt, align_at = endian + "I", 0x1C
    aligns = []
    for i in range(phnum):
        at = phoff + i * phentsize
        if at + phentsize > len(elf):
            return None
        p_type, = struct.unpack_from(fmt, elf, at)
        if p_type == PT_LOAD:
            aligns.append(struct.unpack_from(endian + ("Q" if bits == 64 else "I"), elf, at + align_at)[0])
    return (bits, min(aligns)) if aligns else None


def libraries(path: Path):
    """(name, bytes) of every .so under `path`, inside archives too."""
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file():
                yield from libraries(p)
    elif zipfile.is_zipfile(path):
        yield from archive_libraries(str(path), path.read_bytes())
    elif path.suffix == ".so" or ".so." in path.name:
        yield str(path), path.read_bytes()


def archive_libraries(name: str, data: bytes):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for entry in sorted(z.namelist()):
            inner = f"{name}!{entry}"
            if entry.endswith(".so"):
                yield inner, z.read(entry)
            elif entry.endswith((".aar", ".jar", ".apk", ".zip")):
                yield from archive_libraries(inner, z.read(entry))


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    bad = seen = 0
    for path in paths:
        for name, data in libraries(Path(path)):
            found = load_alignment(data)
            if found is None:
                continue
            seen += 1
            bits, align = found
            ok = bits == 32 or align >= PAGE
            bad += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {bits}-bit LOAD align {align:>6}  {name}")
    if seen == 0:
        print("check-so-alignment: no ELF library found", file=sys.stderr)
        return 1
    print(f"check-so-alignment: {seen} libraries, {bad} below {PAGE} bytes on a 64-bit ABI")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
