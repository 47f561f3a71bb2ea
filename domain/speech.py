"""Speech: voice messages in (formats, limits, transcripts), spoken replies out (voices, the phrase
cache, languages), and the ports the speech providers implement. Pure: no I/O here."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from domain.conversation import (
    CHECKING_REPLY,
    CLARIFY_NO_REPLY,
    CLARIFY_QUESTIONS,
    MORE_PLEASE,
    QUESTIONS,
    UNSUPPORTED_REPLY,
    UNSURE_REPLY,
)
from domain.errors import DomainError
from domain.intents import Intent
from domain.ports import UnitOfWork
from domain.wording import Said, detect_language

TRANSCRIBE_SKILL = "transcribe"
SPEAK_REPLY_SKILL = "speak_reply"
"""Speaks a reply the API made itself (a question, a read-back) and adds its audio to that task."""
"""The speech-lane skill that turns a voice message into text and accepts that as a message."""
PENDING_INTENT = "pending"
"""The intent of a voice message's task until it is transcribed (the parsed task has the real one)."""
LANGUAGES = ("en", "sv")
"""Languages with replies and voices. Others are answered in English."""
DEFAULT_LANGUAGE = "en"


class AudioFormat(StrEnum):
    WAV = "wav"
    FLAC = "flac"
    OGG = "ogg"
    MP3 = "mp3"
    M4A = "m4a"


MEDIA_TYPES: dict[AudioFormat, str] = {
    AudioFormat.WAV: "audio/wav",
    AudioFormat.FLAC: "audio/flac",
    AudioFormat.OGG: "audio/ogg",
    AudioFormat.MP3: "audio/mpeg",
    AudioFormat.M4A: "audio/mp4",
}

_M4A_BRANDS = (b"M4A ", b"M4B ", b"mp41", b"mp42", b"isom", b"iso2", b"dash", b"3gp4", b"3gp5")


def sniff_audio(head: bytes) -> AudioFormat | None:
    """The format by its magic number (the first 64 bytes are enough); None for anything else,
    whatever its name or declared content type says."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return AudioFormat.WAV
    if head[:4] == b"fLaC":
        return AudioFormat.FLAC
    if head[:4] == b"OggS":
        return AudioFormat.OGG
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return AudioFormat.MP3
    if head[4:8] == b"ftyp" and head[8:12] in _M4A_BRANDS:
        return AudioFormat.M4A
    return None


class AudioTooLarge(DomainError):
    """A recording over the size or duration limit."""

    title = "Recording too large"


class UnsupportedAudio(DomainError):
    """Not a recording in one of the accepted formats, or one that cannot be read."""

    title = "Unsupported audio"


class SpeechUnavailable(DomainError):
    """Speech recognition or synthesis is not installed or not configured on this deployment."""

    title = "Speech unavailable"


@dataclass(frozen=True, slots=True)
class SpeechLimits:
    max_bytes: int = 10 * 1024 * 1024
    max_seconds: float = 120.0
    audio_ttl_seconds: float = 86400.0
    """How long a spoken reply stays downloadable."""
    rate: float = 1.0
    """Speaking speed of the replies."""


@dataclass(frozen=True, slots=True)
class Clip:
    """A voice message kept until it is transcribed."""

    task_id: uuid.UUID
    user_id: uuid.UUID
    format: AudioFormat
    audio: bytes
    seconds: float


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    language: str
    """ISO 639-1, as the model detected it (an English-only model always says `en`)."""
    seconds: float
    """The recording's duration."""
    model: str


@dataclass(frozen=True, slots=True)
class Voice:
    """What a phrase is spoken with; with the text, the key of the phrase cache."""

    engine: str
    name: str
    language: str
    rate: float = 1.0


@dataclass(frozen=True, slots=True)
class SpokenAudio:
    audio: bytes
    media_type: str
    voice: Voice
    """The voice that actually spoke (the local one when the preferred engine failed)."""


@dataclass(frozen=True, slots=True)
class AudioFile:
    """A spoken reply, downloadable by its owner until it expires."""

    id: uuid.UUID
    user_id: uuid.UUID
    media_type: str
    audio: bytes
    expires_at: datetime


class AudioProbe(Protocol):
    def duration(self, audio: bytes, fmt: AudioFormat) -> float:
        """Seconds of audio, read from the container's headers without decoding. Raises
        UnsupportedAudio when the file cannot be read as `fmt`, SpeechUnavailable when no prober
        is installed."""
        ...


class Transcriber(Protocol):
    def available(self) -> str | None:
        """None when transcription can run here; otherwise why not and how to fix it."""
        ...

    async def load(self) -> None:
        """Load the model now rather than on the first recording. Raises SpeechUnavailable."""
        ...

    async def transcribe(self, audio: bytes, *, language: str | None = None) -> Transcript:
        """Raises SpeechUnavailable (no model), PermanentError (undecodable audio)."""
        ...


class SpeechSynthesizer(Protocol):
    def voice(self, language: str, rate: float) -> Voice:
        """The preferred voice for the language."""
        ...

    async def synthesize(self, text: str, voice: Voice) -> SpokenAudio:
        """Raises SpeechUnavailable when no engine can speak, TransientError for a failure that a
        retry may fix."""
        ...


class SpeechRepository(Protocol):
    async def add_clip(self, clip: Clip) -> None: ...

    async def clip(self, task_id: uuid.UUID) -> Clip | None: ...

    async def cached(self, key: str) -> str | None:
        """The cached phrase's media type (and its last use is refreshed), or None."""
        ...

    async def cache(self, key: str, text: str, spoken: SpokenAudio) -> None:
        """Idempotent: a phrase cached twice stays one entry."""
        ...

    async def add_audio_file(
        self, audio_id: uuid.UUID, user_id: uuid.UUID, key: str, expires_at: datetime
    ) -> None:
        """Idempotent on `audio_id`."""
        ...

    async def audio_file(self, audio_id: uuid.UUID, user_id: uuid.UUID, now: datetime) -> AudioFile | None:
        """The user's unexpired audio file; None for another user's or an expired one."""
        ...

    async def attach_audio(self, task_id: uuid.UUID, user_id: uuid.UUID, reply: str, audio_url: str) -> bool:
        """Put `audio_url` in the result of the user's task while `reply` is still its reply (a
        later answer may have moved it on); True when it was attached."""
        ...

    async def purge(self, now: datetime, clip_retention_seconds: float, cache_seconds: float) -> int:
        """Delete expired audio files, transcribed (or too old) recordings and cold cache entries;
        returns how many rows went."""
        ...


class SpeechRepositories(Protocol):
    """The repository on a unit of work's connection, so a clip commits with its task."""

    def __call__(self, uow: UnitOfWork) -> SpeechRepository: ...


def cache_key(text: str, voice: Voice) -> str:
    """The phrase cache's key: (text, engine and voice, language, speed)."""
    raw = "\x1f".join((text.strip(), voice.engine, voice.name, voice.language, f"{voice.rate:.2f}"))
    return hashlib.sha256(raw.encode()).hexdigest()


def audio_file_id(task_id: uuid.UUID, key: str) -> uuid.UUID:
    """Deterministic, so a re-run of a task speaking the same reply makes no second file."""
    return uuid.uuid5(task_id, key)


def audio_path(audio_id: uuid.UUID) -> str:
    return f"/v1/audio/{audio_id}"


def reply_language(setting: str | None, detected: str | None, text: str) -> str:
    """The user's setting, else the language the recogniser heard, else one guessed from the text."""
    for language in (setting, detected):
        if language in LANGUAGES:
            return language
    return detect_language(text)


SWEDISH: dict[str, str] = {
    "Hello! How can I help you today?": "Hej! Vad kan jag hjälpa dig med i dag?",
    "You're welcome.": "Varsågod.",
    "I'm here. I can't do that yet, but you can ask me again any time.": (
        "Jag är här. Det kan jag inte göra än, men du kan fråga mig igen när du vill."
    ),
    "I don't know the answer to that yet.": "Det vet jag inte än.",
    "I can't do that yet.": "Det kan jag inte göra än.",
    "Okay, I'm on it.": "Okej, jag ordnar det.",
    "All right, I won't do that.": "Okej, då gör jag inte det.",
    "Shall I go ahead?": "Ska jag göra det?",
    "You have no reminders.": "Du har inga påminnelser.",
    "You have no upcoming bookings to cancel.": "Du har inga kommande bokningar att avboka.",
    UNSURE_REPLY: (
        "Förlåt, jag förstod inte riktigt vad du vill att jag ska göra. Kan du säga det på ett annat sätt?"
    ),
    UNSUPPORTED_REPLY: "Förlåt, det kan jag inte göra än.",
    CLARIFY_NO_REPLY: "Okej. Vad vill du att jag ska göra?",
    CLARIFY_QUESTIONS[Intent.BOOK_RESTAURANT]: "Ville du att jag skulle boka ett bord?",
    CLARIFY_QUESTIONS[Intent.BOOK_APPOINTMENT]: "Ville du att jag skulle boka en tid?",
    CLARIFY_QUESTIONS[Intent.CANCEL_BOOKING]: "Ville du att jag skulle avboka något?",
    CLARIFY_QUESTIONS[Intent.BOOKING_STATUS]: "Ville du att jag skulle kolla en av dina bokningar?",
    CLARIFY_QUESTIONS[Intent.SET_REMINDER]: "Ville du att jag skulle lägga in en påminnelse?",
    CLARIFY_QUESTIONS[Intent.LIST_REMINDERS]: "Ville du höra dina påminnelser?",
    CLARIFY_QUESTIONS[Intent.NOTIFY_FAMILY]: "Ville du att jag skulle skicka ett meddelande till någon?",
    QUESTIONS["party_size"]: "För hur många personer?",
    QUESTIONS["start"]: "Vilken dag och tid vill du ha?",
    QUESTIONS["venue"]: "Var vill du boka?",
    QUESTIONS["what"]: "Vad ska jag påminna dig om?",
    QUESTIONS["contact"]: "Vem ska jag skicka det till?",
    QUESTIONS["message"]: "Vad ska jag säga till dem?",
    QUESTIONS["question"]: "Vad vill du veta?",
    MORE_PLEASE: "Kan du berätta lite mer?",
    CHECKING_REPLY: "Jag kollar det åt dig.",
    "That time has already passed. What day and time would you like?": (
        "Den tiden har redan varit. Vilken dag och tid vill du ha?"
    ),
    "Which restaurant would you like?": "Vilken restaurang vill du boka?",
    "Where would you like the appointment?": "Var vill du boka tiden?",
    "I couldn't find a booking like that.": "Jag hittade ingen sådan bokning.",
    "You have no upcoming bookings.": "Du har inga kommande bokningar.",
    "Who should I send it to? You have no contacts yet: add one in the app, then tell me.": (
        "Vem ska jag skicka det till? Du har inga kontakter än: lägg till en i appen och säg sedan till."
    ),
    "I don't know. I couldn't find that in your documents.": (
        "Det vet jag inte. Jag hittade det inte i dina dokument."
    ),
    "I don't know the answer to that yet: no documents have been added for me to look in.": (
        "Det vet jag inte än: inga dokument har lagts till som jag kan leta i."
    ),
    "I'm still reading the documents you added. Please ask me again in a moment.": (
        "Jag läser fortfarande dokumenten du lade till. Fråga mig gärna igen om en liten stund."
    ),
    "Sorry, I couldn't understand when to remind you. Could you say it another way?": (
        "Förlåt, jag förstod inte när jag ska påminna dig. Kan du säga det på ett annat sätt?"
    ),
    "That time has already passed, so I haven't set a reminder.": (
        "Den tiden har redan varit, så jag har inte lagt in någon påminnelse."
    ),
    "Thank you. There is no reminder waiting for an answer right now.": (
        "Tack. Det finns ingen påminnelse som väntar på svar just nu."
    ),
    "I couldn't confirm the booking yet; I'll try again and tell you.": (
        "Jag kunde inte bekräfta bokningen än; jag försöker igen och hör av mig."
    ),
}
"""Swedish for the fixed replies. Replies composed from a request's details (read-backs, times,
venue names) carry their Swedish themselves (`domain.wording.Said`)."""

NO_SPEECH_REPLY = "Sorry, I couldn't hear any words in that recording. Could you say it again?"
SWEDISH[NO_SPEECH_REPLY] = "Förlåt, jag hörde inga ord i inspelningen. Kan du säga det igen?"

COMMON_PHRASES: tuple[str, ...] = tuple(SWEDISH)
"""Replies worth synthesizing before anyone asks (at a speech worker's start)."""


_IN_SWEDISH = frozenset(SWEDISH.values())


def localize(reply: str, language: str) -> tuple[str, str]:
    """The reply in the language if we have it there, with the language it is now in (a reply
    already put in Swedish, as the API does with its questions, stays Swedish). A composed reply
    (`domain.wording.Said`) carries its Swedish; what is returned is always a plain str."""
    if isinstance(reply, Said):
        return (reply.sv, "sv") if language == "sv" else (str(reply), DEFAULT_LANGUAGE)
    if reply in _IN_SWEDISH:
        return reply, "sv"
    if language == "sv" and reply in SWEDISH:
        return SWEDISH[reply], "sv"
    return reply, DEFAULT_LANGUAGE


def phrases_to_presynthesize(languages: Sequence[str] = LANGUAGES) -> list[tuple[str, str]]:
    """(text, language) of every common phrase in every language we speak."""
    pairs = [(phrase, DEFAULT_LANGUAGE) for phrase in COMMON_PHRASES]
    if "sv" in languages:
        pairs += [(SWEDISH[phrase], "sv") for phrase in COMMON_PHRASES]
    return pairs
