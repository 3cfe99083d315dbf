"""Every flow of lessons 02 to 07 behind one name, built with the same networks, so that they can be compared.

Each flow has `depth` layers (blocks for the residual flows) whose networks have the hidden sizes given
(two layers of 64 units by default), and the settings its lesson taught:

    MAF, IAF                 MADE layers, the order reversed between layers (lessons 02, 03)
    NICE, Real-NVP           additive and affine coupling layers, alternating halves (lesson 04)
    MAF + BatchNorm,         the same with the BatchNorm bijector between the layers (lesson 05)
    Real-NVP + BatchNorm
    i-ResNet                 ELU branches, c = 0.9, truncated log-det series, ActNorm between blocks (lesson 06)
    Residual Flow            LipSwish branches, c = 0.97, Russian roulette with the Neumann gradient (lesson 07)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from nfcourse.bijectors import iaf, iresnet, maf, nice, realnvp, residual_flow
from nfcourse.bijectors.base import Bijector
from nfcourse.flow import Flow
from nfcourse.i18n import _
from nfcourse.validation import check_choice, check_positive_int

Builder = Callable[[int, int, Sequence[int]], Bijector]

BUILDERS: dict[str, Builder] = {
    "MAF": lambda dim, depth, hidden: maf(dim, depth, hidden),
    "IAF": lambda dim, depth, hidden: iaf(dim, depth, hidden),
    "NICE": lambda dim, depth, hidden: nice(dim, depth, hidden),
    "Real-NVP": lambda dim, depth, hidden: realnvp(dim, depth, hidden),
    "MAF + BatchNorm": lambda dim, depth, hidden: maf(dim, depth, hidden, normalization="batch"),
    "Real-NVP + BatchNorm": lambda dim, depth, hidden: realnvp(dim, depth, hidden, normalization="batch"),
    "i-ResNet": lambda dim, depth, hidden: iresnet(dim, depth, hidden, normalization="act"),
    "Residual Flow": lambda dim, depth, hidden: residual_flow(dim, depth, hidden),
}
FLOW_NAMES = tuple(BUILDERS)
COUPLING_FLOWS = ("NICE", "Real-NVP", "Real-NVP + BatchNorm")


def build_flow(name: str, dim: int, depth: int, hidden_sizes: Sequence[int] = (64, 64), seed: int = 0) -> Flow:
    """The untrained flow `name` (one of `FLOW_NAMES`) on `dim` dimensions, its weights drawn from `seed`."""
    check_choice(name, FLOW_NAMES, "name")
    check_positive_int(dim, "dim"), check_positive_int(depth, "depth")
    if name in COUPLING_FLOWS and dim < 2:
        raise ValueError(
            _("{name} needs at least 2 dimensions: each coupling layer passes half of them through unchanged.").format(
                name=name
            )
        )
    torch.manual_seed(seed)
    return Flow(BUILDERS[name](dim, depth, tuple(hidden_sizes)), dim=dim)
