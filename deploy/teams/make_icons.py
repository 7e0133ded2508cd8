#!/usr/bin/env python3
"""Draws the Teams app icons (an envelope with a check mark) as PNGs with only the standard
library: color.png 192x192 on the accent colour, outline.png 32x32 white on transparent."""
import struct
import sys
import zlib
from pathlib import Path

ACCENT = (0x1F, 0x6F, 0xB2)


def png(path, width, height, pixels):
    """pixels: rows of (r, g, b, a) tuples."""
    raw = b"".join(b"\x00" + b"".join(bytes(p) for p in row) for row in pixels)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    data = (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))
    Path(path).write_bytes(data)


def seg_dist(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    cx, cy = ax + t * dx, ay + t * dy
    return ((px - cx) ** 2 + (py - cy) ** 2) ** 0.5


def glyph_coverage(size, x, y):
    """How much of pixel (x, y) the white glyph covers, 0..1, by 4x4 supersampling."""
    s = size / 32.0  # the glyph is designed on a 32-unit grid
    stroke = 1.6 * s
    # Envelope: rectangle outline and the flap's V; check mark bottom right.
    segments = [
        (4, 8, 28, 8), (28, 8, 28, 24), (28, 24, 4, 24), (4, 24, 4, 8),
        (4, 8, 16, 17), (16, 17, 28, 8),
    ]
    check = [(17, 21, 21, 25), (21, 25, 29, 15)]
    hits = 0
    for sy in range(4):
        for sx in range(4):
            px, py = (x + (sx + 0.5) / 4) / s, (y + (sy + 0.5) / 4) / s
            d = min(seg_dist(px, py, *seg) for seg in segments) * s
            dc = min(seg_dist(px, py, *seg) for seg in check) * s
            # The check mark keeps a clear halo so it reads apart from the envelope's edge.
            if dc <= stroke * 0.75 or (d <= stroke / 2 and dc > stroke * 1.75):
                hits += 1
    return hits / 16.0


def main(out_dir):
    out = Path(out_dir)
    # color.png: the glyph in white on the accent colour, full bleed (Teams rounds corners itself).
    size = 192
    margin = 28  # keep the glyph inside Teams' safe area
    inner = size - 2 * margin
    rows = []
    for y in range(size):
        row = []
        for x in range(size):
            c = 0.0
            if margin <= x < size - margin and margin <= y < size - margin:
                c = glyph_coverage(inner, x - margin, y - margin)
            row.append(tuple(round(a * (1 - c) + 255 * c) for a in ACCENT) + (255,))
        rows.append(row)
    png(out / "color.png", size, size, rows)
    # outline.png: white glyph, transparent elsewhere, as the manifest requires.
    size = 32
    rows = [[(255, 255, 255, round(255 * glyph_coverage(size, x, y))) for x in range(size)] for y in range(size)]
    png(out / "outline.png", size, size, rows)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent)
