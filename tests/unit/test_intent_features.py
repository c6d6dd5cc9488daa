"""bot/intent_classifier.py stacks its own features: the trained model's predictions are
exactly those of the FeatureUnion it was trained with."""

from __future__ import annotations

from privacybot.runner import MODEL_PATH
from tests.rasa_env import run_in_rasa_env

# Runs in the Rasa environment, in bot/, on the trained model's own classifier.
_CHECK = """
import hashlib, json, sys, tarfile, tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import skops.io as sio
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix, hstack
from sklearn.pipeline import FeatureUnion

import intent_classifier
from intent_classifier import MiniLMTfidfIntentClassifier


def vector(message):  # a stand-in MiniLM vector, fixed per text
    seed = int(hashlib.sha256(message.get("text").encode()).hexdigest()[:8], 16)
    v = np.random.default_rng(seed).normal(size=384).astype(np.float32)
    return v / np.linalg.norm(v)


with tempfile.TemporaryDirectory() as tmp:
    with tarfile.open(sys.argv[1]) as archive:
        archive.extractall(tmp)
    path = next(Path(tmp).rglob("intent_classifier.skops"))
    model = sio.load(path, trusted=sio.get_untrusted_types(file=path))

texts = [e.get("text") for f in ("nlu.yml", "nlu_boundaries.yml")
         for e in load_data(f"data/{f}").intent_examples]
texts += ["STOP", "can i get a copy of my data", "Human please!!", "x", "  ", "é café 2023"]
messages = [Message(data={"text": t}) for t in texts]
component = MiniLMTfidfIntentClassifier({}, None, None, model)
weight = component.config["dense_weight"]
classifier = model["classifier"]
with mock.patch.object(intent_classifier, "_sentence_vector", vector):
    union = hstack(
        [model["words"].transform([t.lower() for t in texts]),
         csr_matrix(np.vstack([vector(m) for m in messages]) * weight)]
    ).tocsr()
    with mock.patch.object(FeatureUnion, "transform", side_effect=AssertionError("union")) as used:
        own = component._features(messages)
        component.process(messages)
expected = classifier.predict_proba(union)
got = classifier.predict_proba(own)
print(json.dumps({
    "texts": len(texts),
    "union_transform_calls": used.call_count,
    "same_matrix": bool((union != own).nnz == 0 and union.shape == own.shape),
    "same_probabilities": bool(np.array_equal(expected, got)),
    "same_intents": [m.get("intent")["name"] for m in messages]
        == [str(classifier.classes_[i]) for i in expected.argmax(axis=1)],
    "same_confidences": [m.get("intent")["confidence"] for m in messages]
        == [float(p) for p in expected.max(axis=1)],
}))
"""


def test_own_feature_stacking_predicts_exactly_what_the_feature_union_did() -> None:
    report = run_in_rasa_env(_CHECK, str(MODEL_PATH))
    assert report["texts"] > 500
    assert report["union_transform_calls"] == 0
    assert report["same_matrix"]
    assert report["same_probabilities"]
    assert report["same_intents"]
    assert report["same_confidences"]
