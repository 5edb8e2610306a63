"""Lists are paginated with ?page=N&page_size=M, checked strictly: a page or page size that
is not a whole number in range is a 400 naming the parameter (DRF's own pagination quietly
falls back to the default size), and a page past the last is a 404."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

MAX_PAGE_SIZE = 1000


MAX_PAGE = 2**31 - 1


def _whole_number(request: Request, name: str, *, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12 and 1 <= int(raw) <= high):
        raise ValidationError({name: [f"must be a whole number from 1 to {high}"]})
    return int(raw)


class ApiPagination(PageNumberPagination):
    """?page=N (from 1) &page_size=M (1 to 1000; default REST_FRAMEWORK["PAGE_SIZE"])."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        _whole_number(request, self.page_query_param, high=MAX_PAGE)
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request: Request) -> int:
        size = _whole_number(request, self.page_size_query_param, high=MAX_PAGE_SIZE)
        return self.page_size if size is None else size

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1; past the last page answers 404.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page, 1 to {MAX_PAGE_SIZE}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]
