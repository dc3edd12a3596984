"""Photo uploads: recognised by their content (not their name), size-capped, re-encoded with
every metadata block removed (EXIF, GPS included, XMP, comments), after reading the GPS
position so the form can offer it."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PHOTOS = 3
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # refuse decompression bombs long before they fill memory
THUMBNAIL_PX = 480
FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
ALIASES = {"MPO": "JPEG"}  # phones' multi-picture JPEGs: we keep the first picture


@dataclass
class CleanPhoto:
    content: bytes
    thumbnail: bytes
    extension: str
    content_type: str
    gps: tuple[float, float] | None  # (lon, lat) read from EXIF before it was stripped
    width: int
    height: int


def _gps(image: Image.Image) -> tuple[float, float] | None:
    try:
        info = image.getexif().get_ifd(0x8825)  # GPSInfo
        def degrees(values) -> float:
            d, m, s = (float(v) for v in values)
            return d + m / 60 + s / 3600

        lat = degrees(info[2]) * (-1 if info.get(1) == "S" else 1)
        lon = degrees(info[4]) * (-1 if info.get(3) == "W" else 1)
    except (KeyError, TypeError, ValueError, ZeroDivisionError, AttributeError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return lon, lat


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.info = {}  # nothing of the original's metadata goes out
    options = {"JPEG": {"quality": 85, "optimize": True}, "WEBP": {"quality": 85}, "PNG": {"optimize": True}}[fmt]
    image.save(out, fmt, **options)
    return out.getvalue()


def clean_photo(upload, index: int = 1) -> CleanPhoto:
    """Check and re-encode one upload (a Django UploadedFile). Raises ValidationError on "photos"."""
    name = getattr(upload, "name", "")[:80]
    if upload.size > MAX_BYTES:
        raise ValidationError({"photos": [_("Photo %(n)s (%(name)s) is %(mb).1f MB; the limit is 10 MB.") % {
            "n": index, "name": name, "mb": upload.size / 1024 / 1024}]})
    data = upload.read()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = MAX_PIXELS
            probe = Image.open(io.BytesIO(data))
            fmt = probe.format
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise ValidationError({"photos": [_("Photo %(n)s (%(name)s) is not a JPEG, PNG or WebP image.") % {
            "n": index, "name": name}]}) from None
    fmt = ALIASES.get(fmt, fmt)
    if fmt not in FORMATS:
        raise ValidationError({"photos": [_("Photo %(n)s (%(name)s) is not a JPEG, PNG or WebP image.") % {
            "n": index, "name": name}]})
    gps = _gps(image)
    image = ImageOps.exif_transpose(image)  # keep the picture upright once orientation is dropped
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    extension, content_type = FORMATS[fmt]
    return CleanPhoto(_encode(image, fmt), _encode(thumb, fmt), extension, content_type, gps, *image.size)


def clean_photos(uploads: list) -> list[CleanPhoto]:
    if len(uploads) > MAX_PHOTOS:
        raise ValidationError({"photos": [_("At most %(n)s photos.") % {"n": MAX_PHOTOS}]})
    return [clean_photo(upload, i) for i, upload in enumerate(uploads, 1)]
