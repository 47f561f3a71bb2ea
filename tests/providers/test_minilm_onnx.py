"""The ONNX export of all-MiniLM-L6-v2 (made by `make venv`) against sentence-transformers itself:
the intent parser's second model was trained on these vectors, so they must be the same ones."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from domain.errors import PermanentError
from providers.minilm_onnx import DEFAULT_DIR, LazyOnnxMiniLM, OnnxMiniLM

TEXTS = [
    "hi",
    "please unbook the table we had at the harbour inn on friday",
    "what are the clinic's opening hours on a public holiday, and may I bring my dog to the appointment?",
    "remind me",
    "word " * 400,  # longer than the model's 256 tokens: truncated alike
]


@pytest.fixture(scope="module")
def onnx_model() -> OnnxMiniLM:
    return OnnxMiniLM(DEFAULT_DIR, threads=2)


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    from providers.minilm_embeddings import model_dir

    model = SentenceTransformer(str(model_dir()), device="cpu")
    vectors: np.ndarray = model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    return vectors


def test_one_text_at_a_time_gives_sentence_transformers_vectors(
    onnx_model: OnnxMiniLM, reference: np.ndarray
) -> None:
    for text, expected in zip(TEXTS, reference, strict=True):
        vector = onnx_model.embed_one(text)
        assert vector.shape == (384,)
        assert np.abs(vector - expected).max() < 1e-5
        assert float(vector @ vector) == pytest.approx(1.0, abs=1e-5)


def test_padded_batches_give_the_same_vectors(onnx_model: OnnxMiniLM, reference: np.ndarray) -> None:
    """Texts of very different lengths share a padded batch: the mask must keep padding out."""
    vectors = onnx_model.embed(TEXTS)
    assert np.abs(vectors - reference).max() < 1e-5
    assert onnx_model.embed([]).shape == (0, 384)


def test_a_missing_export_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(PermanentError, match="make venv"):
        OnnxMiniLM(tmp_path)
    with pytest.raises(PermanentError, match="make venv"):
        LazyOnnxMiniLM(tmp_path)


def test_the_lazy_model_loads_once_across_threads(reference: np.ndarray) -> None:
    lazy = LazyOnnxMiniLM(DEFAULT_DIR)
    results: list[np.ndarray] = []
    threads = [threading.Thread(target=lambda: results.append(lazy.embed_one(TEXTS[1]))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4
    for vector in results:
        assert np.abs(vector - reference[1]).max() < 1e-5
    assert lazy._model is not None


async def test_a_question_takes_the_onnx_path_and_gets_the_batch_paths_vector() -> None:
    """A single text goes to the ONNX model (fast for one), batches to torch: the vectors agree,
    so chunks embedded by one and questions by the other stay comparable."""
    from providers.minilm_embeddings import MiniLMEmbedder

    asked: list[str] = []
    onnx_model = LazyOnnxMiniLM(DEFAULT_DIR)

    class Recording:
        def embed_one(self, text: str) -> np.ndarray:
            asked.append(text)
            return onnx_model.embed_one(text)

    embedder = MiniLMEmbedder(question_model=Recording(), precision="float32")
    question = "How often should I have my eyes tested?"
    try:
        [vector] = await embedder.embed([question])
        [chunk_vector, _] = await embedder.embed([question, "another chunk of text"])
    finally:
        await embedder.aclose()
    assert asked == [question]
    assert np.abs(np.array(vector) - np.array(chunk_vector)).max() < 1e-5
