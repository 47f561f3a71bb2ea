"""Chunking that respects headings and sentences: a chunk never spans two sections, never cuts a
sentence (unless one sentence alone is far too long), and stays near the size the embedding model
was trained on (all-MiniLM-L6-v2: 128 word pieces, about 80 English words)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from domain.knowledge import Chunk

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "Dr.", "Mr.", "Mrs.", "Ms.", "St.", "vs.", "approx.", "No.")


def sections(text: str) -> Iterator[tuple[str, str]]:
    """(heading path, body) for each section of Markdown-like text; '#' lines inside fenced code
    are body, not headings."""
    path: list[str] = []
    body: list[str] = []
    fenced = False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line)
        if match is None:
            body.append(line)
            continue
        yield " > ".join(path), "\n".join(body)
        level = len(match.group(1))
        path = [*path[: level - 1], match.group(2).strip()]
        body = []
    yield " > ".join(path), "\n".join(body)


def sentences(body: str) -> Iterator[str]:
    """Sentences of a section body; a list item or a line of a table is one unit."""
    for paragraph in re.split(r"\n\s*\n", body):
        lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
        buffer: list[str] = []
        for line in lines:
            if _LIST_ITEM.match(line) or line.startswith("|"):
                yield from _split(" ".join(buffer))
                buffer = []
                yield line
            else:
                buffer.append(line)
        yield from _split(" ".join(buffer))


def _split(paragraph: str) -> Iterator[str]:
    parts = _SENTENCE_END.split(paragraph.strip())
    pending = ""
    for part in parts:
        pending = f"{pending} {part}".strip()
        if not pending.endswith(_ABBREVIATIONS):
            yield pending
            pending = ""
    if pending:
        yield pending


def chunk_text(text: str, max_words: int = 80) -> list[Chunk]:
    """Pack whole sentences of each section into chunks of at most `max_words` words; a sentence
    longer than twice that is cut at word boundaries."""
    chunks: list[Chunk] = []
    for heading, body in sections(text):
        for piece in _pack(sentences(body), max_words):
            chunks.append(Chunk(index=len(chunks), heading=heading, text=piece))
    return chunks


def _pack(units: Iterator[str], max_words: int) -> Iterator[str]:
    current: list[str] = []
    size = 0
    for unit in units:
        words = unit.split()
        if not words:
            continue
        if len(words) > 2 * max_words:
            if current:
                yield " ".join(current)
                current, size = [], 0
            for start in range(0, len(words), max_words):
                yield " ".join(words[start : start + max_words])
            continue
        if current and size + len(words) > max_words:
            yield " ".join(current)
            current, size = [], 0
        current.append(unit)
        size += len(words)
    if current:
        yield " ".join(current)
