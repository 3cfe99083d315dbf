# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown] key="title"
# # Exercise sheet 00: densities under a change of variables

# %% [markdown] key="how-to"
# Four tasks, 12 points. Each task asks for one function or class: write it in the cell that says
# `raise NotImplementedError`, run that cell, then run the self-check below it. The self-check tries your code
# on a few inputs and tells you what is right, what is wrong, and how many points it would earn. The grader
# uses other inputs (other sizes, other values), so make your code right in general, not only for these.
#
# All tensors here are `float64`. Use PyTorch operations only; no loops over samples are needed.

# %% key="imports"
import math

import torch

from nfcourse.checks import check, summary

# %% [markdown] key="lognormal"
# ## Task 1: the density of a transformed 1-D variable (2 points)
#
# Let $u \sim \mathcal N(0, 1)$ and $x = f(u) = e^u$. Then $f^{-1}(x) = \log x$ and, by the change of variables,
# $$p_X(x) = p_U\big(f^{-1}(x)\big)\,\left|\frac{d f^{-1}}{dx}(x)\right|.$$
# Write `lognormal_log_prob(x)` that returns $\log p_X(x)$ for a tensor `x` of positive numbers, shape `(N,)`.
#
# *Hint:* $\log \mathcal N(u; 0, 1) = -\tfrac12 u^2 - \tfrac12\log 2\pi$. Work with logarithms throughout.


# %% key="lognormal-code" tags=["task"]
def lognormal_log_prob(x: torch.Tensor) -> torch.Tensor:
    """Log-density of x = exp(u) with u ~ N(0, 1), for x > 0 of shape (N,); returns shape (N,)."""
    ### BEGIN SOLUTION
    u = torch.log(x)
    return -0.5 * u**2 - 0.5 * math.log(2 * math.pi) - torch.log(x)
    ### END SOLUTION


# %% key="lognormal-check" tags=["check"]
check("00.lognormal", lognormal_log_prob)

# %% [markdown] key="linear"
# ## Task 2: the density under an invertible linear map (3 points)
#
# Now $u \sim \mathcal N(0, I_D)$ and $x = Wu + b$ with an invertible $D \times D$ matrix $W$. The Jacobian of
# $f^{-1}(x) = W^{-1}(x - b)$ is $W^{-1}$, so
# $$\log p_X(x) = \log \mathcal N\big(W^{-1}(x - b); 0, I_D\big) - \log\lvert\det W\rvert.$$
# Write `linear_log_prob(x, W, b)` for a batch `x` of shape `(N, D)`, returning shape `(N,)`.
#
# *Hints:* `torch.linalg.solve(W, y)` computes $W^{-1}y$ for a column `y` (or for each column of a matrix)
# without forming $W^{-1}$. `torch.linalg.slogdet(W)` returns the sign and $\log\lvert\det W\rvert$. The checks
# use matrices with a negative determinant.


# %% key="linear-code" tags=["task"]
def linear_log_prob(x: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Log-density of x = W u + b with u ~ N(0, I): x of shape (N, D), W (D, D), b (D,); returns (N,)."""
    ### BEGIN SOLUTION
    u = torch.linalg.solve(W, (x - b).T).T
    log_base = -0.5 * (u**2).sum(dim=1) - 0.5 * x.shape[1] * math.log(2 * math.pi)
    return log_base - torch.linalg.slogdet(W).logabsdet
    ### END SOLUTION


# %% key="linear-check" tags=["check"]
check("00.linear", linear_log_prob)

# %% [markdown] key="prelu"
# ## Task 3: the PReLU bijector (4 points)
#
# A PReLU with slope $a > 0$ acts on each coordinate: $x_i = u_i$ if $u_i \ge 0$, and $x_i = a\,u_i$ if $u_i < 0$.
# Its Jacobian is diagonal, so
# $$\log\lvert\det J_{\text{forward}}(u)\rvert = \sum_{i:\,u_i < 0} \log a .$$
# Write the class `PReLUBijector(slope)` with the course's bijector interface:
# `forward(u)` returns `(x, logdet)` and `inverse(x)` returns `(u, logdet)`, where each `logdet` is
# $\log\lvert\det J\rvert$ of the direction called, one number per sample (shape `(N,)`). Inputs have shape `(N, D)`.
# One point each for the forward values, the inverse values, and the two log-dets.
#
# *Hints:* `torch.where(u < 0, a * u, u)`; the inverse has the same sign pattern as its input, because
# $a > 0$; its log-det is the negative of the forward log-det at the matching point.


# %% key="prelu-code" tags=["task"]
class PReLUBijector:
    """PReLU with a fixed slope a > 0 for negative inputs; forward and inverse return (values, logdet)."""

    def __init__(self, slope: float) -> None:
        self.slope = slope

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ### BEGIN SOLUTION
        negative = u < 0
        x = torch.where(negative, self.slope * u, u)
        return x, negative.sum(dim=1) * math.log(self.slope)
        ### END SOLUTION

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ### BEGIN SOLUTION
        negative = x < 0
        u = torch.where(negative, x / self.slope, x)
        return u, -negative.sum(dim=1) * math.log(self.slope)
        ### END SOLUTION


# %% key="prelu-check" tags=["check"]
check("00.prelu", PReLUBijector)

# %% [markdown] key="chain"
# ## Task 4: the log-density of a composed flow (3 points)
#
# A flow applies layers $f_1, \dots, f_K$ to noise: $x = f_K(\cdots f_1(u))$, with $u \sim \mathcal N(0, I)$.
# To evaluate the density of a data point, undo the layers one by one and add up the log-dets of the
# inverse passes:
# $$\log p(x) = \log \mathcal N(u; 0, I) + \sum_{k=1}^K \log\lvert\det J_{f_k^{-1}}\rvert .$$
# Each log-det is taken at the point its inverse step receives, which is what `inverse` returns anyway.
# Write `flow_log_prob(x, layers)`. `layers` is a list of `nfcourse` bijectors in sampling order (`layers[0]`
# is applied to the noise first); each has `inverse(x) -> (u, logdet)`. Do not use `nfcourse.flow.Flow`:
# the point is to write its `log_prob` yourself.


# %% key="chain-code" tags=["task"]
def flow_log_prob(x: torch.Tensor, layers: list) -> torch.Tensor:
    """Log-density of x (shape (N, D)) under the flow whose layers, in sampling order, are `layers`."""
    ### BEGIN SOLUTION
    logdet = torch.zeros(x.shape[0], dtype=x.dtype)
    for layer in reversed(layers):
        x, step = layer.inverse(x)
        logdet = logdet + step
    return -0.5 * (x**2).sum(dim=1) - 0.5 * x.shape[1] * math.log(2 * math.pi) + logdet
    ### END SOLUTION


# %% key="chain-check" tags=["check"]
check("00.chain", flow_log_prob)

# %% [markdown] key="points"
# ## Your points
#
# The cell below adds up the points of the self-checks you ran. They are a good guess of your grade, but
# the grader tries other inputs.
#
# To grade your sheet the way the course's grader does (fresh inputs, your code in a sandbox), save the
# notebook and run, in a terminal in the course folder with the course's environment active,
# `python -m nfcourse grade exercises/en/00_recap.ipynb` (with your sheet's path). It prints the same kind of
# report in your sheet's language, and never changes your file.

# %% key="points-code"
summary("00")
