"""Message HTML: sanitised before anyone renders it, and its text for previews."""

from __future__ import annotations

import html as entities
import re

import nh3

SPACES = re.compile(r"\s+")


def sanitize_html(html: str) -> str:
    """Email HTML as safe to show: no script, no event handlers, no remote images."""
    cleaned: str = nh3.clean(
        html,
        # "cid" must be allowed here, or nh3 drops inline images before the filter keeps them.
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=lambda tag, attr, value: (
            None if tag == "img" and attr == "src" and not value.startswith("cid:") else value
        ),
    )
    return cleaned


def html_to_text(html: str) -> str:
    # nh3 keeps the text HTML-escaped ("&amp;"); the text is shown and mailed as text.
    text: str = entities.unescape(nh3.clean(html, tags=set()))
    return SPACES.sub(" ", text).strip()
