r"""A loaded data set: fixed train and test splits, standardized, with the true density beside them.

Because the density that made the data is known, the best test NLL any model can reach is known too:
the *oracle NLL* $-\frac1n \sum_{x \in \text{test}} \log p(x)$, an estimate of the data's entropy
$H(p) = -E_p[\log p(x)]$ (in nats, summed over both coordinates). A model's test NLL is
$H(p) + \mathrm{KL}(p \,\|\, q) \ge H(p)$, so the gap between the two is how far the model is from
perfect, and a model that seems to beat the oracle by more than a few standard errors is overfitting
the test set or computing its NLL wrongly.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import torch

from nfcourse.datasets.base import RawDistribution, Standardization
from nfcourse.i18n import _
from nfcourse.validation import check_points, check_positive_int


@dataclass(frozen=True, eq=False)
class Dataset:
    r"""Train and test points $x$ (standardized, float32, CPU) and the true density they were drawn from.

    Math:      $x = (y - m)/s$ with $y \sim p_y$ (`distribution`) and the fixed map `standardization`;
               $\log p_x(x) = \log p_y(m + s \odot x) + \sum_i \log s_i$
    Shapes:    train: (n_train, 2); test: (n_test, 2); log_prob: (batch,)
    """

    name: str
    options: dict[str, object]  # the data set's own options, defaults filled in
    seed: int
    train: torch.Tensor = field(repr=False)
    test: torch.Tensor = field(repr=False)
    distribution: RawDistribution = field(repr=False)
    standardization: Standardization = field(repr=False)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        r"""The true $\log p_x(x)$ in standardized coordinates, shape (batch,), in the dtype and on the device of `x`.

        It is $-\infty$ outside the support (the word's letters, the checkerboard's dark squares).
        """
        check_points(x, 2, "x", finite=True)
        y = self.standardization.to_raw(x.to(torch.float64))
        return (self.distribution.log_prob(y) + self.standardization.log_scale_sum).to(x.dtype)

    def oracle_nll(self) -> float:
        r"""$-\frac1n\sum_{x \in \text{test}} \log p(x)$ in nats (both coordinates together): the best test NLL."""
        return float(-self.log_prob(self.test.to(torch.float64)).mean())

    def oracle_nll_per_dim(self) -> float:
        """The oracle NLL divided by the dimension 2, to compare with NLLs reported per dimension."""
        return self.oracle_nll() / 2

    def oracle_nll_standard_error(self) -> float:
        r"""Standard error of the oracle NLL as an estimate of the entropy: $\mathrm{sd}(\log p(x)) / \sqrt{n}$."""
        log_p = self.log_prob(self.test.to(torch.float64))
        return float(log_p.std() / math.sqrt(len(log_p)))

    def curve_shares(self, x: torch.Tensor) -> torch.Tensor:
        r"""For data made of curves (moons, spirals, rings): the share of the points `x` on each curve, shape (K,).

        Math: $\frac1n \sum_n P(k \mid x_n)$ with the true responsibilities $P(k \mid x)$; the shares sum to 1.
        For the data's own points they estimate the curves' weights (one half each for the two moons), so
        a model whose samples give other shares puts the wrong amount of mass on each curve.
        """
        if not hasattr(self.distribution, "curve_probabilities"):
            raise ValueError(_("The data set {name} is not made of curves.").format(name=self.name))
        check_points(x, 2, "x", finite=True)
        y = self.standardization.to_raw(x.to(torch.float64))
        return self.distribution.curve_probabilities(y).mean(dim=0)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """`n` fresh standardized points, float32, shape (n, 2); `generator` is the only source of randomness.

        A generator seeded by hand does not reproduce the train or test split (those use streams of
        their own), so it gives new points from the same distribution.
        """
        check_positive_int(n, "n")
        if not isinstance(generator, torch.Generator):
            raise TypeError(
                _("generator must be a torch.Generator, e.g. torch.Generator().manual_seed(0), got {type}.").format(
                    type=type(generator).__name__
                )
            )
        return draw(self.distribution, self.standardization, n, generator)


def draw(
    distribution: RawDistribution, standardization: Standardization, n: int, generator: torch.Generator
) -> torch.Tensor:
    r"""`n` standardized float32 points whose float32 value still has a finite density.

    Rounding to float32 moves a point by about $10^{-7}$; near the edge of a bounded support (a letter,
    a square) that can carry it outside, where $\log p = -\infty$. Such rare points are drawn again.
    """
    kept, count = [], 0
    while count < n:
        x = standardization.to_standard(distribution.sample(n - count, generator)).to(torch.float32)
        if distribution.bounded_support:
            x = x[torch.isfinite(distribution.log_prob(standardization.to_raw(x.to(torch.float64))))]
        kept.append(x)
        count += len(x)
    return torch.cat(kept)


def split_generator(seed: int, split: str) -> torch.Generator:
    """A generator for one split ("train" or "test") of one seed; distinct (seed, split) pairs give distinct streams.

    The generator's seed is a hash of both, so the test set stays the same when only `n_train` changes,
    and no small hand-picked seed (0, 1, 42, ...) reproduces a split.
    """
    digest = hashlib.sha256(f"nfcourse.datasets/{split}/{seed}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))
