r"""What every 2-D toy distribution of the course provides, and the affine map that standardizes it.

Each distribution lives in its own "raw" coordinates $y$ (a half circle of radius 1, a board of
side 4, a word in font units). A model sees standardized data $x = (y - m) / s$, with a fixed shift
$m$ and scale $s$ per axis, so every data set has mean 0 and spread 1 and one learning rate fits all.
A density must follow the change of variables:

Math:      $y = m + s \odot x$, so $\log p_x(x) = \log p_y(m + s \odot x) + \sum_i \log s_i$
Shapes:    y, x: (batch, 2); log-densities: (batch,)
Numerics:  raw densities are computed in float64; constants live on the CPU and are moved to the
           input's device when used
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from nfcourse.i18n import _

CHUNK_ENTRIES = 2**22  # largest (points x terms) matrix one step of a density evaluation builds


class RawDistribution(ABC):
    """A 2-D distribution in its own coordinates $y$: a sampler, its exact log-density, its moments."""

    bounded_support = False  # True when the density drops to 0 at an edge (a letter, a square)

    @abstractmethod
    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """`n` independent draws $y$, float64, shape (n, 2), using only `generator` for randomness."""

    @abstractmethod
    def log_prob(self, y: torch.Tensor) -> torch.Tensor:
        r"""$\log p_y(y)$ for float64 `y` of shape (batch, 2); shape (batch,). May be $-\infty$."""

    @abstractmethod
    def moments(self) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Exact mean $E[y]$ and variance $\mathrm{Var}[y_i]$ per axis, each float64 of shape (2,)."""

    def standardization(self) -> Standardization:
        r"""The fixed map to standardized coordinates: per axis, $m = E[y]$ and $s_i = \sqrt{\mathrm{Var}[y_i]}$."""
        mean, variance = self.moments()
        return Standardization(shift=mean, scale=variance.sqrt())


@dataclass(frozen=True)
class Standardization:
    r"""The affine map $x = (y - m) / s$ from raw to standardized coordinates (float64, shape (2,) each).

    Its log-Jacobian $\log|\det \partial y / \partial x| = \sum_i \log s_i$ is added to every raw
    log-density, so that $p_x$ is again a probability density.
    """

    shift: torch.Tensor  # m, (2,)
    scale: torch.Tensor  # s, (2,), positive

    def to_standard(self, y: torch.Tensor) -> torch.Tensor:
        return (y - self.shift.to(y)) / self.scale.to(y)

    def to_raw(self, x: torch.Tensor) -> torch.Tensor:
        return self.shift.to(x) + self.scale.to(x) * x

    @property
    def log_scale_sum(self) -> float:
        r"""$\sum_i \log s_i$, the log-Jacobian of $x \mapsto y$."""
        return float(self.scale.log().sum())


def check_noise(noise: object) -> float:
    """Check that `noise` (a standard deviation) is a finite positive number and return it as a float.

    Zero is refused too: without noise the points lie on a curve or a point set, which has no density.
    """
    if isinstance(noise, bool) or not isinstance(noise, (int, float)):
        raise TypeError(
            _("noise must be a number (a standard deviation), got {type}.").format(type=type(noise).__name__)
        )
    if not (math.isfinite(noise) and noise > 0):
        raise ValueError(
            _(
                "noise must be a positive standard deviation, got {value!r}; "
                "with zero noise the data would have no density."
            ).format(value=noise)
        )
    return float(noise)


def row_chunks(y: torch.Tensor, terms: int) -> Iterator[torch.Tensor]:
    """Consecutive row blocks of `y` so that (block rows x `terms`) stays below `CHUNK_ENTRIES`."""
    size = max(1, CHUNK_ENTRIES // max(terms, 1))
    yield from torch.split(y, size)
