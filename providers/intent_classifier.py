"""The local intent classifier at run time: TF-IDF features and a linear model, in numpy alone.

Why no scikit-learn here: it is a training tool (`python -m nlu.train`); the API and workers
only load the exported artefact (vocabulary, idf, weights, labels, threshold) and score one
short message at a time, for which a dict lookup per n-gram and one small matrix product are
faster than a vectorizer and keep the runtime dependencies to numpy.

`features()` is the single definition of the features: training imports it, so what the model
learnt on and what it sees in production cannot drift apart.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain, pairwise
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from providers.intent_cues import cues

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "models" / "intent_classifier.npz"

FORMAT_VERSION = 5
"""Bumped whenever the features or the artefact layout change: an old artefact is refused.
4: a second model over the same features plus a MiniLM sentence vector, asked when the first is
unsure (`SecondOpinion`)."""

Embed = Callable[[str], NDArray[np.float32]]
"""One text to its unit-length MiniLM sentence vector (`providers.minilm_onnx.OnnxMiniLM.embed_one`)."""

WORD_PREFIX = "w "
"""Features starting with this are word n-grams."""
CUE_PREFIX = "k "
"""Cue features (`intent_cues`): their own block, so a few cues are not drowned by many words.
All other features are character n-grams."""

CHAR_NGRAMS = (2, 5)
"""Character n-grams within words (with a space on each side): robust to typos and spoken style."""

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


def tokens(text: str) -> list[str]:
    """Lower-case word tokens; punctuation and case carry no intent in chat or voice transcripts."""
    return _TOKEN.findall(text.lower().translate(_APOSTROPHES))


def _char_ngrams(words: list[str]) -> list[str]:
    """Character n-grams of each word padded with spaces, like scikit-learn's `char_wb`."""
    low, high = CHAR_NGRAMS
    grams: list[str] = []
    for word in words:
        padded = f" {word} "
        for size in range(low, high + 1):
            grams.extend(padded[i : i + size] for i in range(len(padded) - size + 1))
    return grams


def features(text: str) -> Counter[str]:
    """Counts of word 1-2-grams (prefixed `w `), the first word marked as such (`w <s> text`:
    "text my son" asks, "i had a text from my son" tells), the cues of `intent_cues` (in the word
    block), and character 2-5-grams (`c `)."""
    words = tokens(text)
    grams = [f"{WORD_PREFIX}<s> {words[0]}"] if words else []
    grams += [WORD_PREFIX + w for w in words]
    grams += [f"{WORD_PREFIX}{a} {b}" for a, b in pairwise(words)]
    grams += [CUE_PREFIX + cue for cue in cues(text)] if words else []
    grams += [f"c {g}" for g in _char_ngrams(words)]
    return Counter(grams)


def blocks_of(terms: list[str]) -> NDArray[np.intp]:
    """0 for each word n-gram, 1 for each character n-gram, 2 for each cue (normalised separately)."""
    block = [0 if t.startswith(WORD_PREFIX) else 2 if t.startswith(CUE_PREFIX) else 1 for t in terms]
    return np.array(block, dtype=np.intp)


def normalise(
    index: NDArray[np.intp], values: NDArray[np.float64], blocks: NDArray[np.intp]
) -> NDArray[np.float64]:
    """L2-normalise the word and the character block each on its own.

    Why: a message has several times more character n-grams than words; one joint norm would let
    the characters drown the words (measured: worse on validation than two norms).
    """
    block = blocks[index]
    norms = np.sqrt(np.bincount(block, weights=values * values, minlength=3))
    result: NDArray[np.float64] = values / norms[block]
    return result


def _softmax(logits: list[float]) -> list[float]:
    """In plain Python: for ten labels it is faster than four numpy calls."""
    top = max(logits)
    shifted = [math.exp(x - top) for x in logits]
    total = sum(shifted)
    return [x / total for x in shifted]


@dataclass(frozen=True)
class SecondOpinion:
    """A second linear model, over the same TF-IDF features plus the message's MiniLM sentence
    vector, asked only when the first model's top probability is below `gate`. The answer is then
    both models' opinions pooled: the softmax of the mean of their logits (the normalised
    geometric mean of their probabilities).

    Why: words the labelled data never pairs with an intent ("unbook", "any alerts I asked for")
    are unknown to n-grams, but a sentence model places them near their meaning; it lifts
    out-of-fold recall on the small intents (models/README.md). Why only below the gate: the
    sentence vector costs ~6-9 ms of CPU against 0.05 ms, and most messages are plain enough for
    the first model; asking it for every message would cut the API's throughput several times.
    Why pooled rather than replaced (format 5): where the first model was fairly sure of a right
    answer, the second alone sometimes fell below the threshold ("please give me a reminder",
    0.82 -> 0.52) and the message was asked back. Out of fold, pooling lifted small-intent recall
    from 0.974 to 0.980 at the same false-action rate (models/README.md).
    """

    weights: NDArray[np.float64]
    """TF-IDF features x labels."""
    dense: NDArray[np.float64]
    """Sentence-vector dimensions x labels."""
    bias: NDArray[np.float64]
    gate: float


@dataclass(frozen=True)
class FirstPass:
    """The first model's view of a message: its sparse features (reused by the second) and probabilities."""

    index: NDArray[np.intp]
    values: NDArray[np.float64]
    logits: list[float]
    probabilities: list[float]


class IntentClassifier:
    """Scores a message against every label; the caller applies `domain.intent_policy.decide`.

    The scoring path is tuned because it runs on the API's hot path: word and character n-grams
    are looked up in dicts keyed without their prefixes (no string building per n-gram), each
    word's character n-grams are remembered (people reuse a small vocabulary), and the 3-block
    TF-IDF normalisation is folded into three dot products. It computes exactly what `features()`
    and `normalise()` define, which `tests/providers/test_intent_classifier.py` checks.
    """

    WORD_CACHE_SIZE = 50_000
    """Distinct words whose character n-gram indices are kept (a few MB at most)."""

    def __init__(
        self,
        vocabulary: dict[str, int],
        idf: NDArray[np.float64],
        weights: NDArray[np.float64],
        bias: NDArray[np.float64],
        labels: list[str],
        threshold: float,
        second: SecondOpinion | None = None,
        embed: Embed | None = None,
    ) -> None:
        self.vocabulary = vocabulary
        self.blocks = blocks_of(sorted(vocabulary, key=vocabulary.__getitem__))
        self.idf = idf
        self.weights = weights
        self.bias = bias
        self.labels = labels
        self.threshold = threshold
        self.second = second
        self.embed = embed
        """Without it (or without `second`), only the first model answers."""
        self._word_index = {
            t[len(WORD_PREFIX) :]: i for t, i in vocabulary.items() if t.startswith(WORD_PREFIX)
        }
        self._char_index = {t[2:]: i for t, i in vocabulary.items() if t.startswith("c ")}
        self._cue_index = {t[len(CUE_PREFIX) :]: i for t, i in vocabulary.items() if t.startswith(CUE_PREFIX)}
        self._char_cache: dict[str, tuple[int, ...]] = {}

    @classmethod
    def load(cls, path: Path | None = None, embed: Embed | None = None) -> IntentClassifier:
        """Read the artefact written by `python -m nlu.train` (default: models/intent_classifier.npz)."""
        with np.load(path or DEFAULT_PATH, allow_pickle=False) as data:
            arrays: dict[str, Any] = {key: data[key] for key in data.files}
        if int(arrays["format_version"]) != FORMAT_VERSION:
            raise ValueError(f"intent classifier artefact has format {arrays['format_version']}")
        terms = bytes(arrays["vocabulary"]).decode("utf-8").split("\n")
        second = None
        if "second_weights" in arrays:
            second = SecondOpinion(
                weights=arrays["second_weights"].astype(np.float64),
                dense=arrays["second_dense"].astype(np.float64),
                bias=arrays["second_bias"].astype(np.float64),
                gate=float(arrays["second_gate"]),
            )
        return cls(
            vocabulary={term: index for index, term in enumerate(terms)},
            idf=arrays["idf"].astype(np.float64),
            weights=arrays["weights"].astype(np.float64),
            bias=arrays["bias"].astype(np.float64),
            labels=[str(label) for label in arrays["labels"]],
            threshold=float(arrays["threshold"]),
            second=second,
            embed=embed,
        )

    def _char_ids(self, word: str) -> tuple[int, ...]:
        """Vocabulary indices of one word's character n-grams (repeats kept: they are counts)."""
        ids = self._char_cache.get(word)
        if ids is None:
            lookup = self._char_index.get
            found = (lookup(gram) for gram in _char_ngrams([word]))
            ids = tuple(i for i in found if i is not None)
            if len(self._char_cache) >= self.WORD_CACHE_SIZE:
                self._char_cache.clear()
            self._char_cache[word] = ids
        return ids

    def _counts(self, text: str) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
        """Known word n-gram, cue and character n-gram counts, by vocabulary index."""
        words = tokens(text)
        word_counts: dict[int, int] = {}
        cue_counts: dict[int, int] = {}
        char_counts: dict[int, int] = {}
        if not words:
            return word_counts, cue_counts, char_counts
        lookup = self._word_index.get
        for gram in (f"<s> {words[0]}", *words, *(f"{a} {b}" for a, b in pairwise(words))):
            i = lookup(gram)
            if i is not None:
                word_counts[i] = word_counts.get(i, 0) + 1
        for cue in cues(text):
            i = self._cue_index.get(cue)
            if i is not None:
                cue_counts[i] = 1
        for word in words:
            for i in self._char_ids(word):
                char_counts[i] = char_counts.get(i, 0) + 1
        return word_counts, cue_counts, char_counts

    def vector(self, text: str) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        """Sparse TF-IDF vector: sublinear term frequency times idf, L2-normalised per block."""
        word_counts, cue_counts, char_counts = self._counts(text)
        n_words, n_cues = len(word_counts), len(cue_counts)
        size = n_words + n_cues + len(char_counts)
        index = np.fromiter(chain(word_counts, cue_counts, char_counts), dtype=np.intp, count=size)
        every_count = chain(word_counts.values(), cue_counts.values(), char_counts.values())
        counts = np.fromiter(every_count, dtype=np.float64, count=size)
        values = (np.log(counts) + 1.0) * self.idf[index]
        for block in (values[:n_words], values[n_words : n_words + n_cues], values[n_words + n_cues :]):
            if block.size:
                block /= math.sqrt(float(block @ block))
        return index, values

    def first_pass(self, text: str) -> FirstPass:
        index, values = self.vector(text)
        logits: list[float] = (values @ self.weights[index] + self.bias).tolist()
        return FirstPass(index, values, logits, _softmax(logits))

    def wants_second(self, first: FirstPass) -> bool:
        """Whether the second model should be asked: there is one, and the first is unsure."""
        return self.second is not None and max(first.probabilities) < self.second.gate

    def second_pass(self, first: FirstPass, embedding: NDArray[np.float32]) -> list[float]:
        """Both models' pooled probabilities, from the first pass and the sentence vector."""
        assert self.second is not None
        second = self.second
        logits = first.values @ second.weights[first.index] + embedding @ second.dense + second.bias
        return _softmax([(a + b) / 2 for a, b in zip(first.logits, logits.tolist(), strict=True)])

    def probabilities(self, text: str) -> NDArray[np.float64]:
        """Probability of each label, in the order of `self.labels` (the second model's where asked)."""
        return np.array(self._final(text))

    def _final(self, text: str) -> list[float]:
        first = self.first_pass(text)
        if self.embed is not None and self.wants_second(first):
            return self.second_pass(first, self.embed(text))
        return first.probabilities

    def predict(self, text: str) -> tuple[str, float, dict[str, float]]:
        """(most probable label, its probability, every label's probability); blocking, since it
        may embed the text (the async parser uses `first_pass` and `second_pass` instead)."""
        return self.decided(self._final(text))

    def decided(self, probs: list[float]) -> tuple[str, float, dict[str, float]]:
        best = max(range(len(probs)), key=probs.__getitem__)
        return self.labels[best], probs[best], dict(zip(self.labels, probs, strict=True))
