r"""The residual branch $g$: a fully connected network whose Lipschitz constant is at most $c < 1$.

A residual block $x \mapsto x + g(x)$ is invertible when $g$ is a contraction. The Lipschitz constant of a
composition is at most the product of its parts' constants, so spectrally normalized linear layers
(each $\le c$) with 1-Lipschitz activations between them give

Math:      $\mathrm{Lip}(g) \le c \cdot 1 \cdot c \cdots c = c^L \le c$ for $L$ linear layers and $c \le 1$
Shapes:    (batch, D) -> (batch, D)
Activations: "lipswish" (`LipSwish`, smooth, Residual Flows), "elu" (smooth, i-ResNet), "softplus" (smooth),
           "relu" (1-Lipschitz but not smooth: its Jacobian jumps, so the density has creases)
Reference: Behrmann et al., Invertible Residual Networks, 2019, arXiv:1811.00995 (section 2);
           the Residual Flows paper (Chen et al., 2019, arXiv:1906.02735)
Lessons:   06, 07
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

from torch import nn

from nfcourse.residual.activations import LipSwish
from nfcourse.residual.spectral import SpectralNormLinear
from nfcourse.validation import check_choice, check_positive_int

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "lipswish": LipSwish,
    "elu": nn.ELU,
    "softplus": nn.Softplus,
    "relu": nn.ReLU,
}


def lipschitz_mlp(
    dim: int,
    hidden_sizes: Sequence[int],
    coefficient: float = 0.97,
    activation: str = "lipswish",
    iterations: int = 1,
    seed: int = 0,
) -> nn.Sequential:
    """dim -> hidden_sizes[0] -> ... -> dim: `SpectralNormLinear` layers (each with Lipschitz bound
    `coefficient`) and a fresh 1-Lipschitz `activation` between them, so the whole network is at most
    `coefficient`-Lipschitz once the power iterations have converged (`converge_spectral_norms`).

    `iterations` power-iteration steps per call in training mode; `seed` draws the start vectors.
    """
    check_choice(activation, tuple(ACTIVATIONS), "activation")
    sizes = [check_positive_int(dim, "dim")]
    sizes += [check_positive_int(size, "hidden size") for size in hidden_sizes]
    sizes.append(dim)
    layers: list[nn.Module] = []
    for k, (before, after) in enumerate(pairwise(sizes)):
        if k > 0:
            layers.append(ACTIVATIONS[activation]())
        layers.append(SpectralNormLinear(before, after, coefficient, iterations, seed=seed + k))
    return nn.Sequential(*layers)
