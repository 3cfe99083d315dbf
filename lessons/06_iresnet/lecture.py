# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown] key="title"
# # Invertible ResNets (i-ResNet)

# %% [markdown] key="goals"
# Every flow so far was built so that its Jacobian is triangular: that made the log-det a sum and the
# inverse a formula. A residual network, the workhorse of deep learning, has neither. This lesson shows
# that it can be a flow all the same, as long as each residual branch is a contraction: the inverse is then
# a fixed-point iteration, and the log-det a power series that we estimate with random vectors. After this
# lesson you can:
#
# - invert a residual block $u = x + g(x)$ by the fixed-point iteration $x \leftarrow u - g(x)$, say why it
#   converges when $g$ is a contraction (Banach's fixed-point theorem), and predict how fast: the error
#   shrinks like $\mathrm{Lip}(g)^t$;
# - make a network contractive with 1-Lipschitz activations and spectral normalization, estimating each
#   spectral norm by power iteration;
# - write $\log\det(I + J_g)$ as a power series, and measure the bias of truncating it and the variance of
#   Hutchinson's trace estimator;
# - read a residual block as one Euler step of an ordinary differential equation;
# - train an i-ResNet on 2-D data and compare its NLL with the data's entropy.
#
# *Time: about 75 minutes.*

# %% key="setup-code"
import copy
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch

from nfcourse.bijectors import ResidualBlock, iresnet
from nfcourse.datasets import load
from nfcourse.flow import Flow
from nfcourse.i18n import number, tr
from nfcourse.jacobian import brute_force_logdet, jacobian
from nfcourse.plotting import compare, use_style
from nfcourse.residual import (
    SpectralNormLinear,
    exact_logdet,
    fixed_point_inverse,
    hutchinson_power_series_logdet,
    lipschitz_mlp,
    truncated_power_series_logdet,
)
from nfcourse.runtime import budget, by_mode, expect_at_least, expect_at_most, seed_everything
from nfcourse.stats import mean_and_error
from nfcourse.text import print_table
from nfcourse.training import cosine_schedule, evaluate_nll, evaluate_oracle, fit

generator = seed_everything(0)  # one seed for the whole notebook; pass `generator` wherever we sample
use_style()  # the course's plot style, with a font for Japanese labels
dtype = torch.float64  # the demonstrations of sections 1 to 4 work in float64, to see errors far below 1e-8

# %% [markdown] key="block"
# ## 1. A residual block and its inverse
#
# A residual network adds a correction to its input, layer after layer: $x \mapsto x + g(x)$, where the
# *residual branch* $g$ is a small network. Read as a flow in the density direction (data → noise), one
# block is
#
# $$u = x + g(x),$$
#
# an explicit map: one pass of $g$. The sampling direction has to solve this equation for $x$ given $u$,
# and there is no formula for that. But the equation can be read as $x = u - g(x)$: the point we look for
# is a **fixed point** of the map $T(x) = u - g(x)$. Suppose $g$ is a *contraction*: there is an $L < 1$
# with $|g(a) - g(b)| \le L\,|a - b|$ for all $a, b$ (the smallest such $L$ is the Lipschitz constant
# $\mathrm{Lip}(g)$). Then $T$ is a contraction with the same $L$, and Banach's fixed-point theorem says:
# $T$ has exactly one fixed point $x^\ast$, and the iteration $x_{t+1} = u - g(x_t)$ converges to it from any
# start, with
#
# $$|x_t - x^\ast| \le L^t\, |x_0 - x^\ast| .$$
#
# The contraction property $|g(a) - g(b)| \le L\,|a - b|$ also shows that the block is one-to-one: if $x + g(x) = y + g(y)$, then
# $|x - y| = |g(x) - g(y)| \le L |x - y|$, which only $x = y$ satisfies. So a residual block with a
# contractive branch is invertible, and its inverse costs as many passes of $g$ as the iteration needs.
#
# Here is a contraction in one line of plain PyTorch: $g(x) = L\, Q \tanh(x)$, with $\tanh$ taken
# coordinate by coordinate and $Q$ a rotation. A rotation does not change lengths, and $\tanh$ has slope
# at most 1 (exactly 1 at 0), so $\mathrm{Lip}(g) = L$, with the full slope $L$ near the origin. We
# invert the block for 500 points near the origin and watch the error of every iterate against $L^t$
# times the first error.


# %% key="block-code"
angle = torch.tensor(2.0, dtype=dtype)
rotation = torch.stack([torch.stack([angle.cos(), -angle.sin()]), torch.stack([angle.sin(), angle.cos()])])


def contraction(lipschitz: float):
    """g(x) = L * Q tanh(x), Q a rotation: Lip(g) = L, the slope at the origin."""
    return lambda x: lipschitz * torch.tanh(x) @ rotation.T


def iterates(g, u: torch.Tensor, steps: int) -> list[torch.Tensor]:
    """x_0 = u and x_{t+1} = u - g(x_t): all iterates of the fixed-point iteration."""
    xs = [u]
    for _step in range(steps):
        xs.append(u - g(xs[-1]))
    return xs


u_points = 0.5 * torch.randn(500, 2, generator=generator, dtype=dtype)
steps = 60
fig, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
bound_held = True
for lipschitz, color in ((0.5, "C0"), (0.8, "C1"), (0.95, "C2")):
    g = contraction(lipschitz)
    x_star = iterates(g, u_points, 2000)[-1]  # far beyond round-off: the fixed point itself
    errors = torch.stack([(x - x_star).norm(dim=1) for x in iterates(g, u_points, steps)])  # (steps + 1, 500)
    bound_held &= bool((errors <= lipschitz ** torch.arange(steps + 1)[:, None] * errors[0] + 1e-14).all())
    ax.semilogy(errors.max(dim=1).values, color=color, label=tr("largest error, L = {L}").format(L=number(lipschitz)))
    ax.semilogy(lipschitz ** torch.arange(steps + 1) * errors[0].max(), "--", color=color, linewidth=1)
    residual = (x_star + g(x_star) - u_points).abs().max().item()
    print(tr("L = {L}: largest |x* + g(x*) - u| = {residual:.1e}").format(L=number(lipschitz), residual=residual))
ax.set_ylim(1e-16, 10)
ax.set_xlabel(tr("iteration t"))
ax.set_ylabel(tr("|x_t - x*|"))
ax.set_title(tr("Fixed-point iteration: errors (solid) and L^t times the first error (dashed)"))
ax.legend()
plt.show()
print(tr("every error stayed below L^t times its first error: {held}").format(held=bound_held))

# %% [markdown] key="block-explained"
# Each solid line falls at least as fast as its dashed line $L^t$, as the theorem promises (the cell checked
# every point at every step, not only the largest error), until it reaches float64's round-off near
# $10^{-16}$. Here the two run almost in parallel, because the slope of this $g$ near the solution is
# close to its bound $L$; for a branch whose slope stays below its bound, the iteration is faster than
# the bound. The lesson to take away: the closer the slope is to 1, the more iterations sampling needs.

# %% [markdown] key="slider"
# ## 2. How many iterations, as $L \to 1$?
#
# To reach an error $\varepsilon$ from a first error $e_0$ the bound asks for $L^t e_0 \le \varepsilon$,
# that is $t \ge \log(\varepsilon / e_0) / \log L$; near $L = 1$, $\log L \approx -(1 - L)$, so the number of
# iterations grows like $1/(1 - L)$. The library's `fixed_point_inverse(g, u, tolerance, max_iterations)`
# iterates until no coordinate moves by more than the tolerance, and returns the point with the number of
# iterations it took. If the cap is reached first it raises `FixedPointError`, with the last change and the
# count: a sampler that silently returns an unconverged point would hand out wrong samples.
#
# Move the slider and watch the count grow. (Without a live Python kernel, for example on the course
# website, the slider does nothing; the plot below it shows the whole curve.)

# %% key="slider-code"
tolerance = 1e-10


def iterations_needed(lipschitz: float) -> int:
    """How many fixed-point iterations the block with Lip(g) <= L needs for the 500 points, at `tolerance`."""
    _x, count = fixed_point_inverse(contraction(lipschitz), u_points, tolerance=tolerance, max_iterations=100_000)
    return count


def show_iterations(lipschitz: float) -> None:
    count = iterations_needed(lipschitz)
    estimate = math.log(tolerance) / math.log(lipschitz)
    print(
        tr(
            "L = {L}: {count} iterations to reach a change below {tol:.0e} (log(tolerance) / log(L) = {estimate})"
        ).format(L=number(lipschitz, ".3f"), count=count, tol=tolerance, estimate=number(estimate, ".0f"))
    )


widgets.interact(
    show_iterations,
    lipschitz=widgets.FloatSlider(value=0.9, min=0.5, max=0.995, step=0.005, readout_format=".3f", description="L"),
)
# %% key="slider-curve"
lipschitz_values = [0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995]
counts = [iterations_needed(lipschitz) for lipschitz in lipschitz_values]
fig, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
gaps = [1 - lipschitz for lipschitz in lipschitz_values]
ax.loglog(gaps, counts, "o-", label=tr("iterations needed"))
ax.loglog(
    gaps,
    [math.log(tolerance) / math.log(lipschitz) for lipschitz in lipschitz_values],
    "--",
    label=tr("log(tolerance) / log(L)"),
)
ax.set_xlabel(tr("1 - L"))
ax.set_ylabel(tr("iterations"))
ax.set_title(tr("Sampling cost of one block as L approaches 1"))
ax.legend()
plt.show()
print_table(
    [tr("L"), tr("iterations")],
    [[number(lipschitz), count] for lipschitz, count in zip(lipschitz_values, counts, strict=True)],
)
expect_at_least(tr("iterations at L = 0.99 divided by iterations at L = 0.9"), counts[-2] / counts[3], 5.0)

# %% [markdown] key="slider-explained"
# On log-log axes the counts lie on a line of slope about $-1$: halving $1 - L$ doubles the work of
# sampling. The dashed estimate takes the first error to be 1 (here it is smaller) and the slope to be
# $L$ everywhere, so it overestimates a little; the shape is
# what matters. This is the price an i-ResNet pays: a Lipschitz constant close to 1 makes each block more
# expressive, and sampling slower.

# %% [markdown] key="spectral"
# ## 3. Making $g$ a contraction: spectral normalization
#
# A network $g = W_K \circ \phi \circ \dots \circ \phi \circ W_1$ is a chain of linear layers and
# activations, and along a chain the Lipschitz constant is at most the product of those of its links: $\mathrm{Lip}(g) \le \prod_k
# \mathrm{Lip}(W_k)\cdot\mathrm{Lip}(\phi)^{K-1}$. The activations we use have slope at most 1 (ReLU, ELU,
# $\tanh$, softplus), so $\mathrm{Lip}(\phi) \le 1$. A linear layer $x \mapsto Wx + b$ stretches the
# difference of two inputs by at most a factor of its largest singular value, the **spectral norm** $\sigma(W) = \max_{|v| = 1} |Wv|$. So if
# every layer has $\sigma(W_k) \le c$ with a coefficient $c < 1$, then $\mathrm{Lip}(g) \le c^K < 1$.
#
# Computing $\sigma(W)$ exactly needs a singular value decomposition at every training step. **Power
# iteration** is much cheaper: start from a random unit vector $v$ and repeat
#
# $$u \leftarrow \frac{W v}{|W v|}, \qquad v \leftarrow \frac{W^\top u}{|W^\top u|}, \qquad
# \hat\sigma = u^\top W v .$$
#
# Each step is two matrix-vector products, and $v$ turns towards the direction that $W$ stretches most
# (the right singular vector of the largest singular value). **Spectral normalization** then divides $W$ by $\hat\sigma / c$, but
# only when $\hat\sigma > c$: a layer that already stretches less than $c$ is left alone. Below: power
# iteration from scratch on a random $64 \times 64$ matrix, its error against the exact
# `torch.linalg.matrix_norm(W, ord=2)`, and the normalized matrix.


# %% key="spectral-code"
def power_iteration_estimates(weight: torch.Tensor, v: torch.Tensor, steps: int) -> list[float]:
    """sigma_hat = u^T W v after each of `steps` power-iteration steps, starting from v."""
    estimates = []
    for _step in range(steps):
        u = weight @ v
        u = u / u.norm()
        v = weight.T @ u
        v = v / v.norm()
        estimates.append((u @ weight @ v).item())
    return estimates


def rescale(weight: torch.Tensor, sigma_hat: float, c: float) -> torch.Tensor:
    """W / max(1, sigma_hat / c): rescaled only when the estimate exceeds c."""
    return weight / max(1.0, sigma_hat / c)


matrix = torch.randn(64, 64, generator=generator, dtype=dtype) / 4
exact_sigma = torch.linalg.matrix_norm(matrix, ord=2).item()
estimates = power_iteration_estimates(matrix, torch.randn(64, generator=generator, dtype=dtype), 200)
relative_errors = [abs(sigma_hat - exact_sigma) / exact_sigma for sigma_hat in estimates]
fig, ax = plt.subplots(figsize=(6.4, 3.4), layout="constrained")
ax.semilogy(range(1, 201), relative_errors)
ax.set_xlabel(tr("power-iteration steps"))
ax.set_ylabel(tr("relative error of the estimate"))
ax.set_title(tr("Power iteration on a random 64 x 64 matrix"))
plt.show()
c = 0.9
normalized = rescale(matrix, estimates[-1], c)
singular_values = torch.linalg.svdvals(matrix)
print(
    tr("exact spectral norm {exact:.4f}; estimate after 1, 10, 200 steps: {one:.4f}, {ten:.4f}, {many:.4f}").format(
        exact=exact_sigma, one=estimates[0], ten=estimates[9], many=estimates[-1]
    )
)
print(
    tr("ratio of the two largest singular values: {ratio:.3f}").format(
        ratio=(singular_values[1] / singular_values[0]).item()
    )
)
print(
    tr("spectral norm after normalizing with c = {c}: {sigma:.6f}").format(
        c=number(c), sigma=torch.linalg.matrix_norm(normalized, ord=2).item()
    )
)
small = matrix / (2 * exact_sigma)  # spectral norm 0.5, below c
print(
    tr("a matrix with spectral norm 0.5 is left unchanged: {same}").format(
        same=torch.equal(rescale(small, 0.5, c), small)
    )
)

# %% [markdown] key="spectral-explained"
# The estimate approaches $\sigma(W)$ from below, and how fast depends on the ratio of the two largest
# singular values: the closer it is to 1, the slower. A random square matrix has two close singular values
# (the cell printed their ratio), so it takes dozens of steps. Training hides this cost: the weights move only a little per step, so the
# library keeps $u$ and $v$ from one step to the next (*persistent* power-iteration vectors) and does one
# step per training step; the estimate stays close to converged at the price of two matrix-vector
# products.
#
# The library's layer is `nfcourse.residual.SpectralNormLinear(in_features, out_features, coefficient)`, a
# linear layer whose weight is normalized as above; in training mode each call does one power-iteration
# step, in eval mode the vectors stay fixed (so the map is fixed, which inverting it requires), and
# `converge()` runs the iteration to a tolerance. `lipschitz_mlp(dim, hidden_sizes, coefficient,
# activation)` chains such layers with a 1-Lipschitz activation between them. We check the promise
# directly: after normalization every weight has spectral norm $c$ (we made them far larger first), and
# the largest spectral norm of the network's Jacobian at 2,000 random points stays below the bound
# $c^3 \approx 0.73$ for three such layers, and far below it: the bound is reached only where each layer
# stretches most in exactly the direction the previous layer sent it, which rarely happens.

# %% key="spectral-library"
g_net = lipschitz_mlp(2, (64, 64), coefficient=0.9, activation="elu").double()
with torch.no_grad():  # large random weights, far from contractive before normalization
    for layer in g_net.modules():
        if isinstance(layer, SpectralNormLinear):
            layer.weight.mul_(5.0)
            layer.converge(tolerance=1e-12)
g_net.eval()
points = 3 * torch.randn(2000, 2, generator=generator, dtype=dtype)
layer_norms = [
    torch.linalg.matrix_norm(layer.normalized_weight(), ord=2).item()
    for layer in g_net.modules()
    if isinstance(layer, SpectralNormLinear)
]
print(
    tr("spectral norms of the normalized weights: {norms}").format(
        norms="; ".join(number(norm, ".6f") for norm in layer_norms)
    )
)
largest = torch.linalg.matrix_norm(jacobian(g_net, points), ord=2).max().item()
print(
    tr("largest spectral norm of the Jacobian of g over 2,000 points: {largest:.4f} (c^3 = 0.729)").format(
        largest=largest
    )
)
expect_at_most(tr("largest spectral norm of the Jacobian of g"), largest, 0.9**3 + 1e-9)

# %% [markdown] key="logdet"
# ## 4. The log-det as a power series
#
# For the density we need $\log|\det J_u(x)|$ with $J_u = I + J_g(x)$, a full $D \times D$ matrix. Since
# $|J_g| \le \mathrm{Lip}(g) < 1$, every eigenvalue of $I + J_g$ lies within distance 1 of 1, so the
# determinant is positive and we can drop the absolute value. Two facts turn it into something we can
# estimate. First, $\log\det A = \operatorname{tr}\log A$ (take the logarithm of each eigenvalue and add).
# Second, the series of $\log(1 + z)$ holds for matrices whose norm is below 1:
#
# $$\log\det(I + J_g) = \operatorname{tr}\log(I + J_g) = \sum_{k=1}^{\infty} \frac{(-1)^{k+1}}{k}\,
# \operatorname{tr}\big(J_g^k\big).$$
#
# Truncating after $n$ terms leaves an error of at most $\sum_{k>n} D\,L^k/k$, because
# $|\operatorname{tr}(J_g^k)| \le D\,|J_g|^k \le D\,L^k$: the bias shrinks geometrically, slowly when $L$
# is close to 1. In 2-D we can compute the exact value, `exact_logdet(g, x)` (the full Jacobian from
# $D$ backward passes), and watch the bias of the truncated series fall with the number of terms. We take
# the contraction of section 1 with $L = 0.9$, whose slope near the origin is close to its bound, so that
# the bias is large enough to see.

# %% key="logdet-code"
lipschitz_bound = 0.9
g = contraction(lipschitz_bound)
x_points = 0.5 * torch.randn(500, 2, generator=generator, dtype=dtype)
exact = exact_logdet(g, x_points).detach()
brute = brute_force_logdet(lambda x: x + g(x), x_points)
print(tr("largest |exact_logdet - brute force|: {err:.1e}").format(err=(exact - brute).abs().max().item()))


def truncated_series(jacobians: torch.Tensor, terms: int) -> torch.Tensor:
    """sum_{k=1}^{terms} (-1)^(k+1) tr(J^k) / k for each point, from the full Jacobians (N, D, D)."""
    total, power = torch.zeros(len(jacobians), dtype=dtype), torch.eye(jacobians.shape[1], dtype=dtype)
    for k in range(1, terms + 1):
        power = power @ jacobians
        total = total + (-1) ** (k + 1) * torch.diagonal(power, dim1=1, dim2=2).sum(dim=1) / k
    return total


jacobians_g = jacobian(g, x_points)
term_counts = list(range(1, 21))
biases = [(truncated_series(jacobians_g, n) - exact).abs().max().item() for n in term_counts]
bounds = [sum(2 * lipschitz_bound**k / k for k in range(n + 1, 400)) for n in term_counts]
fig, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
ax.semilogy(term_counts, biases, "o-", label=tr("largest |truncated series - exact|"))
ax.semilogy(term_counts, bounds, "--", label=tr("bound: sum over k > n of D L^k / k"))
ax.set_xlabel(tr("terms n"))
ax.set_ylabel(tr("bias (nats)"))
ax.set_title(tr("Truncating the log-det series, D = 2, L = 0.9"))
ax.legend()
plt.show()
library = truncated_power_series_logdet(g, x_points, terms=5).detach()
print(
    tr("library's truncated series (5 terms) against ours: largest difference {err:.1e}").format(
        err=(library - truncated_series(jacobians_g, 5)).abs().max().item()
    )
)
print_table(
    [tr("terms n"), tr("largest bias"), tr("bound")],
    [[n, number(biases[n - 1], ".1e"), number(bounds[n - 1], ".1e")] for n in (1, 2, 5, 10, 20)],
)

# %% [markdown] key="logdet-explained"
# The bias stays below its bound for every number of terms, and the bound falls geometrically. The bias
# itself need not fall at every step: this $g$ rotates, so the eigenvalues of $J_g$ are complex, and the
# terms $\operatorname{tr}(J_g^k)$ change sign irregularly as $k$ grows. Five terms, what the library's
# `iresnet` trains with by default, leave a bias of a few hundredths of a nat per block here.

# %% [markdown] key="hutchinson"
# The trace of $J_g^k$ still needs the full Jacobian, $D$ backward passes, which is what we want to avoid
# in high dimensions. **Hutchinson's estimator** replaces a trace by a random projection: for a random
# vector $v$ with $\mathbb E[v v^\top] = I$ (for example standard normal),
#
# $$\operatorname{tr}(A) = \operatorname{tr}\big(A\, \mathbb E[v v^\top]\big) = \mathbb E\big[v^\top A v\big].$$
#
# And for any vector $w$, the row $w^\top J_g$ needs no Jacobian at all: it is one vector-Jacobian
# product, one backward pass through $g$, whatever $D$ is. Here is the first term from scratch, $v^\top J_g v$ as an estimate of
# $\operatorname{tr}(J_g)$: one backward pass per probe.
#
# Repeating the product gives $v^\top J_g^k$ after $k$ passes, so one probe vector estimates the whole
# truncated series without bias (the exercise sheet asks you to write it):
#
# $$\widehat{\log\det} = \sum_{k=1}^{n} \frac{(-1)^{k+1}}{k}\, v^\top J_g^k\, v .$$
#
# The library's `hutchinson_power_series_logdet(g, x, terms, probes)` does this, averaged over `probes`
# vectors. Its price is variance: averaging over $m$ probe vectors divides the variance by $m$, the
# standard deviation by $\sqrt m$. We check both claims: the mean over many draws against the exact
# truncated series, and the spread against $m$.


# %% key="hutchinson-code"
def trace_estimate(g, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """v^T J_g(x) v for every point (one probe v per point): an unbiased estimate of tr J_g(x)."""
    x = x.detach().requires_grad_(True)
    (w,) = torch.autograd.grad(g(x), x, v)  # w^T = v^T J_g, one backward pass
    return (w * v).sum(dim=1).detach()


draws = budget(full=2000, fast=400)
traces = torch.stack(
    [trace_estimate(g, x_points, torch.randn(x_points.shape, generator=generator, dtype=dtype)) for _ in range(draws)]
)
exact_traces = torch.diagonal(jacobians_g, dim1=1, dim2=2).sum(dim=1)
z_scores = (traces.mean(dim=0) - exact_traces) / (traces.std(dim=0) / math.sqrt(draws))  # per point
print(
    tr(
        "trace of J_g, {draws} probes per point: the mean lies within 3 standard errors of the exact trace at {share} of the points"
    ).format(draws=draws, share=number((z_scores.abs() < 3).double().mean().item(), ".1%"))
)

terms = 5
target = truncated_series(jacobians_g, terms)
series = torch.stack(
    [
        hutchinson_power_series_logdet(g, x_points, terms=terms, probes=1, generator=generator).detach()
        for _ in range(draws)
    ]
)
z_scores = (series.mean(dim=0) - target) / (series.std(dim=0) / math.sqrt(draws))
print(
    tr(
        "series with {terms} terms, {draws} draws per point: the mean lies within 3 standard errors of the exact truncated series at {share} of the points"
    ).format(terms=terms, draws=draws, share=number((z_scores.abs() < 3).double().mean().item(), ".1%"))
)
expect_at_least(
    tr("share of points whose mean estimate lies within 3 standard errors"),
    (z_scores.abs() < 3).double().mean().item(),
    0.97,
)

probe_counts = [1, 2, 4, 8, 16, 32]
repeats = budget(full=300, fast=60)
spreads = []
for m in probe_counts:
    repeated = torch.stack(
        [
            hutchinson_power_series_logdet(g, x_points[:100], terms=terms, probes=m, generator=generator).detach()
            for _ in range(repeats)
        ]
    )
    spreads.append(repeated.std(dim=0).mean().item())
fig, ax = plt.subplots(figsize=(6.4, 3.4), layout="constrained")
ax.loglog(probe_counts, spreads, "o-", label=tr("standard deviation of the estimate"))
ax.loglog(probe_counts, [spreads[0] / math.sqrt(m) for m in probe_counts], "--", label=tr("1 / sqrt(m)"))
ax.set_xlabel(tr("probe vectors m"))
ax.set_ylabel(tr("standard deviation (nats)"))
ax.set_title(tr("Hutchinson's estimator: spread against the number of probes"))
ax.legend()
plt.show()
slope = math.log(spreads[-1] / spreads[0]) / math.log(probe_counts[-1] / probe_counts[0])
print(tr("fitted slope on log-log axes: {slope:.2f} (theory: -0.5)").format(slope=slope))
expect_at_most(tr("distance of the fitted slope from -0.5"), abs(slope + 0.5), 0.1)

# %% [markdown] key="hutchinson-explained"
# The mean over many draws sits on the exact truncated series (Hutchinson is unbiased for each term), and
# the spread falls like $1/\sqrt m$. So an i-ResNet's log-det estimate has two errors of different kinds:
# the **bias** of truncation, which more terms reduce and averaging does not, and the **variance** of the
# random probes, which averaging reduces and more terms do not. Lesson 07 removes the bias.

# %% [markdown] key="euler"
# ## 5. A residual block is one Euler step
#
# Write the branch as $g(x) = h\, f(x)$ with a step size $h$ and a vector field $f$. Then a stack of
# residual blocks, $x_{k+1} = x_k + h\, f(x_k)$, is exactly Euler's method for the differential equation
# $\mathrm d x / \mathrm d t = f(x)$: each block moves the points a small step along the field. Two things
# follow. With many small steps the stack approaches a smooth flow, and Euler's error falls like $h$, that
# is like $1/n$ for $n$ blocks over a fixed time. And the branch of a small step is automatically a contraction:
# $\mathrm{Lip}(h f) = h\,\mathrm{Lip}(f) < 1$ as soon as $h < 1/\mathrm{Lip}(f)$. Below, $n$ blocks with
# the rotation field $f(x) = (-x_2, x_1)$ over the time $\pi/2$, whose exact flow turns every point by a
# quarter circle. Lesson 10 makes the step infinitely small: continuous-time flows.


# %% key="euler-code"
def rotation_field(x: torch.Tensor) -> torch.Tensor:
    return torch.stack([-x[:, 1], x[:, 0]], dim=1)


start = torch.tensor([[1.0, 0.0]], dtype=dtype)
rows, errors = [], []
for n in (4, 8, 16, 32, 64, 128):
    h, x = (math.pi / 2) / n, start
    for _block in range(n):
        x = x + h * rotation_field(x)  # one residual block with g = h f
    error = (x - torch.tensor([[0.0, 1.0]], dtype=dtype)).norm().item()
    errors.append(error)
    rows.append(
        [n, number(h, ".4f"), number(error, ".4f"), number(errors[-2] / error, ".2f") if len(errors) > 1 else ""]
    )
print_table(
    [tr("blocks n"), tr("step h"), tr("distance from the exact end point"), tr("halving h divides it by")], rows
)
expect_at_least(tr("error ratio when doubling the number of blocks from 64 to 128"), errors[-2] / errors[-1], 1.9)

# %% [markdown] key="train"
# ## 6. Training an i-ResNet
#
# Now the whole model. `iresnet(dim, blocks, hidden_sizes, coefficient, activation, terms)` stacks
# `ResidualBlock`s, each with a spectrally normalized branch `lipschitz_mlp(...)`. In training mode a
# block's log-det is the Hutchinson estimate of the truncated series (here 5 terms, one probe vector): a
# stochastic, slightly biased estimate whose gradient autograd computes by backpropagating through all
# the vector-Jacobian products. In eval mode, in 2-D, the block uses `exact_logdet`, so the test NLL we
# report is exact. Sampling runs the fixed-point iteration block by block, last block first. Between the
# blocks we put ActNorm (lesson 05, `normalization="act"`), as the i-ResNet paper does.
#
# We train on the two moons and compare the test NLL with the oracle, the data's own entropy. (In fast
# mode, four blocks and 250 steps only begin to split the moons: the pictures need a full run.)

# %% key="train-code"
moons = load("moons")
torch.manual_seed(0)
model = Flow(
    iresnet(
        2,
        blocks=budget(full=8, fast=4),
        hidden_sizes=(64, 64),
        coefficient=0.9,
        activation="elu",
        terms=5,
        normalization="act",
    ),
    dim=2,
)
train_steps = budget(full=2500, fast=250)
history = fit(
    model,
    moons.train,
    moons.test,
    steps=train_steps,
    lr=by_mode(full=3e-3, fast=5e-3),
    schedule=cosine_schedule(train_steps),
    eval_every=500,
)
model = model.cpu().eval()
oracle = evaluate_oracle(moons)
nll = evaluate_nll(model, moons.test)
print(tr("i-ResNet test NLL {nll}; oracle {oracle}").format(nll=nll, oracle=oracle))
print(tr("training took {seconds:.0f} s").format(seconds=history.seconds))
expect_at_most(tr("i-ResNet test NLL minus the entropy (nats)"), nll.total - oracle.total, 0.4)

# %% key="train-plot"
compare(
    {tr("i-ResNet"): model},
    moons.test,
    nll={tr("i-ResNet"): nll.per_dim},
    title=tr("i-ResNet on two moons: density (top), samples (bottom)"),
    generator=generator,
)

# %% key="train-costs"
x_test = moons.test[:2000]
with torch.no_grad():
    model.bijector.forward(torch.randn(2000, 2, generator=generator))
    counts = [block.last_iterations for block in model.bijector if isinstance(block, ResidualBlock)]
    exact_nll = -model.log_prob(x_test).mean().item()
    training_view = copy.deepcopy(model).train()  # a copy, so that the model's power iterations stay as they are
    estimates = [-training_view.log_prob(x_test).mean().item() for _draw in range(20)]
    u, largest_logdet = x_test, -math.inf
    for layer in reversed(list(model.bijector)):  # the density direction, block by block
        u, logdet = layer.inverse(u)
        if isinstance(layer, ResidualBlock):
            largest_logdet = max(largest_logdet, logdet.max().item())
estimate_mean, estimate_error = mean_and_error(estimates)
bound = 2 * math.log(1 + 0.9**3)
print(
    tr("fixed-point iterations per block to draw 2,000 samples: {counts}").format(
        counts=", ".join(str(count) for count in counts)
    )
)
print(
    tr("NLL with the training estimator (5 terms, 20 draws): {mean:.4f} ± {error:.4f}; exact: {exact:.4f}").format(
        mean=estimate_mean, error=estimate_error, exact=exact_nll
    )
)
print(
    tr("largest log-det of one block on the test points: {largest:.3f}; bound D log(1 + c^3): {bound:.3f}").format(
        largest=largest_logdet, bound=bound
    )
)
expect_at_most(tr("largest log-det of one block minus its bound"), largest_logdet - bound, 0.0)
expect_at_least(
    tr("exact NLL minus the training estimate, in standard errors of the estimate"),
    (exact_nll - estimate_mean) / estimate_error,
    3.0,
)

# %% [markdown] key="train-explained"
# The i-ResNet learns the moons, but with this budget it stays further from the oracle than the MAF of
# lesson 02. Part of the reason is built in: each branch $g$ has three layers of spectral norm at most
# $c$, so $\mathrm{Lip}(g) \le c^3$, every eigenvalue of $I + J_g$ lies within $c^3$ of 1, and one block
# can raise the log-density by at most $D \log(1 + c^3)$ (printed above, beside the largest it reached). Sharp edges, where the
# density changes by orders of magnitude over a short distance, need many blocks. Two costs are visible
# too. Sampling: every block needs its own fixed-point iteration, dozens of passes of $g$ per block in a
# full run (the first line above), where a coupling layer needs one. And the training loss is an
# estimate: compare the two NLLs above. In a full run the 5-term series makes the model look better than
# it is, by far more than the spread of the estimate: that is the truncation bias, summed over the blocks,
# and it grows as the Lipschitz constant approaches 1. Lesson 07 replaces the truncated series by an unbiased estimator, Russian roulette, and
# makes its gradient cheap in memory.

# %% [markdown] key="summary"
# ## Summary
#
# - A residual block $u = x + g(x)$ is invertible when $g$ is a contraction; its inverse is computed by
#   the fixed-point iteration $x \leftarrow u - g(x)$, whose error shrinks like $\mathrm{Lip}(g)^t$, so the
#   cost grows like $1/(1 - \mathrm{Lip}(g))$.
# - Spectral normalization makes $g$ contractive: each weight is divided by $\hat\sigma / c$ when its
#   power-iteration estimate $\hat\sigma$ exceeds $c$, and the activations have slope at most 1.
# - $\log\det(I + J_g) = \sum_k (-1)^{k+1}\operatorname{tr}(J_g^k)/k$; truncating it is biased, and
#   Hutchinson's $v^\top J_g^k v$ estimates each trace without the Jacobian, with a variance that falls
#   like $1/m$ in the number $m$ of probe vectors.
# - A residual block is one Euler step $x + h\,f(x)$ of a differential equation.
# - An i-ResNet trains by maximum likelihood with the estimated log-det and, in 2-D, reports its exact NLL.

# %% [markdown] key="try-next"
# ## What to try next
#
# - Train with `coefficient=0.97` or `0.7`. How do the test NLL and the iterations per block change?
# - Train with `terms=1` or `terms=2`: how far does the training estimate drift from the exact NLL?
# - In section 3, give the matrix a large gap between its two largest singular values (for example
#   `matrix[0] *= 5`). How many power-iteration steps does the estimate need now?
# - Replace ELU by ReLU in `lipschitz_mlp`. The density has creases: why? (Lesson 07 looks at the
#   derivatives of activations.)
#
# The exercise sheet of this lesson asks you to write power iteration with spectral normalization, the
# fixed-point inverse, and the Hutchinson estimate of the log-det series.

# %% [markdown] key="references"
# ## References
#
# - J. Behrmann, W. Grathwohl, R. T. Q. Chen, D. Duvenaud, J.-H. Jacobsen. *Invertible Residual Networks.*
#   ICML 2019. [arXiv:1811.00995](https://arxiv.org/abs/1811.00995)
# - K. He, X. Zhang, S. Ren, J. Sun. *Deep Residual Learning for Image Recognition.* CVPR 2016.
#   [arXiv:1512.03385](https://arxiv.org/abs/1512.03385)
# - T. Miyato, T. Kataoka, M. Koyama, Y. Yoshida. *Spectral Normalization for Generative Adversarial
#   Networks.* ICLR 2018. [arXiv:1802.05957](https://arxiv.org/abs/1802.05957)
# - M. F. Hutchinson. *A stochastic estimator of the trace of the influence matrix for Laplacian smoothing
#   splines.* Communications in Statistics – Simulation and Computation 18(3), 1989.
# - R. T. Q. Chen, Y. Rubanova, J. Bettencourt, D. Duvenaud. *Neural Ordinary Differential Equations.*
#   NeurIPS 2018. [arXiv:1806.07366](https://arxiv.org/abs/1806.07366)
