r"""Two data sets whose density is a formula: eight Gaussians on a circle, and a checkerboard.

Both are mixtures of simple parts: eight isotropic Gaussians with equal weights, and the uniform
distribution on eight equal squares. Their log-densities and moments are exact.
"""

from __future__ import annotations

import math

import torch

from nfcourse.datasets.base import RawDistribution, check_noise


class EightGaussians(RawDistribution):
    r"""Eight Gaussians $\mathcal{N}(\mu_k, \sigma^2 I_2)$ with centers on a circle, weights 1/8.

    Math:      $\mu_k = R(\cos\frac{k\pi}{4}, \sin\frac{k\pi}{4})$, $k = 0..7$, $R = 2$;
               $\log p(y) = \operatorname{logsumexp}_k(-\|y - \mu_k\|^2 / 2\sigma^2) - \log 8 - \log(2\pi\sigma^2)$
    Moments:   mean 0 (the centers cancel); variance per axis $R^2/2 + \sigma^2$, since
               $\frac18\sum_k \cos^2\frac{k\pi}{4} = \frac18\sum_k \sin^2\frac{k\pi}{4} = \frac12$
    """

    radius = 2.0

    def __init__(self, noise: float = 0.2) -> None:
        self.noise = check_noise(noise)
        angles = torch.arange(8, dtype=torch.float64) * math.pi / 4
        self.centers = self.radius * torch.stack([angles.cos(), angles.sin()], dim=1)  # (8, 2)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        k = torch.randint(8, (n,), generator=generator)
        return self.centers[k] + self.noise * torch.randn(n, 2, generator=generator, dtype=torch.float64)

    def log_prob(self, y: torch.Tensor) -> torch.Tensor:
        squared = ((y[:, None, :] - self.centers.to(y)[None]) ** 2).sum(dim=2)  # (batch, 8)
        log_norm = math.log(8) + math.log(2 * math.pi * self.noise**2)
        return torch.logsumexp(-squared / (2 * self.noise**2), dim=1) - log_norm

    def moments(self) -> tuple[torch.Tensor, torch.Tensor]:
        variance = self.radius**2 / 2 + self.noise**2
        return torch.zeros(2, dtype=torch.float64), torch.full((2,), variance, dtype=torch.float64)


class Checkerboard(RawDistribution):
    r"""Uniform on the dark squares of a 4 x 4 board $[-2, 2]^2$ with unit squares.

    Math:      square $(i, j) = (\lfloor y_1 \rfloor + 2, \lfloor y_2 \rfloor + 2) \in \{0..3\}^2$ is dark
               when $i + j$ is even: 8 dark squares of area 1, so $p(y) = 1/8$ there and 0 elsewhere
    Moments:   every column and every row holds two dark squares, so each marginal is uniform on
               $[-2, 2]$: mean 0, variance $4^2/12 = 4/3$
    """

    bounded_support = True

    def __init__(self) -> None:
        corners = [(i - 2, j - 2) for i in range(4) for j in range(4) if (i + j) % 2 == 0]
        self.dark_corners = torch.tensor(corners, dtype=torch.float64)  # lower-left corners: (8, 2)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        k = torch.randint(len(self.dark_corners), (n,), generator=generator)
        return self.dark_corners[k] + torch.rand(n, 2, generator=generator, dtype=torch.float64)

    def log_prob(self, y: torch.Tensor) -> torch.Tensor:
        square = torch.floor(y) + 2  # (batch, 2), board squares have indices 0..3
        on_board = ((square >= 0) & (square <= 3)).all(dim=1)
        dark = square.sum(dim=1).remainder(2) == 0
        return torch.where(on_board & dark, y.new_tensor(-math.log(8)), y.new_tensor(-math.inf))  # y's dtype

    def moments(self) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.zeros(2, dtype=torch.float64), torch.full((2,), 4 / 3, dtype=torch.float64)
