"""Turning posting HTML into plain text (selectolax; parsers are not thread-safe, so one per call)."""

from __future__ import annotations

import html as htmllib
import re

from selectolax.lexbor import LexborHTMLParser

_BLOCK_TAGS = ("p", "div", "li", "br", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "ul", "ol", "section")
# Runs of two or more, or a lone tab / no-break space (a lone space is already what it would become).
_SPACES = re.compile(r"[ \t\u00a0]{2,}|[\t\u00a0]")
_BLOCK_SELECTOR = ", ".join(_BLOCK_TAGS)
_BLANK_LINES = re.compile(r"\n\s*\n+")
_LOOKS_LIKE_HTML = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")


def looks_like_html(text: str) -> bool:
    return bool(_LOOKS_LIKE_HTML.search(text or ""))


def html_to_text(markup: str | None) -> str:
    """Visible text of an HTML fragment, one line per block, scripts and styles dropped.

    Plain text passes through (entities decoded), so callers need not know which they hold.
    """
    if not markup:
        return ""
    if not looks_like_html(markup):
        return _tidy(htmllib.unescape(markup))
    tree = LexborHTMLParser(markup)
    tree.strip_tags(["script", "style", "noscript", "template", "iframe"])
    root = tree.body or tree.root
    if root is None:
        return ""
    # Block boundaries become line breaks so sentences from adjacent list items don't merge.
    for node in root.css(_BLOCK_SELECTOR):
        node.insert_after("\n")
    return _tidy(root.text(separator=" ", strip=False))


def _tidy(text: str) -> str:
    text = text.replace("\r", "")
    # re tries the pattern at each of a text's ~500 spaces (~100 µs per 3,000 characters): skip it when it has
    # nothing to replace, as in most plain text.
    if "  " in text or "\t" in text or "\u00a0" in text:
        text = _SPACES.sub(" ", text)
    lines = (line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
