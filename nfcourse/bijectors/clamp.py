r"""A smooth bound for log-scales, used by every affine transform in the library.

An affine step $x = u \exp(\alpha) + \mu$ overflows when a network outputs a large $\alpha$.
A hard `clamp` stops the gradient at the bound; `tanh` bounds it smoothly instead:

Math:      $\mathrm{soft\_clamp}(\alpha) = B \tanh(\alpha / B) \in (-B, B)$, slope 1 at 0
Numerics:  with the default $B = 5$ a single step scales by at most $e^5 \approx 148$
Lessons:   00 onwards
"""

from __future__ import annotations

import torch

from nfcourse.i18n import _

DEFAULT_BOUND = 5.0


def soft_clamp(alpha: torch.Tensor, bound: float = DEFAULT_BOUND) -> torch.Tensor:
    r"""Bound `alpha` smoothly to $(-B, B)$ with $B\tanh(\alpha/B)$; nearly the identity for $|\alpha| \ll B$."""
    if bound <= 0:
        raise ValueError(_("bound must be positive, got {bound}.").format(bound=bound))
    return bound * torch.tanh(alpha / bound)


def soft_unclamp(alpha: torch.Tensor, bound: float = DEFAULT_BOUND) -> torch.Tensor:
    r"""The raw value whose `soft_clamp` is `alpha`: $B\,\mathrm{artanh}(\alpha / B)$, with `alpha` first kept
    just inside $(-B, B)$. Used to start a layer at a chosen log-scale (`ActNorm`)."""
    limit = 1 - 1e-6
    return bound * torch.atanh((alpha / bound).clamp(-limit, limit))
