"""The duration of a recording from its container's headers (mutagen): no decoding, so the API can
refuse a recording that is too long before storing it."""

from __future__ import annotations

import io
from typing import Any

from domain.speech import AudioFormat, SpeechUnavailable, UnsupportedAudio


def _readers(fmt: AudioFormat) -> list[type[Any]]:
    try:
        from mutagen.flac import FLAC
        from mutagen.mp3 import MP3
        from mutagen.mp4 import MP4
        from mutagen.oggflac import OggFLAC
        from mutagen.oggopus import OggOpus
        from mutagen.oggvorbis import OggVorbis
        from mutagen.wave import WAVE
    except ImportError as exc:
        raise SpeechUnavailable(
            "voice messages need the `speech` extra: pip install 'errand[speech]'"
        ) from exc
    readers: dict[AudioFormat, list[type[Any]]] = {
        AudioFormat.WAV: [WAVE],
        AudioFormat.FLAC: [FLAC],
        AudioFormat.OGG: [OggOpus, OggVorbis, OggFLAC],
        AudioFormat.MP3: [MP3],
        AudioFormat.M4A: [MP4],
    }
    return readers[fmt]


class MutagenAudioProbe:
    def duration(self, audio: bytes, fmt: AudioFormat) -> float:
        for reader in _readers(fmt):
            try:
                length = reader(io.BytesIO(audio)).info.length
            except Exception:  # noqa: BLE001 - mutagen raises many kinds on a damaged file
                continue
            if length is not None and length >= 0:
                return float(length)
        raise UnsupportedAudio(f"the recording cannot be read as {fmt.value.upper()}")
