"""Images made in the test, so no binary fixture is committed."""

from __future__ import annotations

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return float(degrees), float(minutes), seconds


def jpeg_bytes(lon: float | None = None, lat: float | None = None, size=(64, 48), colour=(200, 40, 40)) -> bytes:
    """A JPEG, with EXIF GPS (and a camera model) when lon/lat are given."""
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[0x0110] = "Citypin Test Camera"  # Model
    if lon is not None:
        exif[0x8825] = {1: "N" if lat >= 0 else "S", 2: _dms(abs(lat)), 3: "E" if lon >= 0 else "W", 4: _dms(abs(lon))}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bytes(size=(32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 120, 0, 255)).save(out, "PNG")
    return out.getvalue()


def upload(name: str, content: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def flat_png_bytes(width: int, height: int, colour=(0, 120, 0, 255)) -> bytes:
    """A single-colour RGBA PNG written row by row, so a picture of any size costs a row of
    memory to make (Pillow would hold it all): 6,300 × 6,300 compresses to ~155 KB."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\0" + bytes(colour) * width  # filter type 0, then the pixels
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits, RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
