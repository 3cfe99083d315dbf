r"""The naive autoregressive conditioner: one small network per coordinate.

Network $i$ reads the coordinates that come before $i$ in the order and returns the parameters of
coordinate $i$ (e.g. $\mu_i, \alpha_i$). Correct by construction, but it costs $D$ networks and
$0 + 1 + \dots + (D-1) = D(D-1)/2$ inputs in all, and a density evaluation runs $D$ networks one after
another. Lesson 01 measures this cost; lesson 02 replaces it with MADE (one network, one pass).

Shapes:  x: (batch, D) -> (batch, outputs, D)
Lessons: 01, 02
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nfcourse.conditioners.made import input_order
from nfcourse.conditioners.mlp import mlp
from nfcourse.validation import check_points, check_positive_int


class NaiveConditioner(nn.Module):
    """D separate networks; the one for coordinate i sees only the coordinates before i in `order`.

    The first coordinate has no predecessors; its network reads a constant 0, so it learns constants.
    """

    def __init__(self, dim: int, hidden: int = 64, outputs: int = 2, order: str | Sequence[int] = "natural") -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        self.outputs = check_positive_int(outputs, "outputs")
        positions = torch.argsort(input_order(dim, order))  # positions[k] = the coordinate that comes k-th
        self.register_buffer("positions", positions)
        self.networks = nn.ModuleList(mlp(max(k, 1), (hidden, hidden), outputs) for k in range(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_points(x, self.dim, "x")
        params = x.new_zeros(x.shape[0], self.outputs, self.dim)
        for k, network in enumerate(self.networks):
            earlier = x[:, self.positions[:k]] if k > 0 else x.new_zeros(x.shape[0], 1)
            params[:, :, self.positions[k]] = network(earlier)
        return params
