"""Cursor pagination on every list: stable under inserts, constant cost per page at any
depth (an index range, no OFFSET, no COUNT). A cursor or a ``limit`` that can't be read is a
400 naming the parameter (DRF answers a 404 "Invalid cursor", and ignores a bad limit)."""

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

from agents.permissions import parse_pk


class IdCursorPagination(CursorPagination):
    ordering = "id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise self._unreadable() from None
        # DRF takes the position as it comes: "p=abc" (or a number past 64 bits) would reach
        # the id filter and fail there (a 500). Every list here is ordered by id.
        if cursor is not None and cursor.position is not None and parse_pk(cursor.position) is None:
            raise self._unreadable()
        return cursor

    @staticmethod
    def _unreadable() -> ValidationError:
        return ValidationError(
            {
                "cursor": [
                    "This cursor can't be read: use the `next` or `previous` link of a "
                    "page as it was given."
                ]
            }
        )

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise ValidationError({"limit": [f"A whole number from 1 to {self.max_page_size}."]})
        return min(int(raw), self.max_page_size)


class NewestFirstPagination(IdCursorPagination):
    ordering = "-id"
