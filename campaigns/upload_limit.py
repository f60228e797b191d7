"""Uploads past the size limit are refused before they are received, not after.

``UploadLimitMiddleware`` (in ``MIDDLEWARE``, before anything reads the body) answers 413
to a multipart request whose ``Content-Length`` is past the largest upload any page takes
(``CONTACT_LIST_MAX_UPLOAD_BYTES``, plus ``FORM_ALLOWANCE`` for the form's other fields and
the multipart framing), without reading a byte of it. Below that, it puts
``LimitedUploadHandler`` first among the request's upload handlers: it counts each file's
bytes as they arrive and stops reading the request at the limit (a ``Content-Length`` that
lies, or none), and the form says why by its file field (``request.upload_refused``).
Django's own ``DATA_UPLOAD_MAX_MEMORY_SIZE`` leaves files out.

The contact-list limit is for the pages that take a list (``LIST_UPLOAD_VIEWS``), posted by
someone logged in as staff; every other multipart request, and an anonymous one anywhere
(CSRF reads the body before any view checks who sent it), gets ``UPLOAD_MAX_BYTES``, so
nobody can make the server spool hundreds of megabytes by posting to any address."""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve

from .uploads import too_big_message

FORM_ALLOWANCE = 64 * 1024
# The admin's pages that upload a contact list: a new list, and rows appended to one.
LIST_UPLOAD_VIEWS = frozenset(
    {"admin:campaigns_contactlist_add", "admin:campaigns_contactlist_append"}
)


def _takes_a_list(request: HttpRequest) -> bool:
    try:
        view_name = resolve(request.path_info).view_name
    except Resolver404:
        return False
    if view_name not in LIST_UPLOAD_VIEWS:
        return False
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff)


def upload_limit(request: HttpRequest) -> int:
    """The largest file ``request`` may upload."""
    if _takes_a_list(request):
        return settings.CONTACT_LIST_MAX_UPLOAD_BYTES
    return settings.UPLOAD_MAX_BYTES


class LimitedUploadHandler(FileUploadHandler):
    """Stops the upload once a file passes the limit: the rest is not read (the connection
    is closed after the answer), and ``request.upload_refused`` says why."""

    def __init__(self, request=None, limit: int | None = None):
        super().__init__(request)
        self.received = 0
        self.limit = limit if limit is not None else settings.UPLOAD_MAX_BYTES

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            if self.request is not None:
                self.request.upload_refused = too_big_message(self.received, self.limit)
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


def _content_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def upload_bound(request: HttpRequest, limit: int) -> str | None:
    """Bound a multipart upload to ``limit`` bytes before its body is read: a declared length
    past it is refused unread (the message returned); below it, the file is counted as it
    arrives (``LimitedUploadHandler``). The pages (the middleware) and the API share it."""
    length = _content_length(request)
    if length is not None and length > limit + FORM_ALLOWANCE:
        return too_big_message(length, limit)
    request.upload_handlers.insert(0, LimitedUploadHandler(request, limit))
    return None


class UploadLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.content_type == "multipart/form-data":
            refused = upload_bound(request, upload_limit(request))
            if refused:
                return self._too_big(request, refused)
        return self.get_response(request)

    def _too_big(self, request: HttpRequest, message: str) -> HttpResponse:
        response = HttpResponse(
            render_to_string(
                "campaigns/upload_too_big.html",
                {"message": message, "back": request.path},
                request=request,
            ),
            status=413,
        )
        # The body was not read: the connection cannot carry another request.
        response["Connection"] = "close"
        return response
