"""Cursor pagination on every list: stable under inserts, constant cost per page at any
depth (an index range, no OFFSET, no COUNT)."""

from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    ordering = "id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200


class NewestFirstPagination(IdCursorPagination):
    ordering = "-id"
