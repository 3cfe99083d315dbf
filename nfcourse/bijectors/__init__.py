"""Bijectors: invertible maps with their log-determinants, all under one contract (see `base`)."""

from nfcourse.bijectors.autoregressive import AffineAutoregressive, iaf, maf
from nfcourse.bijectors.base import Bijector, Compose, Invert
from nfcourse.bijectors.clamp import soft_clamp
from nfcourse.bijectors.coupling import (
    AdditiveCoupling,
    AffineCoupling,
    alternating_mask,
    checkerboard_mask,
    coupling_mask,
    half_mask,
    nice,
    realnvp,
)
from nfcourse.bijectors.elementwise import ElementwiseAffine, PReLU
from nfcourse.bijectors.linear import AffineLU
from nfcourse.bijectors.normalization import ActNorm, BatchNorm, running_average
from nfcourse.bijectors.permutation import Permutation, random_permutation, reverse
from nfcourse.bijectors.residual import ResidualBlock, iresnet, residual_flow, set_training_logdet
from nfcourse.residual import FixedPointError

__all__ = [
    "ActNorm",
    "AdditiveCoupling",
    "AffineAutoregressive",
    "AffineCoupling",
    "AffineLU",
    "BatchNorm",
    "Bijector",
    "Compose",
    "ElementwiseAffine",
    "FixedPointError",
    "Invert",
    "PReLU",
    "Permutation",
    "ResidualBlock",
    "alternating_mask",
    "checkerboard_mask",
    "coupling_mask",
    "half_mask",
    "iaf",
    "iresnet",
    "maf",
    "nice",
    "random_permutation",
    "realnvp",
    "residual_flow",
    "reverse",
    "running_average",
    "set_training_logdet",
    "soft_clamp",
]
