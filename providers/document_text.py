"""Text out of uploaded documents: Markdown and plain text as they are, HTML through BeautifulSoup
(headings become '#' lines, so chunking keeps them), PDF through pypdf (page text)."""

from __future__ import annotations

import io
import logging
import re

from domain.errors import PermanentError

log = logging.getLogger(__name__)

_BLOCKS = ("p", "li", "td", "th", "pre", "blockquote", "dt", "dd")
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


class DocumentTextExtractor:
    def extract(self, body: bytes, media_type: str) -> str:
        if media_type == "application/pdf":
            return _pdf(body)
        text = _decode(body)
        return _html(text) if media_type == "text/html" else text


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return body.decode("latin-1")


def _html(text: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    for noise in soup(["script", "style", "nav", "header", "footer", "noscript", "template"]):
        noise.decompose()
    lines: list[str] = []
    for element in soup.find_all([*_HEADINGS, *_BLOCKS]):
        if element.find_parent(_BLOCKS) is not None:
            continue  # its text is in the enclosing block's
        words = " ".join(element.get_text(" ", strip=True).split())
        if not words:
            continue
        if element.name in _HEADINGS:
            lines += ["", "#" * int(element.name[1]) + " " + words, ""]
        else:
            lines += [f"- {words}" if element.name == "li" else words, ""]
    return "\n".join(lines)


def _pdf(body: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(body))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise PermanentError(f"the PDF could not be read: {type(exc).__name__}") from exc
    # pypdf ends every visual line with a newline; paragraphs are separated by blank lines or not at all.
    return "\n\n".join(re.sub(r"(?<![.!?:])\n(?=\S)", " ", page) for page in pages)
