"""A message's sentence features as one row, read straight from its features.

Rasa's ``Message.get_sparse_features`` joins the featurisers' sparse matrices with scipy's hstack,
after a deep copy of the first, for the sequence features too, and both classifiers ask for them:
a tenth of the Rasa server's CPU per message under load (issue 17). The classifiers need only the
sentence row: ``sentence_row`` gives its columns and values, joined side by side in the pipeline's
order exactly as Rasa joins them (the second featuriser's columns after the first's).
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message


def sentence_row(message: Message, featurizers: Sequence[str] = ()
                 ) -> Tuple[Optional[Tuple[np.ndarray, np.ndarray, int]], Optional[np.ndarray]]:
    """((columns, values, width) of the sparse features, or None; the dense features as one vector,
    or None) of the message's text, from ``featurizers`` (all when empty), in the pipeline's order."""
    columns, values, width, dense = [], [], 0, []
    for features in message.features:
        if features.attribute != TEXT or features.type != FEATURE_TYPE_SENTENCE:
            continue
        if featurizers and features.origin not in featurizers:
            continue
        if features.is_sparse():
            matrix = features.features.tocoo()
            columns.append(matrix.col.astype(np.int64) + width)
            values.append(matrix.data)
            width += matrix.shape[1]
        else:
            dense.append(np.asarray(features.features).reshape(-1))
    sparse = (np.concatenate(columns), np.concatenate(values), width) if columns else None
    return sparse, (np.concatenate(dense) if dense else None)
