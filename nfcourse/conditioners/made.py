r"""MADE: one network whose outputs are autoregressive in its inputs, by masking weights.

Every unit gets a *degree*. Input $j$ has degree $m(j) \in \{1, \dots, D\}$, its place in the order.
A hidden unit of degree $k$ may see the inputs of degree at most $k$; output $i$ may see only the
hidden units of degree strictly below $m(i)$. As masks (1 = connection kept):

Math:      hidden layer  $M_{kj} = [\,m_\text{out}(k) \ge m_\text{in}(j)\,]$
           output layer  $M_{ik} = [\,m(i) > m_\text{hid}(k)\,]$
Result:    $\partial\,\text{output}_i / \partial x_j = 0$ unless $m(j) < m(i)$: the Jacobian is strictly
           triangular once the coordinates are sorted by degree.
Shapes:    x: (batch, D) -> (batch, outputs, D), e.g. outputs = 2 for $(\mu, \alpha)$
Reference: Germain et al., MADE: Masked Autoencoder for Distribution Estimation, 2015, arXiv:1502.03509
Lessons:   02, 03
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import torch
from torch import nn
from torch.nn import functional

from nfcourse.i18n import _
from nfcourse.validation import check_points, check_positive_int

ORDERS = ("natural", "reversed", "random")


def input_order(dim: int, order: str | Sequence[int] = "natural", seed: int = 0) -> torch.Tensor:
    """The degrees $m(1), \\dots, m(D)$ of the inputs: a permutation of 1..D.

    "natural" is 1, 2, ..., D; "reversed" is D, ..., 1; "random" is a random permutation (same `seed`,
    same order); a sequence gives the degrees directly.
    """
    check_positive_int(dim, "dim")
    if isinstance(order, str):
        if order == "natural":
            return torch.arange(1, dim + 1)
        if order == "reversed":
            return torch.arange(dim, 0, -1)
        if order == "random":
            return torch.randperm(dim, generator=torch.Generator().manual_seed(seed)) + 1
        raise ValueError(
            _("order must be one of {choices} or a list of degrees, got {order!r}.").format(
                choices=", ".join(ORDERS), order=order
            )
        )
    degrees = torch.as_tensor(list(order), dtype=torch.long)
    if degrees.shape != (dim,) or not torch.equal(degrees.sort().values, torch.arange(1, dim + 1)):
        raise ValueError(
            _("The degrees must be a permutation of 1, ..., {dim}, got {order}.").format(
                dim=dim, order=degrees.tolist()
            )
        )
    return degrees


def hidden_degrees(size: int, dim: int) -> torch.Tensor:
    """Degrees of a hidden layer's units: 1, 2, ..., D-1, 1, 2, ... in turn, so every degree is used.

    A hidden unit of degree D could reach no output, so D-1 is the largest useful degree. With D = 1 no
    input may reach any output, and every hidden unit gets degree 0 (it sees only its bias).
    """
    if dim == 1:
        return torch.zeros(size, dtype=torch.long)
    return torch.arange(size) % (dim - 1) + 1


def made_masks(degrees: torch.Tensor, hidden_sizes: Sequence[int], outputs: int) -> list[torch.Tensor]:
    """The masks of all layers, shaped like `nn.Linear` weights (out_features, in_features).

    The output layer has `outputs` units per input, laid out as `outputs` blocks of D in input order.
    """
    dim = len(degrees)
    layer_degrees = [degrees] + [hidden_degrees(size, dim) for size in hidden_sizes]
    masks = [(later[:, None] >= earlier[None, :]).float() for earlier, later in pairwise(layer_degrees)]
    output_degrees = degrees.repeat(outputs)
    masks.append((output_degrees[:, None] > layer_degrees[-1][None, :]).float())
    return masks


class MaskedLinear(nn.Linear):
    r"""A linear layer whose weight is multiplied by a fixed 0/1 mask: $y = (W \odot M)\,x + b$."""

    def __init__(self, mask: torch.Tensor) -> None:
        out_features, in_features = mask.shape
        super().__init__(in_features, out_features)
        self.register_buffer("mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return functional.linear(x, self.weight * self.mask, self.bias)


class MADE(nn.Module):
    """Masked autoencoder for `dim` inputs: `outputs` numbers per input, each from earlier inputs only.

    Arguments: `hidden_sizes` (one entry per hidden layer, any number of layers), `outputs` per input
    (2 for shift and log-scale), `order` ("natural", "reversed", "random" or a list of degrees; see
    `input_order`) and `seed` for the random order. ReLU between layers. With `zero_last_layer` (the
    default) the last layer starts at zero, so a fresh autoregressive layer built on it is the identity
    map; `zero_last_layer=False` keeps PyTorch's default random start, as most other libraries do (and as
    `maf` and `iaf` do unless told otherwise).
    """

    def __init__(
        self,
        dim: int,
        hidden_sizes: Sequence[int] = (64, 64),
        outputs: int = 2,
        order: str | Sequence[int] = "natural",
        seed: int = 0,
        zero_last_layer: bool = True,
    ) -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        self.outputs = check_positive_int(outputs, "outputs")
        for size in hidden_sizes:
            check_positive_int(size, "hidden size")
        self.register_buffer("degrees", input_order(dim, order, seed))
        masks = made_masks(self.degrees, hidden_sizes, outputs)
        layers: list[nn.Module] = []
        for mask in masks[:-1]:
            layers += [MaskedLinear(mask), nn.ReLU()]
        last = MaskedLinear(masks[-1])
        if zero_last_layer:
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        self.net = nn.Sequential(*layers, last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_points(x, self.dim, "x")
        return self.net(x).view(x.shape[0], self.outputs, self.dim)
