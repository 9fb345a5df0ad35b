"""The built-in objective: a deterministic stand-in for training a model.

``noisy_quadratic(params, epoch, seed)`` plays one epoch of a training run whose
hyperparameters are ``params``: validation loss falls and validation accuracy
rises with the epochs, towards a level set by how far the numeric
hyperparameters are from an optimum. Pure Python, no imports from expgraph: the
HPO worker, the demo and the tests call it.

A numeric parameter's optimum is 0.01 when its value is between 0 and 1
(learning rates, dropout: compared on a log scale, ``(log10(x) + 4) / 4``) and
10 when it is 1 or more (layer sizes, epochs: ``log10(x) / 2``); both scales put
the optimum at 0.5. A value of 0 or less is compared as ``x / (1 + |x|)``.
Categorical (non-numeric) values add a fixed penalty from their hash, the same
for the same value. The noise is a
deterministic function of (params, epoch, seed): the same call always returns
the same numbers.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

OPTIMUM = 0.5
"""Where every squashed numeric hyperparameter is best."""
NOISE = 0.01
"""Amplitude of the deterministic noise added to the loss."""


def _squash(value: float) -> float:
    if 0 < value < 1:
        return (math.log10(value) + 4) / 4
    if value >= 1:
        return math.log10(value) / 2
    return value / (1 + abs(value))


def _unit(*parts: Any) -> float:
    """A number in [0, 1) from a hash of ``parts`` (deterministic across runs)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def distance(params: Mapping[str, Any]) -> float:
    """How far ``params`` are from the optimum (0 at the optimum)."""
    total = 0.0
    for name in sorted(params):
        value = params[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            total += 0.05 * _unit("categorical", name, value)
        else:
            total += (_squash(float(value)) - OPTIMUM) ** 2
    return total


def noisy_quadratic(params: Mapping[str, Any], epoch: int, seed: int = 0) -> dict[str, float]:
    """One epoch (0, 1, 2, ...) of a training run with hyperparameters ``params``.

    Returns ``{"val_loss", "val_accuracy", "train_loss", "train_accuracy"}``:
    the loss decays as ``floor + (1 - floor) * 0.7 ** (epoch + 1)`` plus noise,
    where ``floor = min(distance(params), 0.95)`` (quadratic in the squashed numeric
    hyperparameters), and accuracy is ``1 / (1 + loss)``. Deterministic in
    (params, epoch, seed); lower loss and higher accuracy are better.
    """
    floor = min(distance(params), 0.95)
    decay = 0.7 ** (epoch + 1)
    noise = NOISE * (2 * _unit(dict(params), epoch, seed) - 1)
    val_loss = max(floor + (1 - floor) * decay + noise, 0.0)
    train_loss = max(0.9 * floor + (1 - floor) * decay * 0.9, 0.0)
    return {
        "val_loss": val_loss,
        "val_accuracy": 1 / (1 + val_loss),
        "train_loss": train_loss,
        "train_accuracy": 1 / (1 + train_loss),
    }
