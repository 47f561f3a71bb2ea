"""Training writes what the run time reads: a small model trained on our own examples (the shared
data need not be present), with its second model, exported and loaded back, predicts the same."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from nlu.split import load_examples
from nlu.train import VARIANTS, SentenceVectors, export, predict_rows, train, tune_threshold
from providers.intent_classifier import IntentClassifier
from providers.minilm_onnx import DEFAULT_DIR, OnnxMiniLM


def test_a_trained_second_model_survives_export_and_load(tmp_path: Path) -> None:
    rows = load_examples()
    ours, held_out = rows[::3][:400], rows[1::7][:80]
    vectors = SentenceVectors(OnnxMiniLM(DEFAULT_DIR, threads=2))
    trained = train(replace(VARIANTS["logreg-w075"], c=10.0, gate=0.95), [], ours, vectors)
    assert trained.second is not None
    threshold, curve = tune_threshold(predict_rows(trained.classifier(0.5), held_out))
    assert len(curve) > 1 and 0.3 <= threshold <= 0.9

    path = tmp_path / "model.npz"
    export(trained, threshold, path)
    loaded = IntentClassifier.load(path, embed=vectors.embed_one)
    fitted = trained.classifier(threshold)
    assert loaded.second is not None and loaded.second.gate == pytest.approx(0.95)
    assert loaded.threshold == pytest.approx(threshold)
    asked = 0
    for row in held_out:
        first = loaded.first_pass(row["text"])
        asked += loaded.wants_second(first)
        expected = fitted.probabilities(row["text"])
        assert np.abs(loaded.probabilities(row["text"]) - expected).max() < 1e-4  # float32 on disk
    assert asked > 0  # the second model was really exercised
