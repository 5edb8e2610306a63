"""The CSP middleware sends django-csp's own header, built once, and still honours
django-csp's per-view decorators and settings overrides."""

from csp.decorators import csp_update
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from evalhub.content_security import CSPMiddleware

HEADER = "Content-Security-Policy"


def page(request):
    return HttpResponse("ok")


@csp_update({"img-src": "https://images.example.org"})
def page_with_images(request):
    return HttpResponse("ok")


def header(middleware_class, view=page, path="/") -> str | None:
    return middleware_class(view)(RequestFactory().get(path)).get(HEADER)


def test_it_sends_what_django_csp_would():
    assert header(CSPMiddleware) == header(DjangoCSPMiddleware)
    assert "script-src 'self'" in header(CSPMiddleware)


def test_a_views_own_update_goes_through_django_csp():
    updated = header(CSPMiddleware, page_with_images)
    assert "https://images.example.org" in updated
    assert updated == header(DjangoCSPMiddleware, page_with_images)
    assert "https://images.example.org" not in header(CSPMiddleware)


def test_changed_settings_take_effect():
    policy = {"DIRECTIVES": {"default-src": ["'self'"]}, "EXCLUDE_URL_PREFIXES": ["/open/"]}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        assert header(CSPMiddleware) == "default-src 'self'"
        assert header(CSPMiddleware, path="/open/x") is None
    assert "script-src 'self'" in header(CSPMiddleware)
