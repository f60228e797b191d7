"""Uploads past the size limit are refused before they are received, not after.

``UploadLimitMiddleware`` (in ``MIDDLEWARE``, before anything reads the body) answers 413
to a multipart request whose ``Content-Length`` is past the largest upload any page takes
(``CONTACT_LIST_MAX_UPLOAD_BYTES``, plus ``FORM_ALLOWANCE`` for the form's other fields and
the multipart framing), without reading a byte of it. Below that, it puts
``LimitedUploadHandler`` first among the request's upload handlers: it counts each file's
bytes as they arrive and stops reading the request at the limit (a ``Content-Length`` that
lies, or none), and the form says why by its file field (``request.upload_refused``).
Django's own ``DATA_UPLOAD_MAX_MEMORY_SIZE`` leaves files out."""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from .uploads import too_big_message

FORM_ALLOWANCE = 64 * 1024


def _limit() -> int:
    return settings.CONTACT_LIST_MAX_UPLOAD_BYTES


class LimitedUploadHandler(FileUploadHandler):
    """Stops the upload once a file passes the limit: the rest is not read (the connection
    is closed after the answer), and ``request.upload_refused`` says why."""

    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > _limit():
            if self.request is not None:
                self.request.upload_refused = too_big_message(self.received, _limit())
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


def _content_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


class UploadLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.content_type == "multipart/form-data":
            length = _content_length(request)
            if length is not None and length > _limit() + FORM_ALLOWANCE:
                return self._too_big(request, length)
            request.upload_handlers.insert(0, LimitedUploadHandler(request))
        return self.get_response(request)

    def _too_big(self, request: HttpRequest, length: int) -> HttpResponse:
        response = HttpResponse(
            render_to_string(
                "campaigns/upload_too_big.html",
                {"message": too_big_message(length, _limit()), "back": request.path},
                request=request,
            ),
            status=413,
        )
        # The body was not read: the connection cannot carry another request.
        response["Connection"] = "close"
        return response
