r"""A normalizing flow: a base distribution pushed through a bijector.

Math:      $x = f(u)$, $u \sim \mathcal{N}(0, I)$;
           $\log p(x) = \log \mathcal{N}(f^{-1}(x); 0, I) + \log|\det J_{f^{-1}}(x)|$
Shapes:    x: (batch, D); log_prob: (batch,)
Reference: Rezende & Mohamed, Variational Inference with Normalizing Flows, 2015, arXiv:1505.05770
Lessons:   00 onwards
"""

from __future__ import annotations

import math

import torch
from torch import nn

from nfcourse.bijectors.base import Bijector
from nfcourse.i18n import _
from nfcourse.validation import check_points, check_positive_int


class StandardNormal(nn.Module):
    r"""The base distribution $\mathcal{N}(0, I_D)$: $\log p(u) = -\tfrac12\|u\|^2 - \tfrac D2 \log 2\pi$.

    It holds no parameters, only an empty buffer that follows `.to(device, dtype)`, so samples are
    drawn where the flow lives.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        self.register_buffer("_anchor", torch.zeros(0))

    def log_prob(self, u: torch.Tensor) -> torch.Tensor:
        return -0.5 * (u**2).sum(dim=1) - 0.5 * self.dim * math.log(2 * math.pi)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """`n` draws of shape (n, D), made on the generator's device and moved to the flow's.

        A CPU generator therefore gives the same noise whether the flow lives on the CPU or a GPU.
        """
        anchor = self._anchor
        where = generator.device if generator is not None else anchor.device
        return torch.randn(n, self.dim, generator=generator, device=where, dtype=anchor.dtype).to(anchor.device)


class Flow(nn.Module):
    """Base distribution + bijector, with `log_prob`, `sample` and `sample_and_log_prob`.

    The bijector's `forward` maps noise to data (sampling) and `inverse` data to noise (density).
    """

    def __init__(self, bijector: Bijector, dim: int) -> None:
        super().__init__()
        if not isinstance(bijector, Bijector):
            raise TypeError(_("Flow takes a Bijector, got {type}.").format(type=type(bijector).__name__))
        self.bijector = bijector
        self.base = StandardNormal(dim)
        for tensor in bijector.parameters():  # draw noise where, and in the dtype, the bijector lives
            self.base.to(device=tensor.device, dtype=tensor.dtype)
            break

    @property
    def dim(self) -> int:
        return self.base.dim

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        r"""$\log p(x) = \log p_u(f^{-1}(x)) + \log|\det J_{f^{-1}}(x)|$, shape (batch,)."""
        check_points(x, self.dim, "x", finite=True)
        u, logdet = self.bijector.inverse(x)
        return self.base.log_prob(u) + logdet

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """`n` samples $x = f(u)$, shape (n, D)."""
        x, _logdet = self.bijector.forward(self.base.sample(check_positive_int(n, "n"), generator))
        return x

    def sample_and_log_prob(
        self, n: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Samples and their log-density from one forward pass: $\log p(x) = \log p_u(u) - \log|\det J_f(u)|$.

        Cheaper than `sample` followed by `log_prob` whenever the inverse is slow (IAF, residual flows).
        """
        u = self.base.sample(check_positive_int(n, "n"), generator)
        x, logdet = self.bijector.forward(u)
        return x, self.base.log_prob(u) - logdet
