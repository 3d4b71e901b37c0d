"""Message HTML: sanitised before anyone renders it, and its text for previews."""

from __future__ import annotations

import html as entities
import re

import nh3

SPACES = re.compile(r"\s+")


def sanitize_html(html: str, *, remote_images: bool = False) -> str:
    """Email HTML as safe to show: no script, no event handlers, and no remote images
    unless ``remote_images`` (a received email's, which the app shows only once the agent
    allows them: its frame's Content-Security-Policy blocks them until then)."""

    def keep(tag: str, attr: str, value: str) -> str | None:
        if attr in ("src", "href") and value.lower().startswith("data:"):
            # Inline pictures only: a data: link could open a page of anything.
            return value if tag == "img" and value.lower().startswith("data:image/") else None
        if tag == "img" and attr == "src" and not value.startswith("cid:"):
            return value if remote_images and value.startswith(("https://", "http://")) else None
        return value

    cleaned: str = nh3.clean(
        html,
        # "cid" must be allowed here, or nh3 drops inline images before the filter keeps them.
        url_schemes={"http", "https", "mailto", "cid", "data"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=keep,
    )
    return cleaned


def html_to_text(html: str) -> str:
    # nh3 keeps the text HTML-escaped ("&amp;"); the text is shown and mailed as text.
    text: str = entities.unescape(nh3.clean(html, tags=set()))
    return SPACES.sub(" ", text).strip()
