# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown] key="title"
# # Exercise sheet 06: invertible ResNets

# %% [markdown] key="how-to"
# Three tasks, 11 points. Each task asks for one function: write it in the cell that says
# `raise NotImplementedError`, run that cell, then run the self-check below it. The self-check draws random
# matrices, points and networks, hands them to your code, and tells you what is right, what is wrong, and
# how many points it would earn. The grader uses other inputs and sizes, so make your code right in general.
#
# All tensors here are `float64`. Shapes: points `(N, D)`, one value per point `(N,)`. The residual branch
# `g` that tasks 2 and 3 hand you is a function from `(N, D)` to `(N, D)` with Lipschitz constant below 1.

# %% key="imports"
import torch

from nfcourse.checks import check, summary

# %% [markdown] key="power"
# ## Task 1: spectral normalization by power iteration (4 points)
#
# Write `spectral_normalize(weight, v, steps, c)`. Starting from the given unit vector `v` (shape
# `(in_features,)`), do `steps` steps of power iteration on the matrix `weight` (shape
# `(out_features, in_features)`):
# $$u \leftarrow \frac{W v}{|W v|}, \qquad v \leftarrow \frac{W^\top u}{|W^\top u|},$$
# then take the estimate $\hat\sigma = u^\top W v$ with the last $u$ and $v$. Return the pair
# `(sigma_hat, normalized)`: the estimate as a tensor with one entry, and the matrix divided by
# $\max(1, \hat\sigma / c)$, so that it is rescaled only when the estimate exceeds $c$. One point each: the
# estimate after one step, the estimate after many steps (the spectral norm itself), a matrix rescaled to
# spectral norm $c$, a matrix below $c$ left as it is.
#
# *Hint:* `torch.linalg.vector_norm(u)` is $|u|$. Check your estimate against
# `torch.linalg.matrix_norm(weight, ord=2)`.


# %% key="power-code" tags=["task"]
def spectral_normalize(weight: torch.Tensor, v: torch.Tensor, steps: int, c: float):
    """(sigma_hat, weight / max(1, sigma_hat / c)) after `steps` power-iteration steps from v."""
    ### BEGIN SOLUTION
    for _step in range(steps):
        u = weight @ v
        u = u / torch.linalg.vector_norm(u)
        v = weight.T @ u
        v = v / torch.linalg.vector_norm(v)
    sigma_hat = u @ weight @ v
    return sigma_hat.reshape(1), weight / torch.clamp(sigma_hat / c, min=1.0)
    ### END SOLUTION


# %% key="power-check" tags=["check"]
check("06.power", spectral_normalize)

# %% [markdown] key="fixed-point"
# ## Task 2: the fixed-point inverse (3 points)
#
# A residual block maps data to noise by $u = x + g(x)$. Write `invert_residual_block(g, u, tolerance,
# max_iterations)` that finds $x$ from $u$ by the iteration $x \leftarrow u - g(x)$, starting at $x = u$. Stop
# as soon as no entry of $x$ changes by more than `tolerance` in one iteration, and return $x$, shape
# `(N, D)`. If `max_iterations` iterations pass without that happening, do not return: raise an error
# (for example `RuntimeError`) whose message says that the iteration did not converge. Two points for the
# solution, one for the error.
#
# *Hint:* `(x_new - x).abs().max()` is the largest change of one iteration.


# %% key="fixed-point-code" tags=["task"]
def invert_residual_block(g, u: torch.Tensor, tolerance: float, max_iterations: int) -> torch.Tensor:
    """x with x + g(x) = u, by x <- u - g(x) from x = u; an error if max_iterations pass without converging."""
    ### BEGIN SOLUTION
    x = u
    for _iteration in range(max_iterations):
        x_new = u - g(x)
        if (x_new - x).abs().max() <= tolerance:
            return x_new
        x = x_new
    raise RuntimeError(f"the fixed-point iteration did not converge in {max_iterations} iterations")
    ### END SOLUTION


# %% key="fixed-point-check" tags=["check"]
check("06.fixed_point", invert_residual_block)

# %% [markdown] key="hutchinson"
# ## Task 3: the Hutchinson estimate of the log-det series (4 points)
#
# The log-det of a residual block is $\log\det(I + J_g) = \sum_{k \ge 1} (-1)^{k+1}\operatorname{tr}(J_g^k)/k$.
# With a probe vector $v$ per point, the truncated Hutchinson estimate is
# $$\sum_{k=1}^{n} \frac{(-1)^{k+1}}{k}\, v^\top J_g(x)^k\, v .$$
# Write `hutchinson_logdet(g, x, v, terms)` that returns it for every point, shape `(N,)`, with `v` of shape
# `(N, D)` (row $i$ is the probe of point $i$) and $n$ = `terms`. Do not build the Jacobian: compute
# $w^\top \leftarrow w^\top J_g$ with one vector-Jacobian product,
# `torch.autograd.grad(gx, x, w, retain_graph=True)`, where `gx = g(x)` for an `x` that requires gradients.
# One point for a single term ($v^\top J_g v$), three for the series with several terms.
#
# *Hint:* start with $w = v$; after $k$ products, $w^\top = v^\top J_g^k$, and `(w * v).sum(dim=1)` is the
# $k$-th projection for every point at once.


# %% key="hutchinson-code" tags=["task"]
def hutchinson_logdet(g, x: torch.Tensor, v: torch.Tensor, terms: int) -> torch.Tensor:
    """sum_{k=1}^{terms} (-1)^(k+1) v^T J_g(x)^k v / k for every point, shape (N,)."""
    ### BEGIN SOLUTION
    x = x.detach().requires_grad_(True)
    gx = g(x)
    w, total = v, torch.zeros(x.shape[0], dtype=x.dtype)
    for k in range(1, terms + 1):
        (w,) = torch.autograd.grad(gx, x, w, retain_graph=True)
        total = total + (-1) ** (k + 1) * (w * v).sum(dim=1) / k
    return total
    ### END SOLUTION


# %% key="hutchinson-check" tags=["check"]
check("06.hutchinson", hutchinson_logdet)

# %% [markdown] key="points"
# ## Your points
#
# The cell below adds up the points of the self-checks you ran. They are a rough guide to your final
# points, but keep in mind that the grader also tries other inputs.
#
# To grade your sheet the way the course's grader does (fresh inputs, your code in a sandbox), save the
# notebook and run, in a terminal in the course folder with the course's environment active,
# `python -m nfcourse grade exercises/en/06_iresnet.ipynb` (with your sheet's path). It prints the
# same kind of report in your sheet's language, and never changes your file.

# %% key="points-code"
summary("06")
