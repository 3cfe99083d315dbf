"""Bijectors: invertible maps with their log-determinants, all under one contract (see `base`)."""

from nfcourse.bijectors.autoregressive import AffineAutoregressive, iaf, maf
from nfcourse.bijectors.base import Bijector, Compose, Invert
from nfcourse.bijectors.clamp import soft_clamp
from nfcourse.bijectors.elementwise import ElementwiseAffine, PReLU
from nfcourse.bijectors.linear import AffineLU
from nfcourse.bijectors.permutation import Permutation, random_permutation, reverse

__all__ = [
    "AffineAutoregressive",
    "AffineLU",
    "Bijector",
    "Compose",
    "ElementwiseAffine",
    "Invert",
    "PReLU",
    "Permutation",
    "iaf",
    "maf",
    "random_permutation",
    "reverse",
    "soft_clamp",
]
