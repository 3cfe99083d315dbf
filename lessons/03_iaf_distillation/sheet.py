# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown] key="title"
# # Exercise sheet 03: IAF, `Invert`, and distillation

# %% [markdown] key="how-to"
# Three tasks, 11 points. Each task asks for one function or class: write it in the cell that says
# `raise NotImplementedError`, run that cell, then run the self-check below it. The self-check builds random
# networks and bijectors, hands them to your code, and tells you what is right, what is wrong, and how many
# points it would earn. The grader uses other networks and sizes, so make your code right in general.
#
# All tensors here are `float64`. Shapes: points `(N, D)`, one log-det or log-density per point `(N,)`.

# %% key="imports"
import math

import torch

from nfcourse.bijectors import Bijector
from nfcourse.checks import check, summary

# %% [markdown] key="invert"
# ## Task 1: `Invert`, written as `Inverted` (4 points)
#
# A MAF layer evaluates densities in one pass and samples in $D$ steps. An IAF layer is the same map used
# the other way round: its sampling direction is the MAF layer's density direction. So no new layer is
# needed, only a wrapper that swaps the two directions of any bijector $f$:
# $$\texttt{Inverted(f).forward} = f^{-1}, \qquad \texttt{Inverted(f).inverse} = f.$$
# Each method of the course's bijectors returns $\log\lvert\det J\rvert$ of the direction it computes. Write the
# class `Inverted(bijector)`: `forward(u)` returns `(x, logdet)` and `inverse(x)` returns `(u, logdet)`, each
# with the log-det of its own direction. One point each for the two values and the two log-dets.
#
# *Hint:* think about which of the wrapped bijector's methods computes the map you are asked for, and which
# log-det it already returns. The checks wrap an autoregressive layer, whose log-det changes from point to point.


# %% key="invert-code" tags=["task"]
class Inverted(Bijector):
    """The bijector `bijector` with its directions swapped: forward = bijector.inverse, inverse = bijector.forward."""

    def __init__(self, bijector: Bijector) -> None:
        super().__init__()
        self.bijector = bijector

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ### BEGIN SOLUTION
        x, logdet = self.bijector.inverse(u)
        return x, logdet
        ### END SOLUTION

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ### BEGIN SOLUTION
        u, logdet = self.bijector.forward(x)
        return u, logdet
        ### END SOLUTION


# %% key="invert-check" tags=["check"]
check("03.invert", Inverted)

# %% [markdown] key="iaf-sample"
# ## Task 2: IAF sampling, and the density of the samples (4 points)
#
# One IAF layer computes the shift and log-scale of coordinate $i$ from the earlier *noise* coordinates:
# $$x_i = u_i\, e^{\alpha_i} + \mu_i, \qquad (\mu_i, \alpha_i) = c(u_{<i}).$$
# All of $u$ is known before we start, so one call of the conditioner gives every $(\mu_i, \alpha_i)$ at once.
# The Jacobian $\partial x / \partial u$ is triangular with diagonal $e^{\alpha_i}$, so the density of the
# sample $x$ is known from the same pass:
# $$\log q(x) = \log \mathcal N(u; 0, I) - \sum_i \alpha_i .$$
# Use this form, $x = u\,e^{\alpha} + \mu$, not the library's equivalent $x = (u - \mu)\,e^{-\alpha}$ (lecture,
# section 2): the self-check compares with it. Write `iaf_sample_and_log_prob(u, conditioner)` returning
# `(x, log_q)`. `conditioner(h)` returns
# `(mu, alpha)`, each of shape `(N, D)`, with `mu[:, i]` and `alpha[:, i]` depending only on `h[:, :i]`.
# Two points for `x`, two for `log_q`.
#
# *Hint:* $\log \mathcal N(u; 0, I) = -\tfrac12 \lVert u\rVert^2 - \tfrac D2 \log 2\pi$.


# %% key="iaf-sample-code" tags=["task"]
def iaf_sample_and_log_prob(u: torch.Tensor, conditioner) -> tuple[torch.Tensor, torch.Tensor]:
    """Samples x (N, D) of one IAF layer from noise u (N, D), and their log-density log q(x) (N,)."""
    ### BEGIN SOLUTION
    mu, alpha = conditioner(u)
    x = u * torch.exp(alpha) + mu
    log_base = -0.5 * (u**2).sum(dim=1) - 0.5 * u.shape[1] * math.log(2 * math.pi)
    return x, log_base - alpha.sum(dim=1)
    ### END SOLUTION


# %% key="iaf-sample-check" tags=["check"]
check("03.iaf_sample", iaf_sample_and_log_prob)

# %% [markdown] key="distillation"
# ## Task 3: the distillation loss (3 points)
#
# Parallel WaveNet trains a student $q$ (an IAF: fast sampling) to imitate a frozen teacher $p$ (a MAF:
# fast density) by minimizing the reverse KL divergence, estimated on $n$ samples of the student:
# $$\mathrm{KL}(q \,\|\, p) = \mathbb E_{x \sim q}\big[\log q(x) - \log p(x)\big] \approx \frac1n \sum_{k=1}^n \big(\log q(x_k) - \log p(x_k)\big).$$
# Write `distillation_loss(student, teacher, n, generator)`. Both models are `nfcourse` flows:
# `student.sample_and_log_prob(n, generator)` returns `n` samples and their log-density in one fast pass, and
# `teacher.log_prob(x)` returns $\log p(x)$. Return the estimate as a tensor of shape `()`. The optimizer
# will change the student through this number, so its gradient must reach the student's parameters, also
# the way through the samples $x_k$ into the teacher's $\log p(x_k)$. Two points for the value, one for the
# gradient.
#
# *Hint:* use the generator you are given for the samples (the check draws the same noise), and use
# neither `.detach()` nor `torch.no_grad()`.


# %% key="distillation-code" tags=["task"]
def distillation_loss(student, teacher, n: int, generator: torch.Generator) -> torch.Tensor:
    """The Monte-Carlo estimate of KL(student || teacher) from n samples of the student, shape ()."""
    ### BEGIN SOLUTION
    x, log_q = student.sample_and_log_prob(n, generator)
    return (log_q - teacher.log_prob(x)).mean()
    ### END SOLUTION


# %% key="distillation-check" tags=["check"]
check("03.distillation", distillation_loss)

# %% [markdown] key="points"
# ## Your points
#
# The cell below adds up the points of the self-checks you ran. They are a rough guide to your final
# points, but keep in mind that the grader also tries other inputs.
#
# To grade your sheet the way the course's grader does (fresh inputs, your code in a sandbox), save the
# notebook and run, in a terminal in the course folder with the course's environment active,
# `python -m nfcourse grade exercises/en/03_iaf_distillation.ipynb` (with your sheet's path). It prints the
# same kind of report in your sheet's language, and never changes your file.

# %% key="points-code"
summary("03")
