r"""LipSwish: a smooth activation that is 1-Lipschitz for every value of its learnable slope.

A residual branch $g$ must stay a contraction, so its activations must be 1-Lipschitz, and the log-det
estimators differentiate $g$ twice in training (the gradient of a Jacobian), so they should be smooth.
ELU and softplus are both; ReLU is 1-Lipschitz but its Jacobian jumps, which makes the density creased.
Swish, $x\,\sigma(\beta x)$, is smooth and works well in deep networks, but its slope reaches about 1.1.

Math:      $f(x) = x\,\sigma(\beta x) / 1.1$, $\beta = \mathrm{softplus}(\tilde\beta) > 0$
Why 1.1:   $\frac{d}{dx}\,x\,\sigma(\beta x) = \sigma(z) + z\,\sigma(z)\,(1 - \sigma(z)) =: h(z)$ with $z = \beta x$.
           The slope is $h$ at $z = \beta x$, so as $x$ runs over the line it takes the same values for
           every $\beta$: $\beta$ only rescales where they occur. $\max h \approx 1.0998$ (at $z \approx 2.40$)
           and $\min h = 1 - \max h \approx -0.0998$ (since $h(-z) = 1 - h(z)$), so $|f'| \le 1.0998 / 1.1 < 1$
           for every $\beta > 0$, and the bound is nearly reached: 1.1 wastes almost nothing
Numerics:  softplus keeps $\beta > 0$; for a raw value below about $-745$ it underflows to $\beta = 0$ in float64,
           where $f(x) = x / 2.2$, still 1-Lipschitz
Reference: Chen et al., Residual Flows for Invertible Generative Modeling, 2019, arXiv:1906.02735 (LipSwish);
           Ramachandran et al., Searching for Activation Functions, 2017, arXiv:1710.05941 (Swish)
Lessons:   07
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.functional import softplus

SLOPE_BOUND = 1.1  # just above max_z h(z) = 1.0998...


class LipSwish(nn.Module):
    r"""$x\,\sigma(\beta x) / 1.1$, one learnable $\beta = \mathrm{softplus}(\tilde\beta)$ starting at $\beta = 1$.

    Shapes: any, elementwise. See the module's docstring for why the map is 1-Lipschitz for every $\beta$.
    """

    def __init__(self) -> None:
        super().__init__()
        self.raw_beta = nn.Parameter(torch.tensor(math.log(math.e - 1)))  # softplus^{-1}(1)

    @property
    def beta(self) -> torch.Tensor:
        return softplus(self.raw_beta)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.beta * x) / SLOPE_BOUND
