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
# # Residual Flows

# %% [markdown] key="goals"
# Lesson 06 left the i-ResNet with two flaws. Its log-det is a truncated power series, so its training
# loss is biased and the model looks better than it is; and backpropagating through the series keeps the
# graph of every term, so memory grows with the number of terms. Residual Flows remove both: a random
# number of terms, weighted so that the estimate is unbiased, and a second series that gives the gradient
# without keeping those terms. After this lesson you can:
#
# - explain why the *Russian roulette* estimator, a series cut off at a random point with its terms
#   reweighted, is unbiased, and show it against the exact value beside the biased truncated series;
# - write the gradient of the log-det with a Neumann series for $(I + J_g)^{-1}$, compute it during the
#   forward pass, and measure the memory it saves;
# - tell a gradient surrogate from a log-density, and say what goes wrong when one is reported as the
#   other;
# - compare LipSwish with ELU, softplus and ReLU through their first and second derivatives;
# - train a Residual Flow on 2-D data and compare it with the i-ResNet and with MAF in NLL, training time
#   and sampling time, and measure how sampling cost grows with the Lipschitz coefficient.
#
# *Time: about 80 minutes.*

# %% key="setup-code"
import copy
import itertools
import math
from functools import partial

import matplotlib.pyplot as plt
import torch
from matplotlib.ticker import MaxNLocator
from torch.nn.functional import elu, relu, softplus

from nfcourse.bijectors import ResidualBlock, iresnet, maf, residual_flow, set_training_logdet
from nfcourse.datasets import load
from nfcourse.flow import Flow
from nfcourse.i18n import number, tr
from nfcourse.jacobian import jacobian
from nfcourse.plotting import compare, use_style
from nfcourse.residual import (
    LipSwish,
    exact_logdet,
    full_jacobian,
    geometric_terms,
    hutchinson_power_series_logdet,
    neumann_gradient_surrogate,
    residual_branch,
    russian_roulette_logdet,
    russian_roulette_logdet_with_neumann_gradient,
    saved_bytes,
    survival_weights,
)
from nfcourse.runtime import budget, by_mode, expect_at_least, expect_at_most, seed_everything
from nfcourse.stats import mean_and_error
from nfcourse.text import print_table
from nfcourse.timing import seconds_per_call
from nfcourse.training import cosine_schedule, evaluate_nll, evaluate_oracle, fit

generator = seed_everything(0)  # one seed for the whole notebook; pass `generator` wherever we sample
use_style()  # the course's plot style, with a font for Japanese labels
dtype = torch.float64  # sections 1 to 3 work in float64: their differences are small


# %% [markdown] key="roulette"
# ## 1. Russian roulette: an infinite series in finite time
#
# We want $S = \sum_{k \ge 1} a_k$, here with $a_k = \frac{(-1)^{k+1}}{k} \operatorname{tr}(J_g^k)$, and we
# can only afford finitely many terms. Cutting the series after $n$ terms is biased, as lesson 06
# measured. The **Russian roulette** estimator cuts it at a *random* $N$ and makes up for the missing
# terms by weighting the ones it keeps:
#
# $$\hat S = \sum_{k=1}^{N} \frac{a_k}{P(N \ge k)} .$$
#
# Term $k$ is included exactly when $N \ge k$, so its expected contribution is
# $P(N \ge k) \cdot a_k / P(N \ge k) = a_k$, and summing over $k$ gives $\mathbb E[\hat S] = S$. (Swapping
# the expectation and the infinite sum is allowed because the series converges absolutely when
# $\mathrm{Lip}(g) < 1$.) Replacing each trace by Hutchinson's $v^\top J_g^k v$ keeps the estimate unbiased.
#
# The Residual Flows paper always computes the first `exact_terms` terms, and from there on flips a coin
# after each term: with probability $p$ it stops, with $1 - p$ it goes on. So $N$ is `exact_terms` plus a
# number of extra terms with a geometric distribution. Writing $e$ for `exact_terms`: $P(N \ge k) = 1$
# for $k \le e$ and $(1 - p)^{k - e}$ beyond, and $\mathbb E[N] = e + (1 - p)/p$. The weights
# $1 / P(N \ge k)$ grow geometrically: rare long series count for a lot.
#
# Below, a residual branch in plain PyTorch, $g(x) = L\, B \tanh(A x + b)$ with random orthogonal $A$ and
# $B$, so $\mathrm{Lip}(g) \le L$ and the slope is close to $L$ near the origin. We take $L = 0.65$ (the
# reason follows below). First we check the library's weights and the distribution of $N$ against these
# formulas.


# %% key="roulette-code"
def orthogonal(dim: int) -> torch.Tensor:
    """A random orthogonal matrix (QR of a Gaussian one): it keeps every length."""
    q, _r = torch.linalg.qr(torch.randn(dim, dim, generator=generator, dtype=dtype))
    return q


lipschitz_bound = 0.65
A, B, b = orthogonal(2), orthogonal(2), 0.1 * torch.randn(2, generator=generator, dtype=dtype)


def g(x: torch.Tensor) -> torch.Tensor:
    """g(x) = L B tanh(A x + b): Lip(g) <= L, since A and B keep lengths and tanh has slope at most 1."""
    return lipschitz_bound * torch.tanh(x @ A.T + b) @ B.T


p, exact_terms = 0.5, 2
print(
    tr("weights 1 / P(N >= k) for k = 1..6 (p = {p}, exact_terms = {exact}): {weights}").format(
        p=number(p),
        exact=exact_terms,
        weights=", ".join(number(w) for w in survival_weights(6, p, exact_terms).tolist()),
    )
)
draws = budget(full=10_000, fast=2000)
term_counts = torch.tensor([geometric_terms(p, exact_terms, generator) for _draw in range(draws)], dtype=dtype)
print(
    tr(
        "number of terms N over {draws:,d} draws: smallest {low}, mean {mean:.3f}; exact_terms + (1 - p) / p = {theory:.3f}"
    ).format(draws=draws, low=int(term_counts.min()), mean=term_counts.mean().item(), theory=exact_terms + (1 - p) / p)
)
shares = [(term_counts >= k).double().mean().item() for k in range(1, 7)]
print(tr("share of draws with N >= k, k = 1..6: {shares}").format(shares=", ".join(number(s, ".3f") for s in shares)))

# %% [markdown] key="unbiased"
# Now the estimators themselves, on 256 points at once, drawn many times: Russian roulette with $p = 0.5$
# and two exact terms (3 terms on average), and the truncated series with Hutchinson traces and exactly 3
# terms, the same cost. As in the library, one draw uses one $N$ for all points and one probe vector per
# point. We average each draw over the points: that averages the probes' noise away and leaves the
# roulette's own. The solid vertical line is the exact log-det (from the full Jacobian) averaged over the
# points, the dashed lines are the means of the two estimators; the plot leaves out the outermost 1% of
# the draws.

# %% key="unbiased-code"
x_points = 0.5 * torch.randn(256, 2, generator=generator, dtype=dtype)
exact = exact_logdet(g, x_points).mean().item()
estimators = {
    tr("Russian roulette, 3 terms on average"): partial(russian_roulette_logdet, p=p, exact_terms=exact_terms),
    tr("truncated series, 3 terms"): partial(hutchinson_power_series_logdet, terms=3),
}
samples = {
    name: [estimate(g, x_points, generator=generator).mean().item() for _draw in range(draws)]
    for name, estimate in estimators.items()
}
fig, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
pooled = torch.tensor([value for values in samples.values() for value in values], dtype=dtype)
low, high = pooled.quantile(torch.tensor([0.005, 0.995], dtype=dtype)).tolist()  # the outermost 1% left out
for (name, values), color in zip(samples.items(), ("C0", "C1"), strict=True):
    ax.hist(values, bins=80, range=(low, high), histtype="step", color=color, label=name)
    ax.axvline(sum(values) / len(values), color=color, linestyle="--", linewidth=1.5)  # the estimator's mean
ax.axvline(exact, color="black", linewidth=1, label=tr("exact log-det"))
ax.set_xlabel(tr("estimate of log det(I + J_g)"))
ax.set_ylabel(tr("draws"))
ax.set_title(tr("{draws:,d} draws of each estimator, averaged over 256 points").format(draws=draws))
ax.legend()
plt.show()
z_scores = {}
for name, values in samples.items():
    mean, error = mean_and_error(values)
    z_scores[name] = (mean - exact) / error
    print(
        tr(
            "{name}: mean {mean:.4f} ± {error:.4f} (standard error), standard deviation {sd:.3f}; exact {exact:.4f}; {z} standard errors away"
        ).format(
            name=name,
            mean=mean,
            error=error,
            sd=torch.tensor(values).std().item(),
            exact=exact,
            z=number(z_scores[name], ".1f"),
        )
    )
roulette_z, truncated_z = z_scores.values()
expect_at_most(
    tr("distance of the Russian roulette mean from the exact log-det, in standard errors"), abs(roulette_z), 3.0
)
expect_at_least(
    tr("distance of the truncated series' mean from the exact log-det, in standard errors"), abs(truncated_z), 5.0
)

# %% [markdown] key="unbiased-explained"
# The roulette's mean sits on the exact value, within a few standard errors; the truncated series misses
# it by many more, and more draws would not help: that is bias, not noise. The price of unbiasedness is
# visible in the histogram: the roulette's draws spread wider, because a rare long series is multiplied by
# a large weight. The choice of $p$ trades that spread against the number of terms: a smaller $p$ means
# longer series and smaller weights. The variance is finite only when the squared terms shrink faster
# than the weights grow: the terms shrink like $\rho^k$, where $\rho \le \mathrm{Lip}(g)$ is the largest
# absolute eigenvalue of $J_g$, and the weights grow like $(1 - p)^{-k}$, so the condition is roughly
# $\rho^2 < 1 - p$. That is why we took $L = 0.65$: $\rho^2$ stays below 0.5 at every point (the cell
# below prints it), and $p = 0.5$ is safe. With $p = 0.8$ the condition fails: the spread explodes, and
# the standard error computed from the draws can no longer be trusted.

# %% key="unbiased-tradeoff"
rows = []
repeats = budget(full=2000, fast=500)
for p_value in (0.2, 0.5, 0.8):
    values = [
        russian_roulette_logdet(g, x_points, p=p_value, exact_terms=exact_terms, generator=generator).mean().item()
        for _ in range(repeats)
    ]
    mean, error = mean_and_error(values)
    rows.append(
        [
            number(p_value),
            number(exact_terms + (1 - p_value) / p_value, ".2f"),
            number(mean, ".4f"),
            number(error, ".4f"),
            number(torch.tensor(values).std().item(), ".3f"),
        ]
    )
print_table([tr("p"), tr("mean terms"), tr("mean estimate"), tr("standard error"), tr("standard deviation")], rows)
print(tr("exact log-det, averaged over the points: {exact:.4f}").format(exact=exact))
largest_rho = torch.linalg.eigvals(jacobian(g, x_points)).abs().max().item()
print(tr("largest rho^2 over the points: {rho2:.3f}").format(rho2=largest_rho**2))

# %% [markdown] key="neumann"
# ## 2. The gradient without the terms: a Neumann series
#
# Training needs the gradient of the log-det with respect to the parameters $\theta$ of $g$.
# Backpropagating through $\hat S$ works, but autograd must keep the graph of all $N$ vector-Jacobian
# products until the backward pass, so memory grows with $N$, and $N$ is random and sometimes large.
# The gradient has a formula of its own. Jacobi's formula for the derivative of a log-determinant gives
#
# $$\frac{\partial}{\partial\theta} \log\det(I + J_g)
# = \operatorname{tr}\Big((I + J_g)^{-1}\, \frac{\partial J_g}{\partial\theta}\Big),
# \qquad (I + J_g)^{-1} = \sum_{k \ge 0} (-J_g)^k ,$$
#
# the second identity being the **Neumann series**, the matrix version of $1/(1 + z) = 1 - z + z^2 - \dots$,
# convergent because every eigenvalue of $J_g$ lies inside the unit disc. Estimate the inverse with the
# same Russian roulette and one probe vector $v$:
# $w^\top = v^\top \sum_{k=0}^{N} (-J_g)^k / P(N \ge k)$, computed *without* a graph (no memory kept) and
# then held constant. The **gradient surrogate** $s = w^\top J_g v$ is one more vector-Jacobian product,
# this one with a graph, and its gradient $w^\top (\partial_\theta J_g)\, v$ has the expectation above.
# Autograd keeps $g$'s graph and that one product, whatever $N$ is.
#
# We check the claim on $g$ made trainable (its matrices as parameters): the mean of many surrogate
# gradients against autograd's gradient of the exact log-det, averaged over 64 points.


# %% key="neumann-code"
class TanhBranch(torch.nn.Module):
    """g(x) = L B tanh(A x + b) with A, B, b as parameters (B rescaled so that Lip(g) stays below 1)."""

    def __init__(self) -> None:
        super().__init__()
        self.A, self.B, self.b = (torch.nn.Parameter(t.clone()) for t in (A, B, b))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return lipschitz_bound * torch.tanh(x @ self.A.T + self.b) @ self.B.T


branch = TanhBranch()
x_batch = 0.5 * torch.randn(64, 2, generator=generator, dtype=dtype)
exact_gradient = torch.cat(
    [t.flatten() for t in torch.autograd.grad(exact_logdet(branch, x_batch).mean(), list(branch.parameters()))]
)
gradient_draws = budget(full=2000, fast=200)
surrogate_gradients = torch.stack(
    [
        torch.cat(
            [
                t.flatten()
                for t in torch.autograd.grad(
                    neumann_gradient_surrogate(branch, x_batch, generator=generator).mean(), list(branch.parameters())
                )
            ]
        )
        for _draw in range(gradient_draws)
    ]
)
mean_gradient = surrogate_gradients.mean(dim=0)
standard_errors = surrogate_gradients.std(dim=0) / math.sqrt(gradient_draws)
gradient_z = (mean_gradient - exact_gradient) / standard_errors
entry_names = [  # A[0, 0], ..., b[1]: the entries in the order of the gradient vector
    f"{name}{list(index)}"
    for name, parameter in branch.named_parameters()
    for index in itertools.product(*map(range, parameter.shape))
]
print_table(
    [tr("parameter entry"), tr("exact gradient"), tr("mean of the surrogate's gradients"), tr("standard error")],
    [
        [
            entry_names[k],
            number(exact_gradient[k].item(), ".4f"),
            number(mean_gradient[k].item(), ".4f"),
            number(standard_errors[k].item(), ".4f"),
        ]
        for k in range(len(exact_gradient))
    ],
)
print(
    tr("largest distance from the exact gradient: {z} standard errors").format(
        z=number(gradient_z.abs().max().item(), ".1f")
    )
)
expect_at_most(
    tr("largest distance of a mean surrogate gradient from the exact one, in standard errors"),
    gradient_z.abs().max().item(),
    4.0,
)

# %% [markdown] key="memory"
# Now the memory. A Residual Flow in 16 dimensions (`residual_flow`, two blocks whose branches have two
# hidden layers of 128 units, a batch of 256 points), its log-det estimated with a fixed number $n$ of terms (`p = 1` and
# `exact_terms = n`: no coin flips), and its gradient computed once by plain backprop through the series
# (`russian_roulette_logdet`) and once by the Neumann gradient
# (`russian_roulette_logdet_with_neumann_gradient`: the roulette's value, the surrogate's gradient). We count the bytes that autograd saves for the backward pass with
# `saved_bytes`, which hooks into `torch.autograd.graph.saved_tensors_hooks`. (On a GPU the same comparison
# shows in `torch.cuda.max_memory_allocated`; `python -m benchmarks.residual_memory` measures both, at a
# larger size.)


# %% key="memory-code"
def flow_with_estimator(estimator, terms: int) -> Flow:
    """A 16-D Residual Flow whose blocks estimate their training log-det with `estimator` and exactly `terms` terms."""
    torch.manual_seed(0)
    flow = Flow(residual_flow(16, blocks=2, hidden_sizes=(128, 128)), 16)
    set_training_logdet(flow, partial(estimator, p=1.0, exact_terms=terms))
    return flow.train()


methods = {
    tr("plain backprop"): russian_roulette_logdet,
    tr("Neumann gradient"): russian_roulette_logdet_with_neumann_gradient,
}
series_terms = [1, 2, 4, 8, 16, 32]
x_memory = torch.randn(256, 16, generator=generator)
megabytes = {}
for name, estimator in methods.items():
    megabytes[name] = []
    for terms in series_terms:
        flow = flow_with_estimator(estimator, terms)
        megabytes[name].append(saved_bytes(lambda flow=flow: -flow.log_prob(x_memory).mean()) / 2**20)
fig, ax = plt.subplots(figsize=(6.4, 3.4), layout="constrained")
for name, values in megabytes.items():
    ax.plot(series_terms, values, "o-", label=name)
ax.set_xlabel(tr("terms of the series n"))
ax.set_ylabel(tr("saved for backward (MB)"))
ax.set_title(tr("Memory of one training loss, 16-D Residual Flow, batch 256"))
ax.legend()
plt.show()
print_table(
    [tr("terms n"), *methods],
    [[n, *(number(megabytes[name][k], ".1f") for name in methods)] for k, n in enumerate(series_terms)],
)
plain, neumann = megabytes.values()
expect_at_least(tr("plain backprop: memory with 32 terms divided by memory with 2"), plain[-1] / plain[1], 5.0)
expect_at_most(tr("Neumann gradient: memory with 32 terms divided by memory with 2"), neumann[-1] / neumann[1], 1.1)

# %% [markdown] key="memory-explained"
# Plain backprop grows in a straight line with $n$: each term keeps its own vector-Jacobian product, and
# each of those keeps its own intermediate activations of $g$. The Neumann gradient stays flat: the $n$
# products run without a graph, and only one product with a graph remains. With the Russian roulette's
# random $N$, this also means that a rare long series cannot run out of memory in training.

# %% [markdown] key="pitfall"
# ## 3. A pitfall: the surrogate is not a log-density
#
# The surrogate's *gradient* estimates the log-det's gradient. Its *value* estimates something else:
# $\mathbb E[s] = \operatorname{tr}\big((I + J_g)^{-1} J_g\big)$. Both quantities are sums over the
# eigenvalues $\lambda$ of $J_g$: the log-det adds up $\log(1 + \lambda)$, the surrogate
# $\lambda/(1 + \lambda)$. For a real $\lambda$ the surrogate's share is never the larger one (the
# difference $\log(1 + \lambda) - \lambda/(1 + \lambda)$ is 0 at $\lambda = 0$ and grows on both sides).
# Complex eigenvalues come in conjugate pairs, and a pair contributes twice the real part of each share; in
# the red regions of the map below (around the imaginary axis, where $J_g$ mostly turns vectors, and
# towards $\lambda = -1$) the surrogate's share is the larger one. Either way
# the surrogate is not the log-det, and code that adds it to $\log p(u)$ and reports the result as a
# log-likelihood reports a wrong number.
#
# The map below shows $\operatorname{Re}\big[\log(1 + \lambda) - \lambda/(1 + \lambda)\big]$ over the
# disc $|\lambda| < 1$, with the eigenvalues of $J_g$ at 2,000 points on top; the black curves mark where the
# two shares are equal. We also check, with 200 points together, that the library's
# `neumann_gradient_surrogate` estimates $\operatorname{tr}((I + J_g)^{-1} J_g)$, and not the log-det.

# %% key="pitfall-code"
x_many = 0.7 * torch.randn(2000, 2, generator=generator, dtype=dtype)
jacobians = jacobian(g, x_many)
identity = torch.eye(2, dtype=dtype)
true_logdets = torch.linalg.slogdet(identity + jacobians).logabsdet
surrogate_means = torch.diagonal(torch.linalg.solve(identity + jacobians, jacobians), dim1=1, dim2=2).sum(dim=1)
eigenvalues = torch.linalg.eigvals(jacobians).flatten()

axis = torch.linspace(-0.99, 0.99, 400, dtype=dtype)
lam = torch.complex(axis[None, :], axis[:, None])
gap = (torch.log(1 + lam) - lam / (1 + lam)).real.masked_fill(lam.abs() >= 0.99, float("nan"))
fig, ax = plt.subplots(figsize=(5.6, 4.6), layout="constrained")
image = ax.pcolormesh(axis, axis, gap, cmap="RdBu", vmin=-0.6, vmax=0.6, shading="auto")
ax.contour(axis, axis, gap, levels=[0.0], colors="black", linewidths=1)
ax.scatter(eigenvalues.real, eigenvalues.imag, s=2, color="black", label=tr("eigenvalues of J_g at 2,000 points"))
fig.colorbar(image, ax=ax, label=tr("log-det share minus surrogate share"))
ax.set_aspect("equal")
ax.set_xlabel(tr("real part of lambda"))
ax.set_ylabel(tr("imaginary part of lambda"))
ax.set_title(tr("Blue: the surrogate understates; red: it overstates"))
ax.legend(loc="lower left", fontsize=8)
plt.show()
x_few = x_many[:200]
surrogate_draws = torch.stack(
    [neumann_gradient_surrogate(g, x_few, generator=generator).detach() for _draw in range(budget(full=2000, fast=200))]
)
per_point = surrogate_draws.mean(dim=0)  # the surrogate's mean at each of the 200 points
error = (surrogate_draws.var(dim=0) / len(surrogate_draws)).sum().sqrt().item() / len(x_few)  # of the average
distance_to_trace = (per_point - surrogate_means[:200]).mean().item() / error
distance_to_logdet = (per_point - true_logdets[:200]).mean().item() / error
differences = true_logdets - surrogate_means
print(
    tr("log-det minus surrogate over the 2,000 points: smallest {low:.3f}, largest {high:.3f} nats").format(
        low=differences.min().item(), high=differences.max().item()
    )
)
print(
    tr(
        "library's surrogate, {draws:,d} draws, averaged over 200 points: {a} standard errors from tr((I + J)^-1 J), {b} from the log-det"
    ).format(draws=len(surrogate_draws), a=number(distance_to_trace, ".1f"), b=number(distance_to_logdet, ".1f"))
)
real = torch.linspace(-0.95, 0.95, 39, dtype=dtype)
expect_at_least(
    tr("smallest log(1 + lambda) - lambda / (1 + lambda) over real lambda"),
    (torch.log1p(real) - real / (1 + real)).min().item(),
    0.0,
)
expect_at_most(
    tr("distance of the library's surrogate from tr((I + J)^-1 J), in standard errors"), abs(distance_to_trace), 4.0
)
expect_at_least(
    tr("distance of the library's surrogate from the log-det, in standard errors"), abs(distance_to_logdet), 5.0
)

# %% [markdown] key="pitfall-explained"
# The eigenvalues of this branch fall where the map is blue: at these points the surrogate understates the
# log-det, by up to the amount printed. A branch that rotated more strongly would put its eigenvalues into
# the red band near the imaginary axis, and there the surrogate would overstate the log-det, and with it
# the log-density. The
# library keeps the two apart by name: `neumann_gradient_surrogate` returns the surrogate and says so in
# its docstring, and the training estimator `russian_roulette_logdet_with_neumann_gradient` returns the
# *value* of the roulette estimate with the *gradient* of the surrogate (`estimate + (s - s.detach())`:
# the bracket is zero, but carries the gradient). In eval mode a Residual Flow uses the exact log-det in
# 2-D. Section 5 measures what the mistake does to a trained model's reported NLL.

# %% [markdown] key="lipswish"
# ## 4. LipSwish: smooth, 1-Lipschitz, and not saturating
#
# The branch must be a contraction, so its activation must have slope at most 1. The training loss holds
# the log-det, a function of the Jacobian $J_g$, and $J_g$ contains the activation's slope $f'$ at every
# pre-activation; so the part of the loss's gradient that flows through the pre-activations (into the
# weights below them, and into $x$) contains the *second* derivative $f''$. Two families fall short, in different ways:
#
# - **ReLU**: slope 0 or 1 and a second derivative of 0 everywhere (except the kink, where it does not
#   exist). That part of the log-det's gradient is zero, and the density has creases.
# - **ELU and softplus** have slopes without jumps, but where their slope approaches 1, their second
#   derivative goes to 0: softplus has $f'' = f'(1 - f')$, ELU $f'' = 0$ for $x > 0$, where its slope is
#   exactly 1. A contractive network wants
#   slopes near 1 to be expressive, and exactly there the log-det stops learning. (ELU's second derivative
#   also jumps, from 1 to 0, at the origin.)
#
# **LipSwish** is $f(x) = x\,\sigma(\beta x)/1.1$ with a learnable $\beta > 0$. Its slope is
# $h(\beta x)/1.1$ with $h(z) = \sigma(z) + z\,\sigma(z)(1 - \sigma(z))$, whose maximum is about 1.0998: so
# $|f'| < 1$ for every $\beta$, and at the steepest point the 1.1 wastes almost nothing (for large positive $x$
# the slope tends to $1/1.1 \approx 0.91$). Its second derivative is
# $\beta\, h'(\beta x)/1.1$: smooth, and, because $\beta$ multiplies it, it can be large where the slope is
# near its largest value. We plot each activation with its first and second derivatives (computed by
# autograd) and print what the bullets claim.

# %% key="lipswish-code"
grid = torch.linspace(-5, 5, 2001, dtype=dtype, requires_grad=True)
lipswish = LipSwish().double()
activations = {
    "ReLU": relu,
    "ELU": elu,
    "softplus": softplus,
    tr("LipSwish, beta = 1"): lipswish,
}
with torch.no_grad():
    lipswish_steep = LipSwish().double()
    lipswish_steep.raw_beta.fill_(math.log(math.expm1(4.0)))  # softplus^-1(4): beta = 4
activations[tr("LipSwish, beta = 4")] = lipswish_steep
curves = {}
for name, f in activations.items():
    values = f(grid)
    (first,) = torch.autograd.grad(values.sum(), grid, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), grid) if first.requires_grad else (torch.zeros_like(grid),)
    curves[name] = (values.detach(), first.detach(), second.detach())
fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), layout="constrained")
styles = [("-", 1.5), ("--", 1.5), (":", 1.5), ("-", 2.2), ("-", 2.2)]  # ReLU, ELU, softplus, the two LipSwish
for (name, (values, first, second)), (style, width) in zip(curves.items(), styles, strict=True):
    for ax, curve in zip(axes, (values, first, second), strict=True):
        ax.plot(grid.detach(), curve, style, label=name, linewidth=width)
for ax, title in zip(axes, (tr("f(x)"), tr("first derivative f'(x)"), tr("second derivative f''(x)")), strict=True):
    ax.set_title(title)
    ax.set_xlabel("x")
axes[1].axhline(1, color="black", linewidth=0.8, linestyle="--")
axes[0].set_ylim(-1.5, 5)
axes[2].legend(fontsize=8)
plt.show()
rows = []
for name, (_values, first, second) in curves.items():
    steep = first >= 0.9 * first.max()
    rows.append(
        [
            name,
            number(first.min().item(), ".3f"),
            number(first.max().item(), ".4f"),
            number(second[steep].abs().max().item(), ".3f"),
            number(second.diff().abs().max().item(), ".3f"),
        ]
    )
print_table(
    [
        tr("activation"),
        tr("smallest f'"),
        tr("largest f'"),
        tr("largest |f''| where f' >= 0.9 max f'"),
        tr("largest jump of f'' between grid points"),
    ],
    rows,
)
expect_at_most(tr("largest slope of LipSwish (beta = 4)"), curves[tr("LipSwish, beta = 4")][1].max().item(), 1.0)

# %% [markdown] key="lipswish-explained"
# The table shows the failures and the fix. ReLU's second derivative is zero on the whole grid. Softplus's
# is small wherever its slope is within a tenth of its largest value. In the fourth column ELU looks best,
# but only because of a thin strip just left of the origin, where its slope is already close to 1; at the
# origin its second derivative drops from about 1 to 0 (the last column: a jump of about 1 between two
# neighbouring grid points, 0.005 apart) and stays 0 for all $x > 0$, where the slope is exactly 1.
# LipSwish's largest slope stays below 1, its second derivative has no jump, and with $\beta = 4$ the
# curvature near its steepest points is four times that of $\beta = 1$: training can raise $\beta$ in a
# layer that needs curvature. LipSwish's slope also dips slightly below 0 (the smallest $f'$), which does
# no harm: the bound is on $|f'|$.

# %% [markdown] key="train"
# ## 5. A Residual Flow against the i-ResNet and MAF
#
# `residual_flow(dim, blocks, hidden_sizes, coefficient=0.97, activation="lipswish", p=0.5,
# exact_terms=2)` stacks residual blocks with LipSwish branches, spectral norm at most 0.97 per layer,
# and ActNorm between the blocks. In training mode each block's log-det is the Russian roulette estimate
# with the Neumann gradient; in eval mode, in 2-D, the exact log-det. We train it on the eight Gaussians
# beside lesson 06's i-ResNet (ELU, $c = 0.9$, truncated series with 5 terms) and a MAF (lesson 02), each
# with 5 blocks or layers whose networks have two hidden layers of 64 units, and the same budget, and compare the test NLL with the data's entropy, the
# time of a training step, and the time to draw 10,000 samples. This is one seed: `python -m
# benchmarks.residual` repeats the comparison over four (see the README). (In fast mode the budget is far
# too short: the pictures, the table and the measurement after them show the differences only in a full
# run, and the text below describes a full run.)

# %% key="train-code"
data = load("eight_gaussians")
oracle = evaluate_oracle(data)
train_steps = budget(full=1500, fast=150)
factories = {
    tr("Residual Flow"): lambda: residual_flow(2, blocks=5, hidden_sizes=(64, 64)),
    tr("i-ResNet"): lambda: iresnet(2, blocks=5, hidden_sizes=(64, 64), normalization="act"),
    "MAF": lambda: maf(2, 5, (64, 64)),
}
models, results = {}, {}
for name, factory in factories.items():
    torch.manual_seed(0)
    model = Flow(factory(), dim=2)
    history = fit(
        model,
        data.train,
        data.test,
        steps=train_steps,
        lr=by_mode(full=2e-3, fast=5e-3),
        schedule=cosine_schedule(train_steps),
        eval_every=500,
    )
    models[name] = model.cpu().eval()
    with torch.no_grad():
        sampling = seconds_per_call(lambda model=model: model.sample(10_000), repeats=2)
    results[name] = (evaluate_nll(model, data.test), 1e3 * history.seconds / train_steps, sampling)
print_table(
    [tr("model"), tr("test NLL minus entropy"), tr("ms per training step"), tr("seconds for 10,000 samples")],
    [
        [name, number(nll.total - oracle.total, ".3f"), number(step, ".1f"), number(sampling, ".3f")]
        for name, (nll, step, sampling) in results.items()
    ],
)
residual_gap = results[tr("Residual Flow")][0].total - oracle.total
expect_at_most(tr("Residual Flow test NLL minus the entropy (nats)"), residual_gap, 0.4)
expect_at_least(
    tr("i-ResNet test NLL minus the Residual Flow's (nats)"),
    results[tr("i-ResNet")][0].total - results[tr("Residual Flow")][0].total,
    0.2,
)
expect_at_least(
    tr("Residual Flow sampling time divided by MAF's"), results[tr("Residual Flow")][2] / results["MAF"][2], 2.0
)

# %% key="train-plot"
compare(
    models,
    data.test,
    nll={name: nll.per_dim for name, (nll, _step, _sampling) in results.items()},
    title=tr("Eight Gaussians: density (top), samples (bottom)"),
    generator=generator,
)

# %% [markdown] key="train-surrogate"
# Now the pitfall of section 3 on the trained Residual Flow. First, section 1's condition: the cell prints
# the largest $\rho^2$ of each trained block's $J_g$ over the test points. Where it exceeds
# $1 - p = 0.5$, the roulette with the training setting $p = 0.5$ has infinite variance: each estimate is
# still unbiased, and training worked (the table above), but an average over a few dozen draws is
# unreliable, and so is its standard error. For this measurement we therefore use $p = 0.1$, for which the
# condition $\rho^2 < 0.9$ holds. We compute the test NLL three ways, over 40 draws each on 2,000 test
# points, with every block using its training log-det (on a copy, and only the blocks switched to training
# mode, so that nothing else changes): with the roulette's value, with the surrogate put where the log-det
# belongs, and exactly.

# %% key="train-surrogate-code"
residual_model = models[tr("Residual Flow")]
x_test = data.test[:2000]
exact_nll = -residual_model.log_prob(x_test).mean().item()
largest_rho_squared, u = [], x_test
for layer in residual_model.bijector:  # the density direction, block by block
    if isinstance(layer, ResidualBlock):
        point, gx = residual_branch(layer.g, u)
        largest_rho_squared.append(torch.linalg.eigvals(full_jacobian(gx, point)).abs().max().item() ** 2)
    u = layer.inverse(u)[0].detach()
print(
    tr("largest rho^2 of each block over the test points: {values}").format(
        values=", ".join(number(value, ".2f") for value in largest_rho_squared)
    )
)
expect_at_most(tr("largest rho^2 of any block"), max(largest_rho_squared), 0.9)
measurement_p = 0.1


def nll_draws(estimator, draws: int = 40) -> list[float]:
    """NLL of the test points with every block's training log-det replaced by `estimator`, `draws` times."""
    view = copy.deepcopy(residual_model)  # in eval mode: power iterations and ActNorm stay fixed
    for block in set_training_logdet(view, partial(estimator, p=measurement_p, exact_terms=2, generator=generator)):
        block.training = True  # this block alone: it now uses its training log-det
    return [-view.log_prob(x_test).mean().item() for _draw in range(draws)]


rows, distances = [], {}
for name, estimator in {
    tr("training estimator (roulette value)"): russian_roulette_logdet_with_neumann_gradient,
    tr("surrogate reported as log-det"): neumann_gradient_surrogate,
}.items():
    mean, error = mean_and_error(nll_draws(estimator))
    distances[name] = (mean - exact_nll) / error
    rows.append([name, number(mean, ".4f"), number(error, ".4f"), number(distances[name], ".1f")])
rows.append([tr("exact"), number(exact_nll, ".4f"), "", ""])
print_table(
    [tr("NLL computed with"), tr("mean"), tr("standard error"), tr("distance from exact, in standard errors")], rows
)
honest, surrogate = distances.values()
expect_at_most(tr("distance of the roulette NLL from the exact one, in standard errors"), abs(honest), 3.0)
expect_at_least(tr("distance of the surrogate NLL from the exact one, in standard errors"), abs(surrogate), 5.0)

# %% [markdown] key="train-explained"
# In a full run the roulette's value agrees with the exact NLL within its standard error; the surrogate misses it by
# many standard errors, in the direction the table shows, and no amount of averaging fixes that. Unlike
# lesson 06's i-ResNet, whose training estimate was biased, a Residual Flow's training loss is an honest
# (if noisy) estimate of its NLL.
#
# The comparison table shows what that buys, and what it costs. In a full run, with the same blocks and
# budget, the Residual Flow ends far closer to the entropy than the i-ResNet: an unbiased loss, a larger Lipschitz
# coefficient and LipSwish all help. The MAF is the cheap baseline: a training step of a residual model
# is several times slower (every block needs vector-Jacobian products for its log-det), and sampling is
# slower still (every block runs its own fixed-point iteration, each iteration a pass of $g$, where a MAF
# layer in 2-D needs two passes of MADE). Over several seeds the benchmark in the README finds the
# Residual Flow as good as the best MAF on the eight Gaussians and behind it on the two moons.

# %% [markdown] key="sampling"
# ## 6. Sampling cost against the Lipschitz coefficient
#
# The fixed-point iteration of a block converges like $\mathrm{Lip}(g)^t$, and lesson 06 counted its steps
# against $L$ for a hand-made branch. For a trained Residual Flow the slope that matters is the one the
# training actually used, not the bound. Each branch has three spectrally normalized layers, so
# $\mathrm{Lip}(g) \le c^3$, and lesson 06's estimate of the iterations needed becomes
# $\log(\text{tolerance})/\log(c^3)$ (the bound in the table). We train the same model with coefficients
# $c$ from 0.5 to 0.99 on the eight Gaussians, with a shorter budget and 3 blocks, and measure for each the
# test NLL, the fixed-point iterations per block for 10,000 samples, and the sampling time. (In fast mode
# the models are barely trained and use little of their slope: the growth shows in a full run.)

# %% key="sampling-code"
coefficients = [0.5, 0.9, 0.99]
short_steps = budget(full=600, fast=60)
rows, iterations_per_block = [], []
for c in coefficients:
    torch.manual_seed(0)
    model = Flow(residual_flow(2, blocks=3, hidden_sizes=(64, 64), coefficient=c), dim=2)
    fit(
        model,
        data.train,
        steps=short_steps,
        lr=by_mode(full=3e-3, fast=5e-3),
        schedule=cosine_schedule(short_steps),
        progress=False,
    )
    model = model.cpu().eval()
    with torch.no_grad():
        seconds = seconds_per_call(lambda model=model: model.sample(10_000), repeats=2)
        blocks = [block for block in model.modules() if isinstance(block, ResidualBlock)]
        iterations = [block.last_iterations for block in blocks]
    iterations_per_block.append(iterations)
    rows.append(
        [
            number(c),
            number(evaluate_nll(model, data.test).total - oracle.total, ".3f"),
            ", ".join(str(count) for count in iterations),
            number(math.log(blocks[0].tolerance) / math.log(c**3), ".0f"),
            number(seconds, ".3f"),
        ]
    )
print_table(
    [tr("c"), tr("test NLL minus entropy"), tr("iterations per block"), tr("bound"), tr("seconds for 10,000 samples")],
    rows,
)
with torch.no_grad():
    residual_model.sample(10_000)
long_run = [block.last_iterations for block in residual_model.modules() if isinstance(block, ResidualBlock)]
print(
    tr("section 5's Residual Flow (c = 0.97, {steps:,d} steps): iterations per block {counts}").format(
        steps=train_steps, counts=", ".join(str(count) for count in long_run)
    )
)
fig, ax = plt.subplots(figsize=(6.4, 3.4), layout="constrained")
for k, (counts, marker) in enumerate(zip(zip(*iterations_per_block, strict=True), "os^", strict=False), start=1):
    ax.plot(coefficients, counts, marker=marker, markersize=9 - 2 * k, label=tr("block {k}").format(k=k))
ax.yaxis.set_major_locator(MaxNLocator(integer=True))
ax.set_xlabel(tr("Lipschitz coefficient c"))
ax.set_ylabel(tr("iterations"))
ax.legend()
ax.set_title(tr("Fixed-point iterations to sample, tolerance 1e-5"))
plt.show()
expect_at_least(
    tr("mean iterations per block at c = 0.99 divided by those at c = 0.5"),
    sum(iterations_per_block[-1]) / sum(iterations_per_block[0]),
    1.5,
)
expect_at_least(
    tr("mean iterations per block of section 5's Residual Flow minus the largest mean of the short runs"),
    sum(long_run) / len(long_run) - max(sum(counts) / len(counts) for counts in iterations_per_block),
    1.0,
)

# %% [markdown] key="sampling-explained"
# In a full run the iterations grow with $c$, in some blocks more than in others, but far more slowly than
# the bound: the trained branches use only part of the slope they are allowed. The last line shows section
# 5's Residual Flow, trained two and a half times as long (it also differs in its five blocks, $c = 0.97$
# and its learning rate): it uses more of its slope, and needs more iterations per block than any of the
# short runs. At this short budget no model fits the eight modes well (compare the NLL column with
# section 5). A coefficient that does not improve the fit only makes sampling slower.

# %% [markdown] key="summary"
# ## Summary
#
# - Russian roulette cuts the log-det's power series at a random $N$ and weights term $k$ by
#   $1/P(N \ge k)$: an unbiased estimate in finite expected time; its variance grows as $p$ grows or as
#   $\mathrm{Lip}(g)$ approaches 1.
# - The gradient of the log-det is $\operatorname{tr}((I + J_g)^{-1}\partial_\theta J_g)$; estimating the
#   inverse by a Neumann series without a graph makes memory independent of the number of terms.
# - The surrogate $w^\top J_g v$ has the right gradient and the wrong value: never report it as a
#   log-likelihood.
# - LipSwish, $x\,\sigma(\beta x)/1.1$, is 1-Lipschitz for every $\beta$, smooth, and keeps a second
#   derivative where its slope is large.
# - A Residual Flow trains on an unbiased estimate of its NLL; sampling needs a fixed-point iteration per
#   block, whose cost grows with the Lipschitz coefficient.

# %% [markdown] key="try-next"
# ## What to try next
#
# - In section 1, set `lipschitz_bound = 0.99` and `p = 0.8`. What happens to the roulette's histogram,
#   and why (compare $\mathrm{Lip}(g)^2$ with $1 - p$)?
# - Train the Residual Flow with `exact_terms=1` or `p=0.2`. How do the training time and the test NLL
#   change?
# - Train it with `activation="elu"` or `"relu"` instead of LipSwish and compare the NLL and the density
#   picture.
# - Run `python -m benchmarks.residual_memory` to see the memory at a realistic size (and on a GPU, if
#   you have one).
#
# The exercise sheet of this lesson asks you to write the Russian roulette weights, the unbiased log-det
# estimator, and LipSwish with its derivative.

# %% [markdown] key="references"
# ## References
#
# - R. T. Q. Chen, J. Behrmann, D. Duvenaud, J.-H. Jacobsen. *Residual Flows for Invertible Generative
#   Modeling.* NeurIPS 2019. [arXiv:1906.02735](https://arxiv.org/abs/1906.02735)
# - J. Behrmann, W. Grathwohl, R. T. Q. Chen, D. Duvenaud, J.-H. Jacobsen. *Invertible Residual Networks.*
#   ICML 2019. [arXiv:1811.00995](https://arxiv.org/abs/1811.00995)
# - P. Ramachandran, B. Zoph, Q. V. Le. *Searching for Activation Functions.* 2017.
#   [arXiv:1710.05941](https://arxiv.org/abs/1710.05941)
#
