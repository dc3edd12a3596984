"""Images made in the test, so no binary fixture is committed."""

from __future__ import annotations

import io

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
