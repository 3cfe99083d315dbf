r"""Inverting a residual block $u = x + g(x)$ by fixed-point iteration.

There is no formula for $x$ given $u$, but $x$ is the fixed point of $T(x) = u - g(x)$, and $T$ is a
contraction when $g$ is: $\|T(x) - T(y)\| = \|g(x) - g(y)\| \le L \|x - y\|$ with $L = \mathrm{Lip}(g) < 1$.

Math:      $x_0 = u$, $x_{t+1} = u - g(x_t)$
Banach:    the fixed point $x^*$ exists, is unique, and
           $\|x_t - x^*\| \le \frac{L^t}{1 - L}\,\|x_1 - x_0\|$ (a priori) and
           $\|x_t - x^*\| \le \frac{L}{1 - L}\,\|x_t - x_{t-1}\|$ (a posteriori, from the last step)
Cost:      to shrink the first error by $\varepsilon$ takes $t \approx \log\varepsilon / \log L$ iterations,
           which grows like $1 / (1 - L)$ as $L \to 1$: sampling slows down as $c$ approaches 1
Stopping:  when the last step moved no coordinate by more than `tolerance`; at `max_iterations` it raises
           `FixedPointError`, never returns an unconverged point
Autograd:  the loop is ordinary autograd code: with gradients on, they flow through every iteration (memory
           grows with the iterations); sample under `torch.no_grad()` when no gradient is needed
Reference: Behrmann et al., Invertible Residual Networks, 2019, arXiv:1811.00995 (algorithm 1)
Lessons:   06, 07
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from nfcourse.i18n import _
from nfcourse.validation import check_positive_int


class FixedPointError(RuntimeError):
    """The fixed-point iteration reached its cap; `.iterations` is the cap and `.residual` the last step's size."""

    def __init__(self, iterations: int, residual: float) -> None:
        self.iterations, self.residual = iterations, residual
        super().__init__(
            _(
                "The fixed-point iteration did not converge within {iterations} iterations: its last step still "
                "moved a coordinate by {residual:.3g}. Try a smaller Lipschitz coefficient c (the iteration "
                "contracts faster) or a larger max_iterations."
            ).format(iterations=iterations, residual=residual)
        )


def check_tolerance(tolerance: float) -> float:
    """Check that a stopping tolerance is a positive number and return it."""
    if not tolerance > 0:
        raise ValueError(_("tolerance must be positive, got {tolerance}.").format(tolerance=tolerance))
    return tolerance


def fixed_point_inverse(
    g: Callable[[torch.Tensor], torch.Tensor], u: torch.Tensor, tolerance: float = 1e-6, max_iterations: int = 100
) -> tuple[torch.Tensor, int]:
    r"""Solve $x + g(x) = u$ by $x \leftarrow u - g(x)$ from $x = u$; return $x$ and the iterations taken.

    Stops once $\max |x_{t} - x_{t-1}| \le$ `tolerance` (over the whole batch); raises `FixedPointError`
    after `max_iterations` iterations without that. Shapes: u, x: (batch, D).
    """
    check_tolerance(tolerance)
    check_positive_int(max_iterations, "max_iterations")
    x = u
    for iterations in range(1, max_iterations + 1):
        x, previous = u - g(x), x
        residual = float((x - previous).abs().max().detach())
        if residual <= tolerance:
            return x, iterations
    raise FixedPointError(max_iterations, residual)
