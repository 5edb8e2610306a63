from rest_framework.pagination import PageNumberPagination


class ApiPagination(PageNumberPagination):
    """?page=N&page_size=M (M up to 1000; default REST_FRAMEWORK["PAGE_SIZE"])."""

    page_size_query_param = "page_size"
    max_page_size = 1000
