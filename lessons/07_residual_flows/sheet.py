# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown] key="title"
# # Exercise sheet 07: Residual Flows

# %% [markdown] key="how-to"
# Three tasks, 11 points. Each task asks for one function: write it in the cell that says
# `raise NotImplementedError`, run that cell, then run the self-check below it. The self-check hands your
# code random inputs and tells you what is right, what is wrong, and how many points it would earn. The
# grader uses other inputs and sizes, so make your code right in general.
#
# Task 2 returns a random estimate, so its self-check calls your function well over a thousand times and
# judges the results statistically: an unbiased estimator passes, a biased one fails, and where the check
# recognises the mistake behind the bias, it names it. (A correct solution fails by chance about once in a
# million gradings.) All tensors here are `float64`.

# %% key="imports"
import torch

from nfcourse.checks import check, summary

# %% [markdown] key="weights"
# ## Task 1: the Russian roulette weights (3 points)
#
# The estimator computes the first `exact_terms` terms of the series always, and after each further term
# goes on with probability $1 - p$ (stops with probability $p$). So the number of terms $N$ satisfies
# $P(N \ge k) = 1$ for $k \le e$ and $P(N \ge k) = (1 - p)^{k - e}$ beyond, where $e$ = `exact_terms`.
# Write `roulette_weights(n, p, exact_terms)` that returns the weights $1 / P(N \ge k)$ for
# $k = 1, \dots, n$ as a `float64` tensor of shape `(n,)`. One point for `exact_terms = 1`, two for
# several exact terms.
#
# *Hint:* with $p = 0.5$ and two exact terms the weights are 1, 1, 2, 4, 8, ...


# %% key="weights-code" tags=["task"]
def roulette_weights(n: int, p: float, exact_terms: int) -> torch.Tensor:
    """1 / P(N >= k) for k = 1..n, shape (n,): 1 up to exact_terms, then (1 - p)^-(k - exact_terms)."""
    ### BEGIN SOLUTION
    k = torch.arange(1, n + 1, dtype=torch.float64)
    extra = torch.clamp(k - exact_terms, min=0)
    return (1 - p) ** -extra
    ### END SOLUTION


# %% key="weights-check" tags=["check"]
check("07.weights", roulette_weights)

# %% [markdown] key="roulette"
# ## Task 2: the unbiased log-det estimator (5 points)
#
# Write `roulette_logdet(g, x, p, exact_terms, generator)` that returns, for every row of `x` (one value per
# point, shape `(len(x),)`), the Russian roulette estimate
# $$\sum_{k=1}^{N} \frac{(-1)^{k+1}}{k}\, \frac{v^\top J_g(x)^k\, v}{P(N \ge k)}$$
# of $\log\det(I + J_g(x))$. Draw everything random with `generator`:
#
# 1. the number of terms, one $N$ for all points together: start at $N$ = `exact_terms`, and while
#    `torch.rand((), generator=generator)` is below $1 - p$, add one;
# 2. one probe vector per point: `v = torch.randn(x.shape, generator=generator, dtype=x.dtype)`;
# 3. the series as in sheet 06 (one vector-Jacobian product per term, for all points at once: `g` maps
#    `(points, D)` to `(points, D)`, and the products need a copy of `x` that requires gradients,
#    `x.detach().requires_grad_(True)`), each term multiplied by its weight $1 / P(N \ge k)$.
#
# Three points if the mean of many calls matches the exact log-det, one if the number of terms has the
# right law (the check counts your vector-Jacobian products, so take exactly one per term), one if the same
# generator state gives the same estimate.
#
# *Hint:* your `roulette_weights` gives the weights, but the grader judges each task on its own, so
# compute them inside this function too (for example `(1 - p) ** -max(0, k - exact_terms)`).


# %% key="roulette-code" tags=["task"]
def roulette_logdet(g, x: torch.Tensor, p: float, exact_terms: int, generator: torch.Generator) -> torch.Tensor:
    """Russian roulette estimate of log det(I + J_g(x)) for every row of x, shape (len(x),)."""
    ### BEGIN SOLUTION
    terms = exact_terms
    while torch.rand((), generator=generator) < 1 - p:
        terms += 1
    v = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    x = x.detach().requires_grad_(True)
    gx = g(x)
    w, total = v, torch.zeros(x.shape[0], dtype=x.dtype)
    for k in range(1, terms + 1):
        (w,) = torch.autograd.grad(gx, x, w, retain_graph=True)
        weight = (1 - p) ** -max(0, k - exact_terms)
        total = total + (-1) ** (k + 1) * weight * (w * v).sum(dim=1) / k
    return total
    ### END SOLUTION


# %% key="roulette-check" tags=["check"]
check("07.roulette", roulette_logdet)

# %% [markdown] key="lipswish"
# ## Task 3: LipSwish and its slope (3 points)
#
# LipSwish is $f(x) = x\,\sigma(\beta x) / 1.1$. Derive its derivative $f'(x)$ (product rule and chain
# rule; $\sigma'(z) = \sigma(z)(1 - \sigma(z))$) and write `lipswish(x, beta)` that returns the pair
# `(values, slopes)`: $f(x)$ and $f'(x)$ for every entry of `x`, both of the shape of `x`. Compute the
# slopes from your formula, not with autograd. One point for the values, two for the slopes.
#
# *Hint:* with $z = \beta x$, the slope of $x\,\sigma(\beta x)$ can be written with $z$ and $\sigma(z)$ alone.
# Check your slopes against `torch.autograd.grad` on a few points, and check that none exceeds 1.


# %% key="lipswish-code" tags=["task"]
def lipswish(x: torch.Tensor, beta: float):
    """(x sigma(beta x) / 1.1, its derivative in x), both of x's shape."""
    ### BEGIN SOLUTION
    z = beta * x
    s = torch.sigmoid(z)
    return x * s / 1.1, (s + z * s * (1 - s)) / 1.1
    ### END SOLUTION


# %% key="lipswish-check" tags=["check"]
check("07.lipswish", lipswish)

# %% [markdown] key="points"
# ## Your points
#
# The cell below adds up the points of the self-checks you ran. They are a rough guide to your final
# points, but keep in mind that the grader also tries other inputs.
#
# To grade your sheet the way the course's grader does (fresh inputs, your code in a sandbox), save the
# notebook and run, in a terminal in the course folder with the course's environment active,
# `python -m nfcourse grade exercises/en/07_residual_flows.ipynb` (with your sheet's path). It prints the
# same kind of report in your sheet's language, and never changes your file.

# %% key="points-code"
summary("07")
