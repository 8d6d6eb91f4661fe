"""QuickLoadingDIETClassifier: Rasa's DIETClassifier, loaded in a third of the time.

Rasa builds a loaded DIET model's weights by running one training step (``RasaModel.load``:
``model.fit`` on one example), then overwrites them with the trained ones. Converting and tracing
that training step is slow: loading the whole model took 9.7 s that way, 5.8 s this way (a fresh
process, 2 cores; issue 17). Prediction needs
only the weights prediction uses: this model builds them with one prediction, restores the trained
weights over them (the optimiser's state and training-only weights stay in the checkpoint, unread),
and prepares the label embeddings again from the restored weights. Training and what is saved are
Rasa's own; a model loaded for fine-tuning is loaded Rasa's way. tests/bot/test_diet.py checks that
both ways give the same predictions.
"""
from __future__ import annotations

from typing import Any, Optional, Text, Type

import tensorflow as tf
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIET, DIETClassifier
from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
from rasa.utils.tensorflow.model_data import RasaModelData


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


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True)
class QuickLoadingDIETClassifier(DIETClassifier):
    """DIETClassifier, with QuickLoadingDIET as its model (same training, same files)."""

    @staticmethod
    def model_class() -> Type[DIET]:
        return QuickLoadingDIET
