"""Cursor pagination on every list: stable under inserts, constant cost per page at any
depth (an index range, no OFFSET, no COUNT). A cursor or a ``limit`` that can't be read is a
400 naming the parameter (DRF answers a 404 "Invalid cursor", and ignores a bad limit)."""

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    ordering = "id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError(
                {
                    "cursor": [
                        "This cursor can't be read: use the `next` or `previous` link of a "
                        "page as it was given."
                    ]
                }
            ) from None

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise ValidationError({"limit": [f"A whole number from 1 to {self.max_page_size}."]})
        return min(int(raw), self.max_page_size)


class NewestFirstPagination(IdCursorPagination):
    ordering = "-id"
