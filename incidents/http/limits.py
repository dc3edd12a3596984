"""Request bodies are capped before they are stored anywhere.

Django's own limits leave a hole: DATA_UPLOAD_MAX_MEMORY_SIZE counts only the form's text fields,
and FILE_UPLOAD_MAX_MEMORY_SIZE only decides when a file part spills to a temporary file, so a
500 MB photo would land on disk before the form saw it. Two checks close it, both against
CITYPIN_MAX_UPLOAD_BYTES:

- the Content-Length, before a byte of the body is read (413);
- the bytes of the file parts as they stream, for a body whose length was not declared or was
  declared falsely (a server that does not cut the body at its Content-Length, as Django's WSGI
  handler does). One file past photos.MAX_BYTES is not stored any further; the form then sees
  it as too large and says so on the photos field.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render

from incidents.photos import MAX_BYTES, MAX_PHOTOS

API_PREFIX = "/api/"


class UploadTooLarge(MultiPartParserError):
    """The body went past CITYPIN_MAX_UPLOAD_BYTES while it streamed. A MultiPartParserError, so
    that wherever it is not answered as 413 it is still a 400, never a half-read form."""


class OversizedFile(UploadedFile):
    """A file part that went past the per-file limit: its name and size, none of its bytes."""

    def __init__(self, name: str, content_type: str, size: int):
        super().__init__(file=io.BytesIO(), name=name, content_type=content_type, size=size)


class LimitedUploadHandler(FileUploadHandler):
    """First of the upload handlers: passes on each file's chunks until the file is
    per_file_bytes long, then swallows the rest (counting it); stops the upload once the files
    together pass total_bytes."""

    def __init__(self, request: HttpRequest, total_bytes: int, per_file_bytes: int = MAX_BYTES):
        super().__init__(request)
        self.total_bytes = total_bytes
        self.per_file_bytes = per_file_bytes
        self.received = 0  # bytes of every file part so far, stored or not

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.file_bytes = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        self.file_bytes += len(raw_data)
        if self.received > self.total_bytes:
            self._close_other_files()
            raise UploadTooLarge(f"More than {self.total_bytes} bytes of files.")
        return raw_data if self.file_bytes <= self.per_file_bytes else None

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.file_bytes <= self.per_file_bytes:
            return None  # the next handler (memory or temporary file) holds it
        self._close_other_files()  # the part they stored before the limit
        return OversizedFile(self.file_name, self.content_type, self.file_bytes)

    def _close_other_files(self) -> None:
        for handler in self.request.upload_handlers:
            if handler is not self and getattr(handler, "file", None) is not None:
                handler.file.close()


def too_large_response(request: HttpRequest) -> HttpResponse:
    """413 in the client's format: JSON naming photos (multipart) or body for the API; a short
    page naming the photos field for everything else."""
    limit_mb = settings.CITYPIN_MAX_UPLOAD_BYTES // (1024 * 1024)
    if request.path.startswith(API_PREFIX):
        field = "photos" if request.content_type == "multipart/form-data" else "body"
        return JsonResponse({field: [f"The request body is larger than {limit_mb} MB."]}, status=413)
    response = render(request, "citypin/too_large.html", {
        "limit_mb": limit_mb, "max_photos": MAX_PHOTOS, "photo_mb": MAX_BYTES // (1024 * 1024),
        "back": request.path})
    response.status_code = 413
    return response


class RequestBodyLimitMiddleware:
    """Refuses a declared Content-Length over the limit, and puts LimitedUploadHandler in front
    of the upload handlers for what streams in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.CITYPIN_MAX_UPLOAD_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            return too_large_response(request)
        request.upload_handlers.insert(0, LimitedUploadHandler(request, limit))
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view, args, kwargs) -> HttpResponse | None:
        # CsrfViewMiddleware reads request.POST next; reading it here lets a refusal be
        # answered as 413 (an exception there would be a bare 400). Views exempt from CSRF (the
        # API) read their body themselves, and process_exception answers for them.
        if request.method == "POST" and request.content_type == "multipart/form-data" \
                and not getattr(view, "csrf_exempt", False):
            try:
                request.POST  # noqa: B018 (parses the body)
            except UploadTooLarge:
                return too_large_response(request)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return too_large_response(request) if isinstance(exception, UploadTooLarge) else None
