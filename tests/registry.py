"""Every bijector of the library, by name, as a factory of a randomly initialised instance.

The contract test (test_bijector_contract.py) runs over all of them; a lesson that adds a bijector
adds it here and gets the round-trip and log-det tests for free.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from nfcourse.bijectors import (
    AffineAutoregressive,
    AffineLU,
    Bijector,
    Compose,
    ElementwiseAffine,
    Invert,
    PReLU,
    iaf,
    maf,
    random_permutation,
    reverse,
)
from nfcourse.conditioners import MADE, NaiveConditioner

Factory = Callable[[int], Bijector]


def randomised(bijector: Bijector, seed: int = 0, scale: float = 0.5) -> Bijector:
    """Move every parameter away from its (often identity) start value, reproducibly, in float64."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in bijector.parameters():
            parameter.add_(scale * torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype))
    return bijector.double()


BIJECTORS: dict[str, Factory] = {
    "ElementwiseAffine": lambda dim: randomised(ElementwiseAffine(dim)),
    "PReLU": lambda dim: randomised(PReLU(dim)),
    "AffineLU": lambda dim: randomised(AffineLU(dim)),
    "reverse": lambda dim: reverse(dim).double(),
    "random_permutation": lambda dim: random_permutation(dim, seed=3).double(),
    "Invert[AffineLU]": lambda dim: Invert(randomised(AffineLU(dim))),
    "Compose[part-1 flow]": lambda dim: randomised(
        Compose(AffineLU(dim), PReLU(dim), reverse(dim), AffineLU(dim), PReLU(dim), ElementwiseAffine(dim))
    ),
    "Invert[Compose]": lambda dim: Invert(randomised(Compose(PReLU(dim), AffineLU(dim)))),
    "AffineAutoregressive[MADE, random order]": lambda dim: randomised(
        AffineAutoregressive(MADE(dim, (7, 5), order="random", seed=dim), dim)
    ),
    "AffineAutoregressive[naive]": lambda dim: randomised(AffineAutoregressive(NaiveConditioner(dim, 6), dim)),
    "MAF": lambda dim: randomised(maf(dim, layers=3, hidden_sizes=(8,), permutation="random"), scale=0.2),
    "IAF": lambda dim: randomised(iaf(dim, layers=2, hidden_sizes=(8, 8)), scale=0.2),
}
