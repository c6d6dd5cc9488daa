"""Intent classifier: logistic regression over MiniLM meaning plus word and character TF-IDF.

Why not DIET: on our ~1,100 examples, 3-fold cross-validation gave macro F1 0.80 for DIET
with the same MiniLM features and 0.86 for an SVM on MiniLM alone, while this model
(MiniLM sentence vector, weighted, beside sublinear TF-IDF of words 1-2 and character
2-4 grams) reached 0.90; it also trains in seconds instead of minutes. The TF-IDF part
keeps what meaning alone blurs (exact words such as "STOP", "SAR", "human"), the MiniLM
part carries the wordings the training data never saw. docs/nlu.md has the figures.

Loaded by Rasa from config.yml (`name: intent_classifier.MiniLMTfidfIntentClassifier`);
it needs the MiniLM sentence features of `minilm_featurizer.MiniLMFeaturizer`.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

logger = logging.getLogger(__name__)
MODEL_FILE = "intent_classifier.skops"
# what may be unpickled from our own model file: scikit-learn, numpy and scipy objects
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.")


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class MiniLMTfidfIntentClassifier(IntentClassifier, GraphComponent):
    """Predicts the intent and a ranking of the others, with calibrated probabilities."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Featurizer]

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn", "skops"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "C": 10.0,
            # weight of the (unit-length) MiniLM vector beside the TF-IDF rows
            "dense_weight": 2.0,
            "max_iter": 3000,
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MiniLMTfidfIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            return self._resource
        words = FeatureUnion(
            [
                ("words", TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2))),
                ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)),
            ]
        )
        words.fit([_text(e) for e in examples])
        model = {"words": words, "classifier": None}
        self._model = model
        classifier = LogisticRegression(
            C=self.config["C"], max_iter=self.config["max_iter"], class_weight="balanced"
        )
        classifier.fit(self._features(examples), [e.get(INTENT) for e in examples])
        model["classifier"] = classifier
        self._persist()
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        to_classify = [m for m in messages if m.get(TEXT)]
        if not self._model or not self._model.get("classifier") or not to_classify:
            return messages
        classifier = self._model["classifier"]
        for message, row in zip(to_classify, classifier.predict_proba(self._features(to_classify))):
            ranking = sorted(
                ({"name": str(name), "confidence": float(p)} for name, p in zip(classifier.classes_, row)),
                key=lambda r: -r["confidence"],
            )
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking[: self.config["ranking_length"]], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def _features(self, messages: List[Message]) -> csr_matrix:
        """Word TF-IDF, character TF-IDF and the weighted MiniLM vector, side by side:
        the columns FeatureUnion.transform gives, stacked once instead of twice and
        without its joblib dispatch (about 0.8 of 5 ms per message)."""
        texts = [_text(m) for m in messages]
        union = self._model["words"]  # type: ignore[index]
        if union.transformer_weights:  # never set by train(); kept exact if it were
            blocks = [union.transform(texts)]
        else:
            blocks = [vectorizer.transform(texts) for _, vectorizer in union.transformer_list]
        meaning = np.vstack([_sentence_vector(m) for m in messages]) * self.config["dense_weight"]
        return hstack([*blocks, csr_matrix(meaning)]).tocsr()

    def _persist(self) -> None:
        import skops.io as sio

        with self._model_storage.write_to(self._resource) as model_dir:
            sio.dump(self._model, model_dir / MODEL_FILE)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> MiniLMTfidfIntentClassifier:
        import skops.io as sio

        try:
            with model_storage.read_from(resource) as model_dir:
                path = model_dir / MODEL_FILE
                untrusted = sio.get_untrusted_types(file=path)
                foreign = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
                if foreign:
                    raise ValueError(f"unexpected types in {path}: {foreign}")
                model = sio.load(path, trusted=untrusted)
        except ValueError as error:
            logger.warning(f"Intent classifier not loaded ({error}); it predicts nothing.")
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, model)


def _text(message: Message) -> str:
    return str(message.get(TEXT)).lower()


def _sentence_vector(message: Message) -> np.ndarray:
    _, sentence = message.get_dense_features(TEXT)
    if sentence is None:
        raise ValueError("no MiniLM sentence features: put MiniLMFeaturizer before this classifier")
    return np.asarray(sentence.features, dtype=np.float32).reshape(-1)
