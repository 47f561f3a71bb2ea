"""bfloat16 embeddings are only worth their ~3x speed if they rank passages like float32 ones, and
`auto` must never pick bfloat16 on a CPU that would emulate it (there it is slower)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

from providers.minilm_embeddings import MiniLMEmbedder, native_bfloat16, resolve_precision

TEXTS = [
    "How often should I have my eyes tested?",
    "Take the heart pills with food, every morning at eight.",
    "The clinic is closed on public holidays; call the out-of-hours line instead.",
]


def test_auto_is_bfloat16_only_where_the_cpu_has_it() -> None:
    assert resolve_precision("auto", native=lambda: True) == "bfloat16"
    assert resolve_precision("auto", native=lambda: False) == "float32"
    assert resolve_precision("float32", native=lambda: True) == "float32"
    assert resolve_precision("bfloat16", native=lambda: False) == "bfloat16"


def test_native_bfloat16_is_read_from_the_cpu_flags(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor : 0\nflags : fpu avx2 avx512f avx512_vnni\n")
    assert native_bfloat16(cpuinfo) is False
    cpuinfo.write_text("processor : 0\nflags : fpu avx2 avx512f avx512_bf16 avx512_vnni\n")
    assert native_bfloat16(cpuinfo) is True
    cpuinfo.write_text("processor : 0\nflags : fpu avx2 amx_bf16 amx_tile amx_int8\n")
    assert native_bfloat16(cpuinfo) is True


def test_bfloat16_vectors_match_float32_ones() -> None:
    reduced = MiniLMEmbedder(precision="bfloat16")
    exact = MiniLMEmbedder(precision="float32")
    try:
        low = np.array(reduced.embed_sync(TEXTS))
        high = np.array(exact.embed_sync(TEXTS))
    finally:
        asyncio.run(reduced.aclose())
        asyncio.run(exact.aclose())
    assert reduced.precision == "bfloat16" and exact.precision == "float32"
    assert low.dtype == np.float64 and low.shape == (3, 384)
    cosine = (low * high).sum(axis=1)
    assert cosine.min() > 0.999, cosine
    # and the ranking of passages against a question is the same
    assert np.argsort(low[1:] @ low[0]).tolist() == np.argsort(high[1:] @ high[0]).tolist()
