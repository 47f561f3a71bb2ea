"""Speech benchmarks: how fast the shipped Whisper model transcribes on this CPU (real-time factor:
processing seconds per second of audio, below 1 is faster than real time), and what a spoken reply
costs cold (synthesized by the local voice, espeak-ng) and cached (the phrase cache in PostgreSQL).

`speech_rows(env)` is called by `python -m bench`; `python -m bench.speech` runs it alone.

1. Recordings of four sentences (2-9 s) are made with espeak-ng; the model (tiny.en, int8, the
   configured threads) is loaded once, each recording transcribed once to warm up, then three times
   timed. RTF = the sum of transcription times / the sum of durations.
2. `speak()` (the use case the workers run: cache lookup, synthesis, cache write, audio file row) is
   timed for 20 distinct phrases (cold) and then 200 times for phrases already cached.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from bench.env import BenchEnv, open_env
from bench.report import Row, render
from domain.speech import SpeechLimits, SpeechRepositories, SpeechSynthesizer
from domain.speech_services import speak
from providers.settings import Settings
from providers.whisper_stt import WhisperTranscriber
from providers.wiring import build_providers

SENTENCES = (
    "remind me to call my daughter tomorrow at ten a m",
    "book a table for two at the italian place on friday evening",
    "hello, how are you today",
    "please tell my son that I arrived home safely and that the doctor said everything looks fine, "
    "and that I will call him after dinner",
)


def _recordings(folder: Path) -> list[bytes]:
    clips = []
    for n, sentence in enumerate(SENTENCES):
        path = folder / f"clip{n}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(path), sentence], check=True)
        clips.append(path.read_bytes())
    return clips


async def _transcription(settings: Settings, clips: list[bytes]) -> list[Row]:
    transcriber = WhisperTranscriber(
        settings.speech_model, compute_type=settings.speech_compute_type, threads=settings.speech_threads
    )
    started = time.perf_counter()
    await transcriber.load()
    load_s = time.perf_counter() - started
    audio_s = 0.0
    work_s = 0.0
    for clip in clips:
        await transcriber.transcribe(clip)
    for _ in range(3):
        for clip in clips:
            started = time.perf_counter()
            transcript = await transcriber.transcribe(clip)
            work_s += time.perf_counter() - started
            audio_s += transcript.seconds
    await transcriber.aclose()
    how = f"{settings.speech_model}, {settings.speech_compute_type}, {settings.speech_threads} threads"
    return [
        Row(
            "speech: transcription real-time factor",
            f"{work_s / audio_s:.3f}",
            "< 1 (real time)",
            "met" if work_s / audio_s < 1 else "MISSED",
            f"{how}; {audio_s / 3:.1f} s of espeak-ng speech in 4 clips, x3",
        ),
        Row("speech: model load", f"{load_s * 1000:.0f} ms", "", "", "once per speech worker process"),
    ]


async def _synthesis(settings: Settings) -> list[Row]:
    providers = await build_providers(settings)
    ports = providers.skill_ports
    try:
        async with providers.uow() as uow:
            user_id = uuid.uuid4()
            await uow.conn.execute(  # type: ignore[attr-defined]
                "INSERT INTO users (id, token_hash) VALUES ($1, $2)", user_id, uuid.uuid4().bytes
            )

        async def once(text: str) -> float:
            started = time.perf_counter()
            await speak(
                text,
                "en",
                owner=(user_id, uuid.uuid4()),
                uow=providers.uow,
                speech=ports[SpeechRepositories],  # type: ignore[arg-type]
                synthesizer=ports[SpeechSynthesizer],  # type: ignore[arg-type]
                limits=ports[SpeechLimits],  # type: ignore[arg-type]
                clock=providers.clock,
            )
            return (time.perf_counter() - started) * 1000

        phrases = [f"Your appointment number {n} is confirmed for tomorrow at ten." for n in range(20)]
        cold = [await once(p) for p in phrases]
        cached = [await once(phrases[n % 20]) for n in range(200)]
    finally:
        await providers.aclose()
    engine = "ElevenLabs" if settings.elevenlabs_api_key else "espeak-ng"
    return [
        Row(
            "speech: TTS latency cold (p50 / p95)",
            f"{statistics.median(cold):.1f} / {_p95(cold):.1f} ms",
            "",
            "",
            f"{engine}, one sentence, synthesized and cached; 20 phrases",
        ),
        Row(
            "speech: TTS latency cached (p50 / p95)",
            f"{statistics.median(cached):.2f} / {_p95(cached):.2f} ms",
            "",
            "",
            "the phrase cache hit: two PostgreSQL round trips, no synthesis; 200 calls",
        ),
    ]


def _p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95) - 1]


def speech_rows(env: BenchEnv) -> list[Row]:
    settings = Settings(
        database_url=env.database_url,
        redis_url=env.redis_url,
        redis_prefix="bench-speech",
        log_level="WARNING",
    )
    with tempfile.TemporaryDirectory(prefix="errand-speech-bench-") as tmp:
        clips = _recordings(Path(tmp))
    rows = asyncio.run(_transcription(settings, clips))
    rows += asyncio.run(_synthesis(settings))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.speech")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="errand-bench-"))
    with open_env(
        args.database_url, args.redis_url, tmp, f"errand_bench_speech_{uuid.uuid4().hex[:6]}"
    ) as env:
        print(render(speech_rows(env), {}))


if __name__ == "__main__":
    main()
