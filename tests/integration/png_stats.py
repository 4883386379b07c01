#!/usr/bin/env python3
"""Decodes an 8-bit RGB/RGBA PNG (what Chromium's --screenshot writes) with the standard
library alone and checks that it is not blank: enough pixels differ from the background and
enough distinct colours appear (text, axes, curves, bars, heat-map cells).

usage: png_stats.py FILE [MIN_NON_BACKGROUND_FRACTION] [MIN_COLOURS]
"""
import struct
import sys
import zlib
from collections import Counter


def decode(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    at, idat, width, height, channels = 8, b"", 0, 0, 0
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind = data[at + 4:at + 8]
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6), f"unsupported PNG (depth {depth}, type {colour})"
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev, at = [], bytearray(stride), 0
    for _ in range(height):
        f = raw[at]
        line = bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def main():
    path = sys.argv[1]
    min_fraction = float(sys.argv[2]) if len(sys.argv) > 2 else 0.02
    min_colours = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    width, height, channels, rows = decode(path)
    colours = Counter()
    for line in rows:
        for x in range(0, len(line), channels * 2):  # every other pixel is plenty
            colours[line[x:x + 3]] += 1
    total = sum(colours.values())
    background, count = colours.most_common(1)[0]
    fraction = 1 - count / total
    print(f"{path}: {width}x{height}, {len(colours)} colours, "
          f"{100 * fraction:.1f}% of pixels differ from the background {background.hex()}")
    if fraction < min_fraction or len(colours) < min_colours:
        print("blank: too few pixels or colours", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
