"""The ONNX export of all-MiniLM-L6-v2 (made by `make venv`) against sentence-transformers itself:
the intent parser's second model was trained on these vectors, so they must be the same ones."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from domain.errors import PermanentError
from providers.minilm_onnx import DEFAULT_DIR, LazyOnnxMiniLM, OnnxMiniLM, length_batches

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


def test_length_batches_group_nearly_equal_lengths_and_keep_every_text_once() -> None:
    lengths = [50, 12, 92, 26, 51, 13, 55, 90, 12, 49, 200, 3]
    batches = length_batches(lengths, max_rows=3)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        assert 1 <= len(batch) <= 3
        shortest, longest = min(lengths[i] for i in batch), max(lengths[i] for i in batch)
        assert longest <= max(shortest * 1.1, shortest + 4)
    assert [[lengths[i] for i in batch] for batch in batches] == [
        [3],
        [12, 12, 13],
        [26],
        [49, 50, 51],
        [55],
        [90, 92],
        [200],
    ]
    assert length_batches([], max_rows=64) == []


def test_batches_of_many_lengths_give_the_vectors_of_single_texts(onnx_model: OnnxMiniLM) -> None:
    """Ingest batches are cut by length now: whatever the cut, each text gets its own vector."""
    texts = [f"{'the clinic opens at nine ' * n}on weekdays" for n in range(1, 40)] + TEXTS
    batched = onnx_model.embed(texts, max_rows=8)
    for text, vector in zip(texts, batched, strict=True):
        assert np.abs(vector - onnx_model.embed_one(text)).max() < 1e-5


def test_the_lazy_model_embeds_batches_with_the_same_session(reference: np.ndarray) -> None:
    lazy = LazyOnnxMiniLM(DEFAULT_DIR)
    assert np.abs(lazy.embed(TEXTS) - reference).max() < 1e-5
    first = lazy.loaded()
    lazy.embed_one("hello")
    assert lazy.loaded() is first


async def test_float32_batches_take_the_onnx_path_without_loading_torch(reference: np.ndarray) -> None:
    """With the export, a worker on a CPU without bfloat16 never loads the torch model: questions
    and ingest batches share one ONNX Runtime session, and the vectors are sentence-transformers'."""
    from providers.minilm_embeddings import MiniLMEmbedder

    onnx_model = LazyOnnxMiniLM(DEFAULT_DIR)
    embedder = MiniLMEmbedder(precision="float32", question_model=onnx_model, batch_model=onnx_model)
    try:
        vectors = await embedder.embed(TEXTS)
        [question] = await embedder.embed([TEXTS[1]])
    finally:
        await embedder.aclose()
    assert np.abs(np.array(vectors) - reference).max() < 1e-5
    assert np.abs(np.array(question) - reference[1]).max() < 1e-5
    assert embedder.batch_engine == "ONNX Runtime float32"
    assert embedder._model is None  # torch's model was never loaded


def test_bfloat16_batches_stay_on_torch() -> None:
    from providers.minilm_embeddings import MiniLMEmbedder

    embedder = MiniLMEmbedder(precision="bfloat16", batch_model=LazyOnnxMiniLM(DEFAULT_DIR))
    assert embedder.batch_engine == "torch bfloat16"


def test_torch_batches_cut_by_length_give_the_same_vectors(onnx_model: OnnxMiniLM) -> None:
    """Without the export (or in bfloat16), torch embeds batches, cut by length the same way."""
    from providers.minilm_embeddings import MiniLMEmbedder

    texts = [f"{'take the blue pill with water ' * n}before bed" for n in range(1, 30)] + TEXTS
    embedder = MiniLMEmbedder(precision="float32", batch_size=8)
    vectors = np.array(embedder.embed_sync(texts))
    for text, vector in zip(texts, vectors, strict=True):
        assert np.abs(vector - onnx_model.embed_one(text)).max() < 1e-5
    assert embedder.embed_sync([]) == []
