"""Django's user and message middleware, left out of the crowd rating pages
(/s/<study>/...).

A crowd participant has no account: the pages know them by their own cookie (`rs`), never
by Django's user or messages. Each of these middleware still costs every request its set-up
(a lazy user, a message storage with its cookie signer). The rest of the site, the
logged-in raters' /rate/<study>/ included, runs them; the crowd pages keep the security
middleware (CSRF, CSP, frame options, HTTPS). Two stay as they are, named in the settings
as their own checks look for them: Django's sessions (the deploy checks of the session
cookie) and django-axes' (which costs nothing where nobody logs in)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.middleware import AuthenticationMiddleware as AuthenticationBase
from django.contrib.messages.middleware import MessageMiddleware as MessageBase
from django.http import HttpRequest, HttpResponseBase

CROWD_PAGES = "/s/"  # evalhub.rating.urls: entry, consent, rate, done


def not_on_crowd_pages(base: type) -> type:
    """`base`, a middleware class, passing crowd rating pages straight on."""

    class Middleware(base):
        get_response: Callable[[HttpRequest], HttpResponseBase]

        def __call__(self, request: HttpRequest) -> HttpResponseBase:
            # In ASGI mode get_response returns a coroutine: awaited by the caller as is.
            if request.path_info.startswith(CROWD_PAGES):
                return self.get_response(request)
            return super().__call__(request)

    Middleware.__name__ = Middleware.__qualname__ = base.__name__
    Middleware.__doc__ = f"{base.__module__}.{base.__name__}, not on the crowd rating pages."
    return Middleware


AuthenticationMiddleware = not_on_crowd_pages(AuthenticationBase)
MessageMiddleware = not_on_crowd_pages(MessageBase)
