#!/usr/bin/env python3
"""Flips 8 bytes inside one part of a tailor checkpoint, in place: what a bad disk, a bad
copy or a stray write does to a file.

usage: corrupt_checkpoint.py FILE weights|optimizer|header

The checkpoint's payload is a torch archive (a zip file whose records are stored
uncompressed); zipfile finds it whatever precedes it. `weights` hits the largest float
tensor of the archive, `optimizer` the largest tensor inside the nested optimizer archive
(a momentum buffer), `header` the JSON header. The flipped bytes sit in the middle of the
record's data, so the archive's structure stays valid and only a checksum can tell.
"""
import io
import sys
import zipfile


def data_offset(archive_bytes, info):
    """Offset of a stored member's data within archive_bytes (local header + name + extra)."""
    local = info.header_offset
    name_len = int.from_bytes(archive_bytes[local + 26:local + 28], "little")
    extra_len = int.from_bytes(archive_bytes[local + 28:local + 30], "little")
    return local + 30 + name_len + extra_len


def records(archive_bytes):
    """(offset, data) of every stored data record of a torch archive in archive_bytes."""
    out = []
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as z:
        for info in z.infolist():
            if "/data/" not in info.filename or info.compress_type != zipfile.ZIP_STORED:
                continue
            out.append((data_offset(archive_bytes, info), z.read(info)))
    return out


def main():
    path, part = sys.argv[1], sys.argv[2]
    blob = bytearray(open(path, "rb").read())
    found = records(bytes(blob))
    nested = [(o, d) for o, d in found if d.startswith(b"PK\x03\x04")]
    if part == "header":
        candidates = [(o, d) for o, d in found if d.startswith(b"{")]
    elif part == "optimizer":
        assert nested, "no optimizer archive in " + path
        outer, inner_bytes = nested[0]
        candidates = [(outer + o, d) for o, d in records(inner_bytes)]
    else:
        candidates = [(o, d) for o, d in found
                      if not d.startswith(b"PK\x03\x04") and not d.startswith(b"{")]
    assert candidates, f"no {part} record in {path}"
    offset, data = max(candidates, key=lambda c: len(c[1]))
    assert len(data) >= 16, f"{part} record of {path} is only {len(data)} bytes"
    at = offset + len(data) // 2 - 4
    for i in range(8):
        blob[at + i] ^= 0xA5
    open(path, "wb").write(bytes(blob))
    print(f"flipped 8 bytes of the {part} at offset {at} of {path}")


if __name__ == "__main__":
    main()
