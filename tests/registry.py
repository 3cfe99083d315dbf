"""Every bijector of the library, by name, as a factory of a randomly initialised instance.

The contract test (test_bijector_contract.py) runs over all of them; a lesson that adds a bijector
adds it here and gets the round-trip and log-det tests for free.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from nfcourse.bijectors import (
    ActNorm,
    AdditiveCoupling,
    AffineAutoregressive,
    AffineCoupling,
    AffineLU,
    BatchNorm,
    Bijector,
    Compose,
    ElementwiseAffine,
    Invert,
    PReLU,
    alternating_mask,
    half_mask,
    iaf,
    maf,
    nice,
    random_permutation,
    realnvp,
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


def started_on_data(bijector: Bijector, seed: int = 0) -> Bijector:
    """Put every normalization layer where training would: `BatchNorm` gets running statistics away from (0, 1),
    `ActNorm` its data-dependent start; then eval mode, where each is one fixed map (float64)."""
    generator = torch.Generator().manual_seed(seed)
    bijector = bijector.double()
    for layer in bijector.modules():
        if isinstance(layer, BatchNorm):
            layer.running_mean.copy_(torch.randn(layer.dim, generator=generator, dtype=torch.float64))
            layer.running_var.copy_(0.2 + 2 * torch.rand(layer.dim, generator=generator, dtype=torch.float64))
        if isinstance(layer, ActNorm):
            layer.initialize(1 + 3 * torch.randn(50, layer.dim, generator=generator, dtype=torch.float64))
    return bijector.eval()


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
    "AffineCoupling[half]": lambda dim: randomised(AffineCoupling(half_mask(dim), (8, 8))),
    "AffineCoupling[alternating, flipped]": lambda dim: randomised(AffineCoupling(alternating_mask(dim, True), (8,))),
    "AdditiveCoupling": lambda dim: randomised(AdditiveCoupling(half_mask(dim, flip=True), (8,))),
    "RealNVP": lambda dim: randomised(realnvp(dim, layers=3, hidden_sizes=(8,)), scale=0.3),
    "NICE": lambda dim: randomised(nice(dim, layers=3, hidden_sizes=(8,), mask="alternating"), scale=0.3),
    "BatchNorm[eval]": lambda dim: randomised(started_on_data(BatchNorm(dim))),
    "ActNorm": lambda dim: randomised(started_on_data(ActNorm(dim)), scale=0.1),
    "MAF[BatchNorm, LU, eval]": lambda dim: randomised(
        started_on_data(maf(dim, layers=2, hidden_sizes=(8,), permutation="lu", normalization="batch")), scale=0.2
    ),
    "RealNVP[ActNorm, random]": lambda dim: randomised(
        started_on_data(realnvp(dim, layers=3, hidden_sizes=(8,), permutation="random", normalization="act")),
        scale=0.2,
    ),
}
