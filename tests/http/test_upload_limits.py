"""Uploads are refused at their limits before they cost the server: a body over
CITYPIN_MAX_UPLOAD_BYTES is never read, a photo past 10 MB is not stored past 10 MB, and a
picture with too many pixels is refused from its header, before it is decoded."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http.multipartparser import MultiPartParser
from django.test import RequestFactory, SimpleTestCase, TestCase, override_settings
from PIL import Image

from incidents.http.limits import LimitedUploadHandler, UploadTooLarge
from incidents.models import Photo, Report
from incidents.photos import DECODING, clean_photo
from tests.images import flat_png_bytes, jpeg_bytes, png_bytes, upload
from tests.world import build_world

MB = 1024 * 1024
BOUNDARY = "citypin-test-boundary"
FIELDS = {"category": "pothole", "lat": "10.02", "lon": "105.72", "attr__pothole__size": "large",
          "description": "Ổ gà", "name": "Trần Thị B", "email": "", "phone": "", "address": "", "ward": "",
          "website": ""}
STORED: list[int] = []  # bytes StoredBytesHandler wrote to disk, one entry per file


class StoredBytesHandler(TemporaryFileUploadHandler):
    """Django's temporary-file handler, noting how many bytes of each file it wrote to disk."""

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        STORED.append(0)

    def receive_data_chunk(self, raw_data: bytes, start: int):
        STORED[-1] += len(raw_data)
        return super().receive_data_chunk(raw_data, start)


class MultipartStream:
    """A multipart/form-data body made as it is read (a 500 MB one costs nothing to send): the
    form's fields, then photos of the given sizes. `read_bytes` says how much the server read."""

    def __init__(self, photo_sizes: list[int], fields: dict[str, str] = FIELDS):
        self.fields, self.photo_sizes = fields, photo_sizes
        self.length = sum(len(piece) if isinstance(piece, bytes) else piece for piece in self._layout())
        self._pieces = self._chunks()
        self._buffer = b""
        self.read_bytes = 0

    def _layout(self) -> Iterator[bytes | int]:
        """The body: bytes as they are, an int for that many bytes of photo."""
        for name, value in self.fields.items():
            yield f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for i, size in enumerate(self.photo_sizes):
            yield (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="photos"; filename="p{i}.jpg"\r\n'
                   f"Content-Type: image/jpeg\r\n\r\n").encode()
            yield size
            yield b"\r\n"
        yield f"--{BOUNDARY}--\r\n".encode()

    def _chunks(self) -> Iterator[bytes]:
        head = jpeg_bytes()
        for piece in self._layout():
            if isinstance(piece, bytes):
                yield piece
                continue
            yield head
            for left in range(piece - len(head), 0, -MB):
                yield b"\0" * min(MB, left)

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            piece = next(self._pieces, None)
            if piece is None:
                break
            self._buffer += piece
        size = len(self._buffer) if size < 0 else size
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        self.read_bytes += len(out)
        return out

    def readline(self, size: int = -1) -> bytes:
        raise AssertionError("the multipart parser reads in chunks, not lines")

    def wsgi(self, content_length: int | None = None) -> dict:
        return {"CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
                "CONTENT_LENGTH": str(self.length if content_length is None else content_length),
                "wsgi.input": self}


class RequestBodyLimitTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def setUp(self):
        STORED.clear()

    def post(self, url: str, stream: MultipartStream, **extra):
        return self.client.generic("POST", url, **stream.wsgi(), **extra)

    def test_a_500_megabyte_report_form_post_is_refused_before_a_byte_is_read(self):
        stream = MultipartStream([500 * MB])
        response = self.post("/report/", stream)
        self.assertEqual(response.status_code, 413)
        self.assertIn('id="id_photos-error"', response.content.decode())
        self.assertIn("32 MB", response.content.decode())
        self.assertEqual(stream.read_bytes, 0)
        self.assertEqual(Report.objects.count(), 0)

    def test_a_500_megabyte_api_post_is_refused_in_json_before_a_byte_is_read(self):
        stream = MultipartStream([500 * MB])
        response = self.client.generic("POST", "/api/v1/reports/", **{
            **stream.wsgi(), "CONTENT_TYPE": "application/json"})
        self.assertEqual(response.status_code, 413)
        self.assertEqual(list(response.json()), ["body"])
        self.assertEqual(stream.read_bytes, 0)

    def test_a_multipart_api_post_over_the_limit_is_refused_naming_photos(self):
        response = self.post("/api/v1/reports/", MultipartStream([40 * MB]))
        self.assertEqual(response.status_code, 413)
        self.assertEqual(list(response.json()), ["photos"])

    @override_settings(FILE_UPLOAD_HANDLERS=["tests.http.test_upload_limits.StoredBytesHandler"])
    def test_a_twenty_megabyte_photo_is_refused_on_its_field_without_storing_past_ten_megabytes(self):
        response = self.post("/report/", MultipartStream([20 * MB]))
        html = response.content.decode()
        self.assertIn('id="id_photos-error"', html)
        self.assertIn("20.0 MB", html)
        self.assertEqual(len(STORED), 1)
        self.assertLessEqual(STORED[0], 10 * MB)
        self.assertEqual(Photo.objects.count(), 0)

    @override_settings(FILE_UPLOAD_HANDLERS=["tests.http.test_upload_limits.StoredBytesHandler"])
    def test_photos_within_the_limits_are_still_received(self):
        self.post("/report/", MultipartStream([MB]))
        self.assertEqual(STORED, [MB])


class UndeclaredLengthTests(SimpleTestCase):
    """A server that does not cut the body at its Content-Length (an ASGI one, a chunked upload)
    hands the parser everything the client sends: the handler is what stops it."""

    def parse(self, stream: MultipartStream, total_bytes: int):
        request = RequestFactory().post("/report/")
        handlers = [LimitedUploadHandler(request, total_bytes), StoredBytesHandler(request)]
        request.upload_handlers = handlers
        meta = stream.wsgi(content_length=1)  # declared falsely
        return MultiPartParser(meta, stream, handlers).parse()

    def setUp(self):
        STORED.clear()

    def test_files_past_the_total_stop_the_upload_where_they_pass_it(self):
        stream = MultipartStream([8 * MB, 8 * MB, 8 * MB, 500 * MB])
        with self.assertRaises(UploadTooLarge):
            self.parse(stream, total_bytes=settings.CITYPIN_MAX_UPLOAD_BYTES)
        self.assertLess(stream.read_bytes, settings.CITYPIN_MAX_UPLOAD_BYTES + 2 * MB)

    def test_a_file_past_ten_megabytes_is_counted_but_not_stored(self):
        _post, files = self.parse(MultipartStream([25 * MB, MB]), total_bytes=settings.CITYPIN_MAX_UPLOAD_BYTES)
        first, second = files.getlist("photos")
        self.assertEqual(first.size, 25 * MB)
        self.assertEqual(first.read(), b"")
        self.assertEqual(second.size, MB)
        self.assertLessEqual(STORED[0], 10 * MB)
        self.assertEqual(STORED[1], MB)


class DecompressionBombTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        # 6,300 × 6,300 RGBA: ~160 KB of PNG, 159 MB once decoded (and ~300 MB to clean)
        cls.bomb = flat_png_bytes(6300, 6300)

    def test_a_6300_pixel_square_png_is_refused_on_the_photos_field(self):
        with self.assertRaises(ValidationError) as refused:
            clean_photo(upload("bomb.png", self.bomb, "image/png"))
        self.assertIn("24", refused.exception.message_dict["photos"][0])

    def test_refusing_it_decodes_nothing(self):
        images_before = Image.core.get_stats()["new_count"]
        with self.assertRaises(ValidationError):
            clean_photo(upload("bomb.png", self.bomb, "image/png"))
        self.assertEqual(Image.core.get_stats()["new_count"], images_before)

    def test_the_report_form_shows_the_refusal_on_the_photos_field(self):
        data = {**FIELDS, "photos": [upload("bomb.png", self.bomb, "image/png")]}
        html = self.client.post("/report/", data).content.decode()
        self.assertIn('id="id_photos-error"', html)
        self.assertIn("bomb.png", html)
        self.assertEqual(Report.objects.count(), 0)


class DecodingSlotTests(SimpleTestCase):
    def test_a_photo_waits_while_every_decoding_slot_is_taken(self):
        slots = settings.CITYPIN_PHOTO_DECODERS
        for _ in range(slots):
            DECODING.acquire()
        result = []
        worker = threading.Thread(target=lambda: result.append(clean_photo(upload("p.png", png_bytes(), "image/png"))))
        try:
            worker.start()
            worker.join(timeout=0.5)
            self.assertTrue(worker.is_alive())
            self.assertEqual(result, [])
        finally:
            for _ in range(slots):
                DECODING.release()
        worker.join(timeout=10)
        self.assertEqual(len(result), 1)
