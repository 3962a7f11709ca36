#!/usr/bin/env python3
"""Draws the toolbar icons (extension/icons/icon-N.png): a white telephone handset on a
blue rounded square, with a green link dot. Pure Python (zlib only), 4x4 supersampling,
so it needs nothing installed:  python3 scripts/make-icons.py"""
import math
import struct
import zlib
from pathlib import Path

BLUE = (26, 95, 180)
WHITE = (255, 255, 255)
GREEN = (46, 160, 67)


def inside_rounded_square(x, y, r):
    # Unit square [0,1]^2 with corner radius r.
    cx = min(max(x, r), 1 - r)
    cy = min(max(y, r), 1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def handset(x, y):
    # A thick arc (the handle) with a round cup at each end (ear and mouth pieces).
    cx, cy, radius, width = 0.5, 0.62, 0.30, 0.10
    d = math.hypot(x - cx, y - cy)
    ang = math.degrees(math.atan2(cy - y, x - cx)) % 360
    if abs(d - radius) <= width / 2 and 25 <= ang <= 155:
        return True
    for a in (25, 155):
        ex = cx + radius * math.cos(math.radians(a))
        ey = cy - radius * math.sin(math.radians(a))
        if math.hypot(x - ex, y - (ey + 0.03)) <= 0.11:
            return True
    return False


def pixel(x, y):
    if math.hypot(x - 0.80, y - 0.80) <= 0.13:
        return GREEN
    if not inside_rounded_square(x, y, 0.2):
        return None
    return WHITE if handset(x, y) else BLUE


def render(size):
    ss = 4
    rows = []
    for py in range(size):
        row = bytearray([0])
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(ss):
                for sx in range(ss):
                    c = pixel((px + (sx + 0.5) / ss) / size, (py + (sy + 0.5) / ss) / size)
                    if c:
                        acc[0] += c[0]
                        acc[1] += c[1]
                        acc[2] += c[2]
                        acc[3] += 255
            n = ss * ss
            alpha = acc[3] / n
            if alpha:
                covered = acc[3] / 255
                row += bytes([round(acc[0] / covered), round(acc[1] / covered), round(acc[2] / covered), round(alpha)])
            else:
                row += bytes(4)
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "extension" / "icons"
    out.mkdir(parents=True, exist_ok=True)
    for size in (16, 32, 48, 128):
        (out / f"icon-{size}.png").write_bytes(render(size))
        print(f"icon-{size}.png")
