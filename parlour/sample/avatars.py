"""Identicons: a distinct, deterministic avatar for any name, drawn without an image library."""

from __future__ import annotations

import hashlib
import struct
import zlib


def identicon_png(seed: str, size: int = 120) -> bytes:
    """A GitHub-style avatar: a symmetric 5x5 pattern in a colour drawn from ``seed``."""
    digest = hashlib.sha256(seed.encode()).digest()
    fg = (digest[0] // 2 + 60, digest[1] // 2 + 60, digest[2] // 2 + 60)
    bg = (242, 242, 247)
    cells = [[digest[3 + r * 3 + min(c, 4 - c)] % 2 == 0 for c in range(5)] for r in range(5)]
    cell = size // 6
    margin = (size - cell * 5) // 2
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            cx, cy = (x - margin) // cell, (y - margin) // cell
            on = 0 <= cx < 5 and 0 <= cy < 5 and x >= margin and y >= margin and cells[cy][cx]
            row += bytes(fg if on else bg)
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and the CRC of type and data."""
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
