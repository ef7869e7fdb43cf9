"""Array and literal types shared by the optimizer's modules."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["Belief", "BoolArray", "FloatArray", "IntArray", "Serve"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.intp]
Belief = Literal["bayes", "paper"]
Serve = Literal["all", "optimal"] | tuple[int, ...]
