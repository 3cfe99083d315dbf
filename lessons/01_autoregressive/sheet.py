# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown] key="title"
# # Exercise sheet 01: autoregressive models are normalizing flows

# %% [markdown] key="how-to"
# Four tasks, 13 points. Each task asks for one function: write it in the cell that says
# `raise NotImplementedError`, run that cell, then run the self-check below it. The self-check tries your code
# on a few inputs and tells you what is right, what is wrong, and how many points it would earn. The grader
# uses other inputs (other sizes, other values, other conditioners), so make your code right in general.
#
# All tensors are `float64` with one sample per row, shape `(N, D)`. The functions of tasks 1 and 2 take a
# **conditioner** as an argument: a function `conditioner(x)` that returns a pair `(mu, alpha)`, both of shape `(N, D)`, where
# column $i$ depends only on the columns of `x` before $i$ (the first column of `mu` and `alpha` is a constant).
# The self-check plugs in its own random conditioner, so do not assume anything else about it.

# %% key="imports"
import math

import torch

from nfcourse.checks import check, summary

# %% [markdown] key="inverse"
# ## Task 1: the density pass of an affine autoregressive layer (4 points)
#
# The layer samples by $x_i = u_i \exp(\alpha_i) + \mu_i$, where $(\mu_i, \alpha_i)$ depend on $x_{<i}$. Given
# all of $x$, every $\mu_i$ and $\alpha_i$ is known at once, so the inverse is one pass:
# $$u_i = (x_i - \mu_i)\exp(-\alpha_i), \qquad \log\lvert\det J_{f^{-1}}(x)\rvert = -\sum_{i=1}^D \alpha_i .$$
# Write `autoregressive_inverse(x, conditioner)` returning the pair `(u, logdet)`: `u` of shape `(N, D)` and
# `logdet` of shape `(N,)`. Two points for `u`, two for the log-det.


# %% key="inverse-code" tags=["task"]
def autoregressive_inverse(x: torch.Tensor, conditioner) -> tuple[torch.Tensor, torch.Tensor]:
    """Data to noise in one pass: u = (x - mu) exp(-alpha) with (mu, alpha) = conditioner(x); logdet (N,)."""
    ### BEGIN SOLUTION
    mu, alpha = conditioner(x)
    u = (x - mu) * torch.exp(-alpha)
    return u, -alpha.sum(dim=1)
    ### END SOLUTION


# %% key="inverse-check" tags=["check"]
check("01.inverse", autoregressive_inverse)

# %% [markdown] key="sample"
# ## Task 2: the sequential sampling loop (4 points)
#
# Sampling computes the other direction, from noise to data: $x_1 = u_1 \exp(\alpha_1) + \mu_1$ with
# constants, then $x_2$ from $x_1$, then $x_3$ from $x_1, x_2$, and so on. The conditioner takes a full
# `(N, D)` tensor, but column $i$ of its output depends only on the columns before $i$: pass it the $x$ you
# have built so far (zeros where nothing is known yet), and after $i$ passes the first $i$ coordinates are
# final. The log-det of sampling is $+\sum_i \alpha_i$, with the $\alpha_i$ of the finished sample.
#
# Write `autoregressive_sample(u, conditioner)` returning the pair `(x, logdet)`. Three points for `x`, one
# for the log-det.
#
# *Hint:* build a new tensor or write into a fresh `x = torch.zeros_like(u)`; do not change `u` in place.


# %% key="sample-code" tags=["task"]
def autoregressive_sample(u: torch.Tensor, conditioner) -> tuple[torch.Tensor, torch.Tensor]:
    """Noise to data by the recursion x_i = u_i exp(alpha_i) + mu_i, one coordinate per pass; logdet (N,)."""
    ### BEGIN SOLUTION
    x = torch.zeros_like(u)
    for i in range(u.shape[1]):
        mu, alpha = conditioner(x)  # columns 0..i of mu and alpha are final now
        x[:, i] = u[:, i] * torch.exp(alpha[:, i]) + mu[:, i]
    return x, alpha.sum(dim=1)  # the last pass saw every coordinate that any alpha_i depends on
    ### END SOLUTION


# %% key="sample-check" tags=["check"]
check("01.sample", autoregressive_sample)

# %% [markdown] key="gaussian"
# ## Task 3: the log-density of a Gaussian autoregressive model (3 points)
#
# By the chain rule, $p(x) = \prod_i p(x_i \mid x_{<i})$. Take each conditional Gaussian,
# $p(x_i \mid x_{<i}) = \mathcal N\big(x_i;\, \mu_i, e^{2\alpha_i}\big)$, with mean $\mu_i$ and standard deviation
# $e^{\alpha_i}$ computed from $x_{<i}$. Here the model is given one coordinate at a time, like the naive model
# of the lecture: `conditional(i, previous)` returns `(mu_i, alpha_i)`, each of shape `(N,)`, from
# `previous` $= x_{<i}$ of shape `(N, i)` (coordinates count from 0, so coordinate 0 gets an `(N, 0)` tensor).
# Write `gaussian_autoregressive_log_prob(x, conditional)` that returns $\log p(x)$ of shape `(N,)`:
# $$\log p(x) = \sum_{i} \Big( -\tfrac12 z_i^2 - \alpha_i - \tfrac12 \log 2\pi \Big),
# \qquad z_i = (x_i - \mu_i)\,e^{-\alpha_i}.$$
# Compare with task 1: it is $\log\mathcal N(u; 0, I)$ plus the log-det of the inverse map, $-\sum_i \alpha_i$.


# %% key="gaussian-code" tags=["task"]
def gaussian_autoregressive_log_prob(x: torch.Tensor, conditional) -> torch.Tensor:
    """log p(x) = sum_i log N(x_i; mu_i, exp(2 alpha_i)), (mu_i, alpha_i) = conditional(i, x[:, :i]); shape (N,)."""
    ### BEGIN SOLUTION
    log_p = torch.zeros(x.shape[0], dtype=x.dtype)
    for i in range(x.shape[1]):
        mu, alpha = conditional(i, x[:, :i])
        z = (x[:, i] - mu) * torch.exp(-alpha)
        log_p = log_p - 0.5 * z**2 - alpha - 0.5 * math.log(2 * math.pi)
    return log_p
    ### END SOLUTION


# %% key="gaussian-check" tags=["check"]
check("01.gaussian", gaussian_autoregressive_log_prob)

# %% [markdown] key="count"
# ## Task 4: the size of the naive model (2 points)
#
# The lecture's `NaiveConditioner(dim, hidden)` has one network per coordinate. Network $k$ ($k = 0, \dots,
# D-1$) takes the $k$ coordinates before it as input, or a single constant when $k = 0$, and has the layers
# inputs $\to$ `hidden` $\to$ `hidden` $\to 2$ (the outputs are $\mu_k$ and $\alpha_k$). Each linear layer
# from $a$ to $b$ units has a weight matrix and a bias: $(a + 1)\,b$ parameters. Write
# `naive_parameter_count(dim, hidden)` returning the total number of parameters as an `int`, without
# building the model.


# %% key="count-code" tags=["task"]
def naive_parameter_count(dim: int, hidden: int) -> int:
    """Parameters of D networks max(k, 1) -> hidden -> hidden -> 2, for k = 0, ..., D - 1."""
    ### BEGIN SOLUTION
    total = 0
    for k in range(dim):
        inputs = max(k, 1)
        total += (inputs + 1) * hidden + (hidden + 1) * hidden + (hidden + 1) * 2
    return total
    ### END SOLUTION


# %% key="count-check" tags=["check"]
check("01.count", naive_parameter_count)

# %% [markdown] key="points"
# ## Your points
#
# The cell below adds up the points of the self-checks you ran. They are a rough guide to your final
# points, but keep in mind that the grader also tries other inputs.
#
# To grade your sheet the way the course's grader does (fresh inputs, your code in a sandbox), save the
# notebook and run, in a terminal in the course folder with the course's environment active,
# `python -m nfcourse grade exercises/en/01_autoregressive.ipynb` (with your sheet's path). It prints the same
# kind of report in your sheet's language, and never changes your file.

# %% key="points-code"
summary("01")
