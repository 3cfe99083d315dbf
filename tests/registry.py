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
    ResidualBlock,
    alternating_mask,
    half_mask,
    iaf,
    iresnet,
    maf,
    nice,
    random_permutation,
    realnvp,
    residual_flow,
    reverse,
)
from nfcourse.conditioners import MADE, NaiveConditioner
from nfcourse.residual import converge_spectral_norms, exact_logdet, lipschitz_mlp

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


def contractive(bijector: torch.nn.Module) -> torch.nn.Module:
    """Converge every power iteration (after `randomised` moved the weights, so the bound c holds for the weights
    now in place), then eval mode, where each residual branch is one fixed contraction."""
    converge_spectral_norms(bijector, tolerance=1e-10)
    return bijector.eval()


def contractive_branch(dim: int, c: float, activation: str = "elu", seed: int = 0) -> torch.nn.Module:
    """A float64 `lipschitz_mlp` dim -> 8 -> dim in eval mode whose two layers are both at the bound c (weights
    scaled up before normalization), so Lip(g) <= c^2 <= c and the Jacobians are far from zero."""
    torch.manual_seed(seed)
    g = lipschitz_mlp(dim, (8,), coefficient=c, activation=activation, seed=seed).double()
    with torch.no_grad():
        for layer in g.modules():
            if isinstance(layer, torch.nn.Linear):
                layer.weight.mul_(5.0)
    return contractive(g)


def shrinking_branch(dim: int, c: float, activation: str = "elu", shift: float = 10.0) -> torch.nn.Module:
    """g(x) = -c f(c x + shift), a `lipschitz_mlp` with both weights at norm c: J_g = -c^2 diag f'(c x + shift).

    With ELU and c x + shift > 0 that is -c^2 I: every term of the log-det's series, -(c^2)^k / k per dimension,
    has the same sign, so truncating it is far off, and the Neumann series of (I + J)^{-1} needs many terms. The
    hard case for an estimator, next to a random network."""
    g = lipschitz_mlp(dim, (dim,), coefficient=c, activation=activation).double()
    with torch.no_grad():
        first, _, last = g
        first.weight.copy_(c * torch.eye(dim)), first.bias.fill_(shift)
        last.weight.copy_(-c * torch.eye(dim)), last.bias.zero_()
    return contractive(g)


FIXED_POINT = {"tolerance": 1e-13, "max_iterations": 1000}  # round trips far inside the contract's 1e-9

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
    "ResidualBlock[exact]": lambda dim: contractive(
        randomised(
            ResidualBlock(lipschitz_mlp(dim, (8,), coefficient=0.8, activation="elu"), exact_logdet, **FIXED_POINT)
        )
    ),
    "iResNet[eval]": lambda dim: contractive(randomised(iresnet(dim, blocks=2, hidden_sizes=(8,), **FIXED_POINT))),
    "ResidualFlow[eval]": lambda dim: contractive(
        randomised(started_on_data(residual_flow(dim, blocks=2, hidden_sizes=(8,), **FIXED_POINT)), scale=0.2)
    ),
}
