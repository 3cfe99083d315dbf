r"""Residual blocks as bijectors: invertible ResNets (i-ResNet) and Residual Flows.

A residual block adds a contraction $g$ ($\mathrm{Lip}(g) < 1$, from `nfcourse.residual.lipschitz_mlp`) to the
identity. Unlike a coupling or autoregressive layer, every output coordinate may depend on every input one:
the Jacobian is full, so neither direction is a formula.

Math:      inverse (density)   $u = x + g(x)$, one pass; log-det $\log\det(I + J_g(x))$, estimated
           forward (sampling)  $x$ with $x + g(x) = u$, by fixed-point iteration $x \leftarrow u - g(x)$
                               (`fixed_point_inverse`); log-det $-\log\det(I + J_g(x))$ at that $x$
Why:       $\|g(x) - g(y)\| < \|x - y\|$ makes $x \mapsto x + g(x)$ one-to-one (two points with the same
           image would need $\|g(x) - g(y)\| = \|x - y\|$) and the iteration a contraction (Banach)
Log-dets:  the block takes its estimator as an argument, one for training mode and one for eval mode:
           i-ResNet trains with the truncated series and Hutchinson traces (biased), Residual Flows with the
           unbiased Russian roulette estimate and its memory-efficient Neumann gradient; both evaluate with
           `exact_logdet` in low dimension
Reference: Behrmann et al., Invertible Residual Networks, 2019, arXiv:1811.00995; Chen et al., Residual Flows
           for Invertible Generative Modeling, 2019, arXiv:1906.02735
Lessons:   06, 07
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import torch
from torch import nn

from nfcourse.bijectors.base import Bijector, Compose
from nfcourse.bijectors.stacking import between_layers
from nfcourse.i18n import N_, _
from nfcourse.residual.fixed_point import check_tolerance, fixed_point_inverse
from nfcourse.residual.logdet import exact_logdet, hutchinson_power_series_logdet, russian_roulette_logdet
from nfcourse.residual.network import lipschitz_mlp
from nfcourse.residual.neumann import russian_roulette_logdet_with_neumann_gradient
from nfcourse.residual.spectral import check_unit_interval, converge_spectral_norms
from nfcourse.validation import check_points, check_positive_int

LogDet = Callable[[nn.Module, torch.Tensor], torch.Tensor]
EXACT_UP_TO = 8  # dimensions up to which eval mode computes the log-det exactly (D backward passes)
SAMPLING_TOLERANCE = 1e-5  # a few float32 round-offs of a standardized coordinate: float32 cannot do much better
MAX_ITERATIONS = 1000  # Lip(g) <= 0.97^3 = 0.91 needs about 130 iterations for 1e-5; the cap is for the unexpected


def input_size(g: nn.Module) -> int | None:
    """The number of input features of the first linear layer in `g`, or None if `g` has none."""
    return next((layer.in_features for layer in g.modules() if isinstance(layer, nn.Linear)), None)


class ResidualBlock(Bijector):
    r"""$u = x + g(x)$ with a contraction $g$; log-dets from the estimators `logdet` and `eval_logdet`.

    `logdet` and `eval_logdet` are callables `(g, x) -> (batch,)` (bind their settings with
    `functools.partial`). Training mode uses `logdet`, eval mode `eval_logdet`, in both directions:
    `inverse` returns $+$estimate at $x$, `forward` returns $-$estimate at the $x$ it found.
    `forward` runs `fixed_point_inverse(g, u, tolerance, max_iterations)` and keeps the number of
    iterations in `last_iterations`; it raises `FixedPointError` rather than return an unconverged point.
    `dim` is the input size of `g`'s first linear layer (None if it has none: any width is accepted).
    Modes:     evaluate and sample in eval mode, where `g` is one fixed map. In training mode each call of a
               `SpectralNormLinear` takes a power-iteration step, so `g` moves slightly from one call to the
               next: between $u = x + g(x)$ and the estimator's own call, and between fixed-point steps.
    Shapes:    u, x: (batch, D); logdet: (batch,)
    """

    title = N_("residual block")

    def __init__(
        self,
        g: nn.Module,
        logdet: LogDet,
        eval_logdet: LogDet = exact_logdet,
        tolerance: float = SAMPLING_TOLERANCE,
        max_iterations: int = MAX_ITERATIONS,
    ) -> None:
        super().__init__()
        if not isinstance(g, nn.Module):
            raise TypeError(
                _("ResidualBlock takes the branch g as a torch.nn.Module, got {type}.").format(type=type(g).__name__)
            )
        self.g, self.logdet, self.eval_logdet = g, logdet, eval_logdet
        self.tolerance = check_tolerance(tolerance)
        self.max_iterations = check_positive_int(max_iterations, "max_iterations")
        self.dim = input_size(g)
        self.last_iterations = 0

    def current_logdet(self) -> LogDet:
        """The estimator of the current mode: `logdet` in training mode, `eval_logdet` in eval mode."""
        return self.logdet if self.training else self.eval_logdet

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_points(u, self.dim, "u")
        x, self.last_iterations = fixed_point_inverse(self.g, u, self.tolerance, self.max_iterations)
        return x, -self.current_logdet()(self.g, x)

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_points(x, self.dim, "x")
        return x + self.g(x), self.current_logdet()(self.g, x)


def set_training_logdet(module: nn.Module, logdet: LogDet) -> list[ResidualBlock]:
    """Give every `ResidualBlock` in `module` the training log-det `logdet`, and return those blocks.

    Lesson 07 uses it to compare estimators on one model (e.g. `partial(russian_roulette_logdet, p=0.1)`).
    """
    blocks = [block for block in module.modules() if isinstance(block, ResidualBlock)]
    for block in blocks:
        block.logdet = logdet
    return blocks


def lipschitz_branch(
    dim: int, hidden_sizes: Sequence[int], coefficient: float, activation: str, seed: int, k: int
) -> nn.Module:
    """The branch g of block k: a `lipschitz_mlp`, its power iterations started from their own seeds."""
    return lipschitz_mlp(dim, hidden_sizes, coefficient, activation, seed=seed + k * (len(hidden_sizes) + 1))


def residual_stack(
    dim: int,
    blocks: int,
    branch: Callable[[int], nn.Module],
    logdet: LogDet,
    eval_logdet: LogDet,
    normalization: str,
    seed: int,
    tolerance: float,
    max_iterations: int,
) -> Compose:
    """`blocks` residual blocks, `branch(k)` the g of block k, with `between_layers` normalizations between;
    the power iterations start converged, so the stack is invertible from its first call, in either mode."""
    check_positive_int(blocks, "blocks")
    steps: list[Bijector] = []
    for k in range(blocks):
        steps += between_layers(dim, k, "none", normalization, seed)
        steps.append(ResidualBlock(branch(k), logdet, eval_logdet, tolerance, max_iterations))
    stack = Compose(*steps)
    converge_spectral_norms(stack)
    return stack


def iresnet(
    dim: int,
    blocks: int = 4,
    hidden_sizes: Sequence[int] = (64, 64),
    coefficient: float = 0.9,
    activation: str = "elu",
    terms: int = 5,
    probes: int = 1,
    normalization: str = "none",
    seed: int = 0,
    tolerance: float = SAMPLING_TOLERANCE,
    max_iterations: int = MAX_ITERATIONS,
) -> Compose:
    """An invertible ResNet: `blocks` residual blocks, each $g$ a `lipschitz_mlp` with bound `coefficient`.

    Training log-det: `hutchinson_power_series_logdet` with `terms` terms and `probes` probe vectors (biased
    by the truncation, as in the paper). Eval log-det: `exact_logdet` up to 8 dimensions; above, the
    Hutchinson series with 4 times the terms and 4 times the probes (still an estimate: exact needs D
    backward passes per block). `normalization` goes between blocks ("none", "batch" or "act", see
    `between_layers`; no permutation: each block mixes all coordinates already). `seed` draws the start
    vectors of the power iterations; the weights start as PyTorch's default (set `torch.manual_seed`).
    """
    check_positive_int(dim, "dim")
    check_positive_int(terms, "terms"), check_positive_int(probes, "probes")
    logdet = partial(hutchinson_power_series_logdet, terms=terms, probes=probes)
    estimate = partial(hutchinson_power_series_logdet, terms=4 * terms, probes=4 * probes)
    eval_logdet = exact_logdet if dim <= EXACT_UP_TO else estimate

    branch = partial(lipschitz_branch, dim, hidden_sizes, coefficient, activation, seed)
    return residual_stack(dim, blocks, branch, logdet, eval_logdet, normalization, seed, tolerance, max_iterations)


def residual_flow(
    dim: int,
    blocks: int = 4,
    hidden_sizes: Sequence[int] = (64, 64),
    coefficient: float = 0.97,
    activation: str = "lipswish",
    p: float = 0.5,
    exact_terms: int = 2,
    normalization: str = "act",
    seed: int = 0,
    tolerance: float = SAMPLING_TOLERANCE,
    max_iterations: int = MAX_ITERATIONS,
) -> Compose:
    """A Residual Flow: residual blocks with LipSwish branches and ActNorm between them, as in the paper.

    Training log-det: `russian_roulette_logdet_with_neumann_gradient` (unbiased value, memory-efficient
    gradient; `p` and `exact_terms` set the number of terms, see `geometric_terms`). Eval log-det:
    `exact_logdet` up to 8 dimensions, `russian_roulette_logdet` above (an unbiased estimate; never the
    surrogate). Other arguments as in `iresnet`.
    """
    check_positive_int(dim, "dim")
    check_unit_interval(p, "p"), check_positive_int(exact_terms, "exact_terms")
    logdet = partial(russian_roulette_logdet_with_neumann_gradient, p=p, exact_terms=exact_terms)
    estimate = partial(russian_roulette_logdet, p=p, exact_terms=exact_terms)
    eval_logdet = exact_logdet if dim <= EXACT_UP_TO else estimate

    branch = partial(lipschitz_branch, dim, hidden_sizes, coefficient, activation, seed)
    return residual_stack(dim, blocks, branch, logdet, eval_logdet, normalization, seed, tolerance, max_iterations)
