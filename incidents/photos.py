"""Photo uploads: recognised by their content (not their name), size-capped, re-encoded with
every metadata block removed (EXIF, GPS included, XMP, comments), after reading the GPS
position so the form can offer it."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PHOTOS = 3
MAX_BYTES = 10 * 1024 * 1024
# Decoded size, read from the header before anything is decoded. 24 megapixels holds what phones
# save by default (12 MP; 24 MP on recent iPhones; 6000 × 4000 from a camera) and costs about
# 72 MB as RGB, 96 MB as RGBA, before the copies re-encoding makes. A 6,300 × 6,300 PNG of 160 KB
# (under the old 40 MP cap) took ~470 MB and 2 to 6 s to clean; it is now refused in ~20 ms.
MAX_PIXELS = 24_000_000
# Photos decoded at once by one process (each thread waits its turn): with N simultaneous uploads,
# memory stays at this many decoded photos instead of N.
DECODING = threading.BoundedSemaphore(settings.CITYPIN_PHOTO_DECODERS)
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
    not_an_image = ValidationError({"photos": [_("Photo %(n)s (%(name)s) is not a JPEG, PNG or WebP image.") % {
        "n": index, "name": name}]})
    try:
        probe = Image.open(io.BytesIO(data))  # reads the header only: size and format, no pixels
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise not_an_image from None
    except Image.DecompressionBombError:  # Pillow's own backstop, far above ours
        probe = None
    if probe is None or probe.width * probe.height > MAX_PIXELS:
        raise ValidationError({"photos": [_("Photo %(n)s (%(name)s) has more than %(mp)s megapixels; send a "
                                            "smaller copy.") % {"n": index, "name": name, "mp": MAX_PIXELS // 10**6}]})
    fmt = ALIASES.get(probe.format, probe.format)
    if fmt not in FORMATS:
        raise not_an_image
    with DECODING:
        try:
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise not_an_image from None
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
