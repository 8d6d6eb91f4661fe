"""QuickLoadingDIETClassifier: Rasa's DIETClassifier, loaded in a third of the time.

Rasa builds a loaded DIET model's weights by running one training step (``RasaModel.load``:
``model.fit`` on one example), then overwrites them with the trained ones. Converting and tracing
that training step is slow: loading the whole model took 9.7 s that way, 5.8 s this way (a fresh
process, 2 cores; issue 17). Prediction needs
only the weights prediction uses: this model builds them with one prediction, restores the trained
weights over them (the optimiser's state and training-only weights stay in the checkpoint, unread),
and prepares the label embeddings again from the restored weights. Training and what is saved are
Rasa's own; a model loaded for fine-tuning is loaded Rasa's way. tests/nlu_eval/test_diet_loading.py
checks that both ways give the same predictions.

Prediction without TensorFlow (``IntentHead``): with no transformer layer (config.yml), DIET's intent
reads only the sentence position, through position-wise layers: sparse-to-dense, (unify dims), the
feed-forward layers, the embedding, the dot product with the label embeddings and the softmax. The
same arithmetic in numpy, on the same weights, gives the same confidences (1e-6) in a fraction of the
time: a TensorFlow call costs a few milliseconds of Python per message, a fifth of the Rasa server's
CPU per message under load (issue 17). Any other configuration predicts Rasa's way.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Text, Tuple, Type

import numpy as np
import tensorflow as tf
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIET, DIETClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.constants import (
    COSINE, ENTITY_RECOGNITION, FEATURIZERS, INNER, INTENT_CLASSIFICATION, LABEL, LEARNING_RATE, MASKED_LM,
    NUM_TRANSFORMER_LAYERS, RUN_EAGERLY, SENTENCE, SEQUENCE, SEQUENCE_LENGTH, SOFTMAX)
from rasa.utils.tensorflow.model_data import FeatureArray, RasaModelData
from rasa.utils.tensorflow.rasa_layers import RasaSequenceLayer
from scipy.special import erf

from bot.fingerprint import CodeFingerprinted
from bot.rows import sentence_row


class QuickLoadingDIET(DIET):
    @classmethod
    def load(cls, model_file_name: Text, model_data_example: RasaModelData,
             predict_data_example: Optional[RasaModelData] = None, finetune_mode: bool = False,
             *args: Any, **kwargs: Any) -> "QuickLoadingDIET":
        if finetune_mode or predict_data_example is None:
            return super().load(model_file_name, model_data_example, predict_data_example, finetune_mode,
                                *args, **kwargs)
        model = cls(*args, **kwargs)
        config = kwargs.get("config", {})
        model.compile(optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
                      run_eagerly=config.get(RUN_EAGERLY))
        model.run_inference(predict_data_example)  # builds the weights prediction uses (untrained)
        model.load_weights(model_file_name).expect_partial()
        # The label embeddings were computed from the untrained weights, and the traced prediction
        # holds them as constants: both again, from the trained weights.
        model.prepared_for_prediction = False
        model._tf_predict_step = None
        model.run_inference(predict_data_example)
        return model


def _gelu(x: np.ndarray) -> np.ndarray:
    """tf.nn.gelu as Rasa's feed-forward layers use it (exact, not the tanh approximation)."""
    return (0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))).astype(np.float32)


def _dense(layer: tf.keras.layers.Dense) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """A dense layer's kernel (masked as RandomlyConnectedDense masks it) and bias."""
    kernel = layer.kernel.numpy()
    mask = getattr(layer, "kernel_mask", None)
    if mask is not None and getattr(layer, "density", 1.0) < 1.0:
        kernel = kernel * mask.numpy()
    return kernel.astype(np.float32), (layer.bias.numpy().astype(np.float32) if layer.use_bias else None)


def _activation(layer: tf.keras.layers.Layer) -> Optional[str]:
    """"linear" or "gelu" (what this module computes), else None."""
    activation = getattr(layer, "activation", None)
    if activation is None or activation is tf.keras.activations.linear:
        return "linear"
    if activation is tf.nn.gelu or getattr(activation, "__name__", "") == "gelu":
        return "gelu"
    return None


def _affine(x: np.ndarray, layer: Tuple[np.ndarray, Optional[np.ndarray]]) -> np.ndarray:
    kernel, bias = layer
    return x @ kernel + bias if bias is not None else x @ kernel


def _unit(x: np.ndarray) -> np.ndarray:
    """tf.nn.l2_normalize along the last axis."""
    return x / np.sqrt(np.maximum(np.sum(x * x, axis=-1, keepdims=True), 1e-12))


@dataclass
class IntentHead:
    """DIET's intent confidences for one message, in numpy (module docstring)."""

    signature: List[bool]  # the sentence features in the model's order: sparse (True) or dense
    sparse: Tuple[np.ndarray, Optional[np.ndarray]]  # sparse-to-dense kernel, bias
    layers: List[Tuple[np.ndarray, Optional[np.ndarray]]]  # unify dims (if any), then the feed-forward layers: gelu
    embed: Tuple[np.ndarray, Optional[np.ndarray]]
    labels: np.ndarray  # (labels, embedding dim), of unit length already when ``cosine``
    cosine: bool
    softmax: bool

    @classmethod
    def of(cls, model: DIET, config: Dict[Text, Any]) -> Optional["IntentHead"]:
        """The head of a loaded model, or None when its configuration is one this module does not compute."""
        try:
            if (not config[INTENT_CLASSIFICATION] or config[ENTITY_RECOGNITION] or model.all_labels_embed is None
                    or model._run_eagerly):
                return None
            sequence_layer = model._tf_layers[f"sequence_layer.{model.text_name}"]
            if sequence_layer._has_transformer or getattr(sequence_layer, "_enables_mlm", False):
                return None
            combining = sequence_layer._tf_layers[RasaSequenceLayer.FEATURE_COMBINING]._tf_layers
            signature = [s.is_sparse for s in model.data_signature[TEXT][SENTENCE]]
            if signature.count(True) != 1:
                return None
            to_dense = combining[f"sparse_dense.{SENTENCE}"]._tf_layers["sparse_to_dense"]
            layers = []
            unify = combining.get(f"unify_dims_before_seq_sent_concat.{SENTENCE}")
            ffnns = ([unify] if unify is not None else []) + [sequence_layer._tf_layers[RasaSequenceLayer.FFNN]]
            for ffnn in ffnns:
                for layer in ffnn._ffn_layers:
                    if isinstance(layer, tf.keras.layers.Dropout):
                        continue  # not at prediction
                    if _activation(layer) != "gelu":
                        return None
                    layers.append(_dense(layer))
            embed = model._tf_layers[f"embed.{TEXT}"]._dense
            loss = model._tf_layers[f"loss.{LABEL}"]
            if _activation(to_dense) != "linear" or _activation(embed) != "linear" \
                    or loss.similarity_type not in (INNER, COSINE):
                return None
            labels = np.asarray(model.all_labels_embed, dtype=np.float32)
            if loss.similarity_type == COSINE:
                labels = _unit(labels)
            return cls(signature, _dense(to_dense), layers, _dense(embed), labels,
                       loss.similarity_type == COSINE, loss.model_confidence == SOFTMAX)
        except (AttributeError, KeyError, TypeError):  # another Rasa's internals: Rasa's own way
            return None

    def scores(self, message: Message, featurizers: List[Text]) -> Optional[np.ndarray]:
        """The confidences (1, labels) as DIET's ``i_scores``; None when the message lacks a feature."""
        sparse, dense = sentence_row(message, featurizers)
        if sparse is None or (dense is None) != (len(self.signature) == 1):
            return None
        parts = []
        for is_sparse in self.signature:
            if is_sparse:
                columns, values, _ = sparse
                kernel, bias = self.sparse
                parts.append(_affine(values.astype(np.float32).reshape(1, -1), (kernel[columns], bias)))
            else:
                parts.append(dense.astype(np.float32).reshape(1, -1))
        x = np.concatenate(parts, axis=-1).astype(np.float32)
        for layer in self.layers:
            x = _gelu(_affine(x, layer))
        x = _affine(x, self.embed)
        similarities = ((_unit(x) if self.cosine else x) @ self.labels.T).astype(np.float32)
        if not self.softmax:
            return similarities
        shifted = np.exp(similarities - similarities.max(axis=-1, keepdims=True))
        return (shifted / shifted.sum(axis=-1, keepdims=True)).astype(np.float32)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True)
class QuickLoadingDIETClassifier(CodeFingerprinted, DIETClassifier):
    """DIETClassifier, with QuickLoadingDIET as its model (same training, same files)."""

    numpy_prediction = True  # IntentHead (module docstring); False: TensorFlow's, as Rasa predicts

    @staticmethod
    def model_class() -> Type[DIET]:
        return QuickLoadingDIET

    def _create_model_data(self, training_data: List[Message], label_id_dict: Optional[Dict[Text, int]] = None,
                           label_attribute: Optional[Text] = None, training: bool = True) -> RasaModelData:
        model_data = super()._create_model_data(training_data, label_id_dict, label_attribute, training)
        if training and self._sentence_only():
            _first_token_only(model_data)
        return model_data

    def _sentence_only(self) -> bool:
        """Whether the loss reads only the sentence position (module docstring): no transformer layer
        to mix positions, no entities, no masked tokens to predict."""
        config = self.component_config
        return (config[NUM_TRANSFORMER_LAYERS] == 0 and config[INTENT_CLASSIFICATION]
                and not config[ENTITY_RECOGNITION] and not config[MASKED_LM])

    def _predict(self, message: Message) -> Optional[Dict[Text, Any]]:
        head = self._intent_head()
        if head is not None and not self._execution_context.should_add_diagnostic_data:
            scores = head.scores(message, self.component_config[FEATURIZERS])
            if scores is not None:
                return {"i_scores": scores}
        return super()._predict(message)

    def _intent_head(self) -> Optional[IntentHead]:
        if not self.numpy_prediction or self.model is None:
            return None
        if getattr(self, "_head_of", None) is not self.model:  # built once per loaded model
            self._head = IntentHead.of(self.model, self.component_config)
            self._head_of = self.model
        return self._head


def _first_token_only(model_data: RasaModelData) -> None:
    """Each training message's token rows cut to the first. With a sentence-only loss the tokens'
    rows go through the position-wise layers and are never read: training reads the same sentence
    rows in about half the time (`make model`: DIET 100–107 s → 54–65 s on 2 cores, issue 17). Only the
    training data: what the model is saved with and predicts on is Rasa's."""
    text = model_data.data.get(TEXT, {})
    cut = []
    for features in text.get(SEQUENCE, []):
        if features.number_of_dimensions != 3:
            return  # not a layout this knows: Rasa's data as it is
        rows = np.empty(len(features), dtype=object)
        for i, matrix in enumerate(features):
            rows[i] = matrix.tocsr()[:1].asformat(matrix.format) if features.is_sparse else matrix[:1]
        cut.append(FeatureArray(rows, number_of_dimensions=3))
    if cut:
        text[SEQUENCE] = cut
        model_data.add_lengths(TEXT, SEQUENCE_LENGTH, TEXT, SEQUENCE)
