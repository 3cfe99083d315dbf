"""A plain fully connected network, the conditioner of coupling layers and of the naive autoregressive layer.

Shapes:  (batch, inputs) -> (batch, outputs)
Lessons: 01, 04
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from torch import nn

from nfcourse.validation import check_positive_int


def mlp(inputs: int, hidden_sizes: Sequence[int], outputs: int, zero_last_layer: bool = True) -> nn.Sequential:
    """inputs -> hidden_sizes[0] -> ... -> outputs, ReLU between layers.

    With `zero_last_layer` (the default) the last layer starts at zero, so a layer of a flow whose shift and
    log-scale come from this network starts as the identity map.
    """
    sizes = [check_positive_int(inputs, "inputs")]
    sizes += [check_positive_int(size, "hidden size") for size in hidden_sizes]
    layers: list[nn.Module] = []
    for before, after in pairwise(sizes):
        layers += [nn.Linear(before, after), nn.ReLU()]
    last = nn.Linear(sizes[-1], check_positive_int(outputs, "outputs"))
    if zero_last_layer:
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
    return nn.Sequential(*layers, last)
