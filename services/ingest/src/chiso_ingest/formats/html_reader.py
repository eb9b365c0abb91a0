"""HTML: the main text of the page, without navigation, scripts or boilerplate (trafilatura)."""

from __future__ import annotations

import codecs
import re

import lxml.html  # type: ignore[import-untyped]
import trafilatura
from lxml import etree

from chiso_ingest.formats.base import Limits, Parsed, normalise, unreadable
from chiso_ingest.formats.text_reader import decode, refuse_binary

CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)
NOT_CONTENT = (
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "template",
)


def _decoded(content: bytes) -> tuple[str, str]:
    declared = CHARSET.search(content[:4096])
    if declared:
        name = declared.group(1).decode("ascii").lower()
        try:
            codecs.lookup(name)
        except LookupError:
            pass
        else:
            if name.replace("_", "-") not in ("utf-8", "utf8"):
                return content.decode(name, errors="replace"), name
    return decode(content)


def _cleaned(html: str) -> str:
    """The page without the elements that are never report text."""
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        raise unreadable("HTML", str(exc) or "no document") from exc
    for element in list(root.iter(*NOT_CONTENT)):
        if element.getparent() is not None:
            element.drop_tree()
    return str(lxml.html.tostring(root, encoding="unicode"))


def _fallback_text(html: str) -> str:
    root = lxml.html.document_fromstring(html)
    blocks = (" ".join(el.text_content().split()) for el in root.iter("p", "li", "td", "h1", "h2"))
    return "\n".join(block for block in blocks if block)


def read_html(content: bytes, _limits: Limits) -> Parsed:
    html, encoding = _decoded(content)
    refuse_binary(html)
    cleaned = _cleaned(html)
    text = trafilatura.extract(
        cleaned, include_tables=True, include_comments=False, favor_recall=True
    )
    if not text or not text.strip():
        text = _fallback_text(cleaned)
    return Parsed(normalise(text), encoding)
