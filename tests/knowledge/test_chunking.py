"""Chunking and text extraction: pure, no model."""

from __future__ import annotations

import pytest

from domain.chunking import chunk_text
from domain.errors import InvalidInput, PermanentError
from domain.knowledge import media_type_of
from providers.document_text import DocumentTextExtractor
from tests.knowledge.pdf import tiny_pdf


def test_chunks_follow_headings_and_never_cut_a_sentence() -> None:
    long_section = " ".join(f"Sentence number {i} says something useful about the topic." for i in range(30))
    text = (
        f"Intro line.\n\n# Guide\n\n## First\nShort first part.\n\n## Second\n{long_section}\n\n"
        "### Deep\nDeep."
    )
    chunks = chunk_text(text, max_words=40)
    assert [c.heading for c in chunks][:3] == ["", "Guide > First", "Guide > Second"]
    assert chunks[-1].heading == "Guide > Second > Deep" and chunks[-1].text == "Deep."
    second = [c.text for c in chunks if c.heading == "Guide > Second"]
    assert len(second) > 1 and " ".join(second) == long_section
    assert all(len(c.text.split()) <= 40 for c in chunks)
    assert all(t.endswith("topic.") for t in second)  # whole sentences only
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_abbreviations_list_items_and_code_fences_are_respected() -> None:
    text = (
        "# Notes\nAsk Dr. Smith, e.g. on Monday. Then rest.\n- item one\n- item two\n"
        "```\n# not a heading\n```"
    )
    chunks = chunk_text(text, max_words=6)
    texts = [c.text for c in chunks]
    assert "Ask Dr. Smith, e.g. on Monday." in texts
    assert {c.heading for c in chunks} == {"Notes"}
    assert any("# not a heading" in t for t in texts)


def test_an_overlong_sentence_is_cut_at_words() -> None:
    words = " ".join(["word"] * 250)
    chunks = chunk_text(words, max_words=80)
    assert [len(c.text.split()) for c in chunks] == [80, 80, 80, 10]


def test_html_headings_become_sections_and_page_chrome_is_dropped() -> None:
    html = b"""<html><head><style>p{}</style></head><body><nav>Home | FAQ</nav>
    <h1>Clinic</h1><h2>Hours</h2><p>Open <b>daily</b> from 9.</p><ul><li>Closed on Sundays.</li></ul>
    <script>alert(1)</script></body></html>"""
    text = DocumentTextExtractor().extract(html, "text/html")
    chunks = chunk_text(text)
    assert [(c.heading, c.text) for c in chunks] == [
        ("Clinic > Hours", "Open daily from 9. - Closed on Sundays.")
    ]


def test_pdf_text_is_extracted_and_a_broken_pdf_is_a_permanent_error() -> None:
    pdf = tiny_pdf(["Blood tests are taken on Tuesday mornings.", "Please fast for 12 hours before."])
    text = DocumentTextExtractor().extract(pdf, "application/pdf")
    assert "Blood tests are taken on Tuesday mornings." in text
    assert "fast for 12 hours" in text
    with pytest.raises(PermanentError):
        DocumentTextExtractor().extract(b"%PDF-1.4 this is not really a pdf", "application/pdf")


@pytest.mark.parametrize(
    ("filename", "declared", "expected"),
    [
        ("notes.md", None, "text/markdown"),
        ("faq.HTML", "application/octet-stream", "text/html"),
        ("x.bin", "application/pdf", "application/pdf"),
        ("readme.txt", "", "text/plain"),
    ],
)
def test_media_types(filename: str, declared: str | None, expected: str) -> None:
    assert media_type_of(filename, declared) == expected


def test_unknown_media_types_are_refused() -> None:
    with pytest.raises(InvalidInput):
        media_type_of("slides.pptx", "application/vnd.ms-powerpoint")
