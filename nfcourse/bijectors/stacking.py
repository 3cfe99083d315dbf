"""What goes between two layers of a stacked flow: a normalization, then a reordering of the coordinates.

A MAF or a Real-NVP is `layer, [between], layer, [between], ..., layer`. Between layers $k-1$ and $k$:

    normalization   "none", "batch" (`BatchNorm`, lesson 05) or "act" (`ActNorm`, lesson 05)
    permutation     "none", "reverse", "random" (a fixed permutation, drawn from `seed + k`), or
                    "lu" (`AffineLU`, a learned invertible linear map that generalizes a permutation)

Lessons: 02, 04, 05
"""

from __future__ import annotations

from nfcourse.bijectors.base import Bijector
from nfcourse.bijectors.linear import AffineLU
from nfcourse.bijectors.normalization import ActNorm, BatchNorm
from nfcourse.bijectors.permutation import random_permutation, reverse
from nfcourse.validation import check_choice

PERMUTATIONS = ("reverse", "random", "lu", "none")
NORMALIZATIONS = ("none", "batch", "act")


def between_layers(dim: int, k: int, permutation: str, normalization: str, seed: int = 0) -> list[Bijector]:
    """The bijectors that go before layer `k` of a stack (none before the first layer, k = 0)."""
    check_choice(permutation, PERMUTATIONS, "permutation")
    check_choice(normalization, NORMALIZATIONS, "normalization")
    if k == 0:
        return []
    steps: list[Bijector] = []
    if normalization == "batch":
        steps.append(BatchNorm(dim))
    elif normalization == "act":
        steps.append(ActNorm(dim))
    if permutation == "reverse":
        steps.append(reverse(dim))
    elif permutation == "random":
        steps.append(random_permutation(dim, seed=seed + k))
    elif permutation == "lu":
        steps.append(AffineLU(dim))
    return steps
