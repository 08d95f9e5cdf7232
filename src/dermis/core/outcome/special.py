"""The two special functions every forecast needs, in NumPy: importing scipy.special costs more
than the forecast itself, so `dermis forecast` would spend most of its time starting up.

Both are exact identities, not approximations: expit(x) = (1 + tanh(x / 2)) / 2 and
ndtr(x) = erfc(-x / sqrt 2) / 2 (the standard normal CDF, as scipy computes it for |x| small)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def expit(x: ArrayLike) -> NDArray[np.float64]:
    """The logistic function, without overflow for large |x|."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))


def ndtr(x: ArrayLike) -> NDArray[np.float64]:
    """The standard normal cumulative distribution function (one value per element)."""
    return 0.5 * _erfc(-np.asarray(x, dtype=np.float64) / math.sqrt(2.0))
