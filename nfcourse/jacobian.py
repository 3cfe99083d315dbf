r"""Brute-force Jacobians in float64: the reference every log-det in the course is checked against.

A bijector computes its log-det cleverly (a sum of log-scales, a triangular product, a series).
Here we compute the full $D \times D$ Jacobian of one sample at a time with autograd
(`torch.func.jacrev`) and take $\log|\det J|$ with `slogdet`: slow, but it cannot share a mistake
with the clever formula. The library's tests, the exercise self-checks and the grader all call
these two functions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

Map = Callable[[torch.Tensor], "torch.Tensor | tuple[torch.Tensor, torch.Tensor]"]


def _first_output(fn: Map, point: torch.Tensor) -> torch.Tensor:
    out = fn(point[None])  # one sample as a batch of one: (1, D)
    return (out[0] if isinstance(out, tuple) else out)[0]


def jacobian(fn: Map, x: torch.Tensor) -> torch.Tensor:
    r"""$J[b, i, j] = \partial \mathrm{fn}(x_b)_i / \partial x_{b,j}$ for each sample, in float64.

    `fn` maps (batch, D) to (batch, D), or to a tuple whose first entry is that (a bijector direction).
    Its parameters must already be float64 (`module.double()`). The result is a plain reference value,
    detached from any parameters. Shapes: x: (batch, D) -> (batch, D, D).
    """
    x = x.detach().to(torch.float64)
    return torch.stack([torch.func.jacrev(lambda p: _first_output(fn, p))(point) for point in x]).detach()


def brute_force_logdet(fn: Map, x: torch.Tensor) -> torch.Tensor:
    r"""$\log|\det J_{\mathrm{fn}}(x_b)|$ for each sample, from the full Jacobian. Shape (batch,)."""
    return torch.linalg.slogdet(jacobian(fn, x)).logabsdet
