"""Dense MiniLM sentence and token features for Rasa's NLU, read with onnxruntime.

The sparse featurizers see words and character n-grams only, so a request in words the
training data never used ("please stop texting me offers") lands on whatever intent
shares its surface words. MiniLM (the same all-MiniLM-L6-v2 the knowledge index uses)
places sentences by meaning. Rasa 3.6 has no torch, so `make` exports the model to
ONNX in the main environment (knowledge/encoder_export.py) and this component reads
that export; nothing is downloaded.

Features per message: the sentence vector is the mean of MiniLM's token states,
L2-normalised (what sentence-transformers computes); each whitespace token gets the
mean of the word pieces inside it, so DIET's sequence and sentence inputs line up.

Loaded by Rasa from config.yml (`name: minilm_featurizer.MiniLMFeaturizer`); Rasa runs
with `bot/` as its working directory, which it puts on the import path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

BATCH_SIZE = 32


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False
)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds MiniLM sentence and per-token features to the TEXT of each message."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # relative to this file's folder (bot/), so any working directory works
            "model_dir": "../models/minilm-onnx",
            # word pieces per message; residents' messages are far shorter
            "max_word_pieces": 256,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["onnxruntime", "tokenizers"]

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if not (_model_dir(config) / "model.onnx").exists():
            raise InvalidConfigException(
                f"No ONNX encoder in {_model_dir(config)}: run `make nlu-encoder` (make model does)."
            )

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MiniLMFeaturizer:
        return cls(config, execution_context.node_name)

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        import onnxruntime
        from tokenizers import Tokenizer as WordPieces

        model_dir = _model_dir(config)
        self._pieces = WordPieces.from_file(str(model_dir / "tokenizer.json"))
        self._pieces.enable_truncation(int(config["max_word_pieces"]))
        self._pieces.enable_padding()
        options = onnxruntime.SessionOptions()
        # one thread per request: the Rasa server answers several conversations at once
        options.intra_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        examples = [ex for ex in training_data.training_examples if ex.get(TEXT)]
        for start in range(0, len(examples), BATCH_SIZE):
            self._featurize(examples[start : start + BATCH_SIZE])
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize([m for m in messages if m.get(TEXT)])
        return messages

    def _featurize(self, messages: List[Message]) -> None:
        if not messages:
            return
        encodings = self._pieces.encode_batch([m.get(TEXT) for m in messages])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        states = self._session.run(
            None,
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )[0]
        for message, encoding, state, row_mask in zip(messages, encodings, states, mask):
            sentence = _mean_pool(state, row_mask)
            tokens = message.get(TOKENS_NAMES[TEXT]) or []
            sequence = _token_vectors(tokens, encoding.offsets, state, row_mask)
            self.add_features_to_message(
                sequence=sequence, sentence=sentence, attribute=TEXT, message=message
            )


def _model_dir(config: Dict[Text, Any]) -> Path:
    return (Path(__file__).parent / config["model_dir"]).resolve()


def _mean_pool(state: np.ndarray, mask: np.ndarray) -> np.ndarray:
    vector = (state * mask[:, None]).sum(axis=0) / max(int(mask.sum()), 1)
    norm = float(np.linalg.norm(vector)) or 1.0
    return (vector / norm).astype(np.float32)[None, :]


def _token_vectors(
    tokens: List[Token],
    offsets: List[tuple],
    state: np.ndarray,
    mask: np.ndarray,
) -> Optional[np.ndarray]:
    """One row per Rasa token: the mean of the word pieces whose characters it covers."""
    if not tokens:
        return None
    rows = np.zeros((len(tokens), state.shape[-1]), dtype=np.float32)
    for i, token in enumerate(tokens):
        inside = [
            j
            for j, (start, end) in enumerate(offsets)
            if mask[j] and end > start and start >= token.start and end <= token.end
        ]
        if inside:
            rows[i] = state[inside].mean(axis=0)
    return rows
