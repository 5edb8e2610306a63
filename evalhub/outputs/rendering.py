"""Untrusted text (model outputs, prompts) to safe HTML: markdown on the server, then an
allow-list sanitiser. Done once when the text arrives, never per page view."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

_TAGS = {
    "p", "br", "hr", "pre", "code", "blockquote", "ul", "ol", "li", "strong", "em", "del",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "a",
}  # fmt: skip
# No <img>: remote images would leak the rater's address and could be used to track them.
_ATTRIBUTES = {"a": {"href", "title"}, "code": {"class"}, "th": {"align"}, "td": {"align"}}


def render_untrusted_markdown(text: str) -> str:
    """Markdown text -> sanitised HTML fragment. Links get rel=noopener noreferrer nofollow
    and only http(s)/mailto schemes survive; raw HTML in the text is shown as text."""
    html = _markdown.render(text)
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
