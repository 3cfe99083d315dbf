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
# # Recap: change of variables, and why simple flows are not enough

# %% [markdown] key="goals"
# A normalizing flow turns simple noise into data with an invertible map, and it knows the density of
# what it produces. This lesson collects everything the rest of the course builds on. After it you can:
#
# - derive the density of $x = f(u)$ in one dimension and check it against a histogram;
# - read $|\det J|$ as the factor by which a map changes small areas, and say why flows work with
#   $\log|\det J|$;
# - write a bijector with `forward`, `inverse` and both log-determinants, and test it against a
#   brute-force Jacobian from autograd;
# - explain why the log-dets of stacked bijectors add up, and confirm it numerically;
# - load the course's six 2-D data sets and read their oracle NLL, the best score any model can hope for;
# - train a small flow of affine layers and PReLUs on two moons, and explain, with pictures and numbers,
#   why it does not get far.
#
# *Time: about 75 minutes.*

# %% key="setup-code"
import math

import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown
from torch import nn

from nfcourse.bijectors import AffineLU, Compose, ElementwiseAffine, PReLU
from nfcourse.datasets import DATASET_NAMES, load
from nfcourse.flow import Flow
from nfcourse.i18n import number, tr
from nfcourse.jacobian import brute_force_logdet
from nfcourse.plotting import compare, plot_deformation, plot_density, plot_samples, plot_training_curves
from nfcourse.runtime import budget, expect_at_most, seed_everything
from nfcourse.text import print_rows
from nfcourse.training import NLL, cosine_schedule, evaluate_nll, evaluate_oracle, fit

generator = seed_everything(0)  # one seed for the whole notebook; pass `generator` wherever we sample


# %% [markdown] key="one-d-derivation"
# ## 1. Change of variables in one dimension
#
# Draw $u$ from a density $p_U$ and push it through a map $f$ that is differentiable and strictly
# increasing, so that it has an inverse. What is the density $p_X$ of $x = f(u)$?
#
# Because $f$ keeps the order of points, "$x$ is at most $t$" and "$u$ is at most $f^{-1}(t)$" are the
# same event. Their probabilities agree:
#
# $$P(X \le t) = P\big(U \le f^{-1}(t)\big).$$
#
# Differentiating both sides in $t$ (chain rule on the right) gives a density. If $f$ is decreasing
# instead, the inequality flips and a minus sign appears, which the absolute value absorbs. Either way:
#
# $$p_X(x) = p_U\big(f^{-1}(x)\big)\,\left|\frac{d f^{-1}}{dx}(x)\right|.$$
#
# The first factor asks "where did $x$ come from?", the second "how much was the neighbourhood
# stretched or squeezed on the way?". An interval of width $dx$ around $x$ holds the same probability as
# the interval of width $|df^{-1}/dx|\,dx$ around $u$ that it came from.
#
# Our example is the squashing map $x = \tanh(u)$ with $u \sim \mathcal{N}(0, 1)$. It sends the whole
# real line into $(-1, 1)$. Its inverse and the inverse's slope are
#
# $$f^{-1}(x) = \operatorname{artanh}(x), \qquad \frac{d f^{-1}}{dx} = \frac{1}{1 - x^2},$$
#
# so the formula above becomes
#
# $$p_X(x) = \frac{1}{\sqrt{2\pi}} \exp\!\Big(-\tfrac12 \operatorname{artanh}(x)^2\Big)\, \frac{1}{1 - x^2}.$$


# %% key="tanh-code"
def standard_normal_density(u: torch.Tensor) -> torch.Tensor:
    return torch.exp(-0.5 * u**2) / math.sqrt(2 * math.pi)


def tanh_density(x: torch.Tensor) -> torch.Tensor:
    """p_X(x) for x = tanh(u), u ~ N(0, 1): p_U(artanh x) * |d artanh(x) / dx|."""
    return standard_normal_density(torch.atanh(x)) / (1 - x**2)


u = torch.randn(200_000, generator=generator)
x = torch.tanh(u)

# %% [markdown] key="tanh-predict"
# **Predict before you run.** The noise $u$ has a single peak, at 0, and $\tanh$ is increasing and
# sends 0 to 0. Sketch on paper what the histogram of $x = \tanh(u)$ will look like. Where is it highest?

# %% key="tanh-plot"
grid = torch.linspace(-0.999, 0.999, 2001)
fig, ax = plt.subplots(figsize=(6, 3.4), layout="constrained")
ax.hist(x.numpy(), bins=120, density=True, color="C0", alpha=0.45, label=tr("histogram of the samples"))
ax.plot(grid.numpy(), tanh_density(grid).numpy(), color="C3", label=tr("change-of-variables formula"))
ax.set_xlabel("$x = \\tanh(u)$")
ax.set_ylabel(tr("density"))
ax.set_title(tr("A one-peaked Gaussian, squashed by tanh"))
ax.legend(loc="upper center")
plt.show()

# %% [markdown] key="tanh-explained"
# Most people draw one bump at 0. The samples and the formula agree on something else: two peaks close
# to $\pm 1$ and a dip in the middle. The factor $1/(1 - x^2)$ explains it. Near $\pm 1$ the curve
# $\tanh$ is almost flat, so a long stretch of $u$ values is squeezed into a thin sliver of $x$ values,
# and their probability piles up there. Near 0 the slope is 1 and nothing is squeezed.
#
# So a change of variables does not just move probability around: the volume factor reshapes it. Note
# also that the dip does not reach zero. We will come back to both facts at the end of the lesson.
# The cell below reads the peaks off the formula and checks that the formula integrates to 1.

# %% key="tanh-numbers"
density_on_grid = tanh_density(grid)
peak = grid[density_on_grid.argmax()].abs().item()
print(tr("peaks of the density at x = ±{peak:.3f}").format(peak=peak))
print(tr("density at x = 0 (the dip): {value:.3f}").format(value=tanh_density(torch.zeros(1)).item()))
print(tr("area under the formula on the grid: {area:.4f}").format(area=torch.trapezoid(density_on_grid, grid).item()))

# %% [markdown] key="n-d-formula"
# ## 2. More dimensions: the Jacobian determinant measures area
#
# In $D$ dimensions the slope $df^{-1}/dx$ becomes the Jacobian matrix $J_{f^{-1}}(x)$, the $D \times D$
# matrix of partial derivatives $\partial u_i / \partial x_j$, and its absolute determinant takes the
# place of the absolute slope:
#
# $$
# p_X(x) = p_U\big(f^{-1}(x)\big)\, \big|\det J_{f^{-1}}(x)\big|
# = \frac{p_U(u)}{\big|\det J_f(u)\big|}, \qquad u = f^{-1}(x).
# $$
#
# Why a determinant? Near a point $u$, the map $f$ acts like its linearisation
# $f(u + \delta) \approx f(u) + J_f(u)\,\delta$. A tiny square with sides $\varepsilon e_1$ and
# $\varepsilon e_2$ is carried to a tiny parallelogram with sides $\varepsilon J_f e_1$ and
# $\varepsilon J_f e_2$, whose area is $|\det J_f(u)|\,\varepsilon^2$. The probability inside stays the
# same, so the density is divided by the factor by which the area grew.
#
# Two maps of the plane to look at. A linear map $x = A u$ has the same Jacobian $A$ everywhere, so it
# scales every area by the same factor $|\det A|$. The nonlinear map
#
# $$x_1 = u_1, \qquad x_2 = u_2\, e^{u_1 / 2} + \tfrac12 u_1^2$$
#
# bends the plane and stretches vertically, more so the further right a point sits. Its Jacobian is
# triangular, $J_f = \begin{pmatrix} 1 & 0 \\ \ast & e^{u_1/2} \end{pmatrix}$ (the entry $\ast$ below the
# diagonal does not change the determinant), so
# $\det J_f = e^{u_1/2}$ and $\log|\det J_f| = u_1 / 2$. It is invertible:
# $u_1 = x_1$, $u_2 = (x_2 - \tfrac12 x_1^2)\, e^{-x_1/2}$.

# %% key="maps-code"
A = torch.tensor([[1.5, 0.5], [-0.4, 1.2]])


def linear_map(u: torch.Tensor) -> torch.Tensor:
    return u @ A.T.to(u.dtype)  # (batch, 2)


def bend(u: torch.Tensor) -> torch.Tensor:
    u1, u2 = u[:, 0], u[:, 1]
    return torch.stack([u1, u2 * torch.exp(u1 / 2) + u1**2 / 2], dim=1)  # (batch, 2)


print(tr("det A = {det:.3f}").format(det=torch.linalg.det(A).item()))


# %% key="grid-helper"
def draw_mapped_grid(ax, fn, title, half=1.5, cells=6):
    """The lines of a square grid over [-half, half]^2 after `fn`, with two of its cells filled."""
    along = torch.linspace(-half, half, 200)
    for level in torch.linspace(-half, half, cells + 1):
        for line in (torch.stack([level.expand(200), along], dim=1), torch.stack([along, level.expand(200)], dim=1)):
            image = fn(line)
            ax.plot(image[:, 0], image[:, 1], color="0.65", linewidth=0.7)
    side = 2 * half / cells
    t = torch.linspace(0, side, 50)
    zeros, sides = torch.zeros(50), torch.full((50,), side)
    outline = torch.cat(
        [  # the boundary of a cell with its corner at 0, counter-clockwise: (200, 2)
            torch.stack([t, zeros], 1),
            torch.stack([sides, t], 1),
            torch.stack([t.flip(0), sides], 1),
            torch.stack([zeros, t.flip(0)], 1),
        ]
    )
    for corner, color in ((torch.tensor([-half, 0.0]), "C0"), (torch.tensor([half - side, 0.0]), "C1")):
        image = fn(outline + corner)
        jacobian = torch.func.jacrev(lambda p: fn(p[None])[0])(corner + side / 2)  # at the cell's centre
        factor = torch.linalg.det(jacobian).abs().item()
        ax.fill(image[:, 0], image[:, 1], color=color, alpha=0.7, label=tr("area × {factor:.2f}").format(factor=factor))
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2)


# %% [markdown] key="grid-predict"
# **Predict before you run.** The next picture maps a square grid of cells and two highlighted cells,
# one on the left and one on the right. Under the bending map, which of the two highlighted cells ends
# up larger?

# %% key="grid-plot"
fig, axes = plt.subplots(1, 3, figsize=(12, 4.6), layout="constrained")
draw_mapped_grid(axes[0], lambda u: u, tr("noise space: a square grid"))
draw_mapped_grid(axes[1], linear_map, tr("linear map x = A u"))
draw_mapped_grid(axes[2], bend, tr("nonlinear map (bend)"))
for ax, space in zip(axes, "uxx", strict=True):
    ax.set_xlabel(f"${space}_1$")
    ax.set_ylabel(f"${space}_2$")
plt.show()

# %% [markdown] key="grid-explained"
# The linear map turns every cell into the same parallelogram: one area factor, $|\det A|$, for the
# whole plane. The bending map squeezes cells on the left and blows them up on the right; its area
# factor $e^{u_1/2}$ changes from point to point. A flow that starts from a Gaussian uses exactly this
# freedom: where it stretches, density thins out; where it squeezes, density piles up.

# %% [markdown] key="area-check-formula"
# Let us check the area claim with numbers. Take a small square of side $\varepsilon$ with its corner at
# a point $u$, map its four corners, and measure the area of the resulting quadrilateral with the
# shoelace formula,
#
# $$\text{area} = \tfrac12 \Big|\sum_{k} \big(x^{(k)}_1 x^{(k+1)}_2 - x^{(k+1)}_1 x^{(k)}_2\big)\Big|,$$
#
# then compare $\text{area} / \varepsilon^2$ with $|\det J_f(u)|$ from autograd's Jacobian
# (`torch.func.jacrev`, in float64) and with our formula $\log|\det J_f| = u_1/2$ for the bending map.


# %% key="area-check-code"
def shoelace_area(corners: torch.Tensor) -> torch.Tensor:
    """Area of the polygon with the given corners, in order: (K, 2) -> scalar."""
    x1, x2 = corners[:, 0], corners[:, 1]
    return 0.5 * (x1 * x2.roll(-1) - x1.roll(-1) * x2).sum().abs()


def jacobian_at(fn, point: torch.Tensor) -> torch.Tensor:
    """The (D, D) Jacobian of a batched map `fn` at one point, from autograd."""
    return torch.func.jacrev(lambda p: fn(p[None])[0])(point)


eps = 1e-4
unit_square = torch.tensor([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]], dtype=torch.float64)
points = torch.tensor([[-1.2, 0.3], [0.0, 0.0], [1.1, -0.7]], dtype=torch.float64)
for name, fn in ((tr("linear map"), linear_map), (tr("bend"), bend)):
    for point in points:
        area_ratio = shoelace_area(fn(point + eps * unit_square)) / eps**2
        logabsdet = torch.linalg.slogdet(jacobian_at(fn, point)).logabsdet.item()
        line = tr("{name}, u = {u}: area ratio {ratio:.4f}, |det J| {det:.4f}, log|det J| {logdet:.4f}")
        print(
            line.format(name=name, u=point.tolist(), ratio=area_ratio.item(), det=math.exp(logabsdet), logdet=logabsdet)
        )
print(tr("the formula u_1 / 2 for the bend gives:"), [round(p[0].item() / 2, 4) for p in points])

# %% [markdown] key="why-logs"
# **Why logarithms?** A deep flow multiplies many area factors, one per layer, and then multiplies by a
# small Gaussian density. Such products quickly over- or underflow in floating point. In logs, products
# become sums, and the log-density of a flow reads
#
# $$\log p_X(x) = \log p_U(u) + \log\big|\det J_{f^{-1}}(x)\big| = \log p_U(u) - \log\big|\det J_f(u)\big|.$$
#
# Maximum likelihood training minimises the negative of this, averaged over the data: the
# negative log-likelihood (NLL).

# %% [markdown] key="contract"
# ## 3. The bijector interface
#
# Everything in this course is built from *bijectors*: invertible maps that also report their
# log-determinant. The directions are named after what they are used for.
#
# - `forward(u) -> (x, logdet)`: noise to data, used for **sampling**; `logdet` is
#   $\log|\det \partial x / \partial u|$.
# - `inverse(x) -> (u, logdet)`: data to noise, used for **density evaluation**; `logdet` is
#   $\log|\det \partial u / \partial x|$.
#
# Points come in batches of shape `(batch, D)`; each `logdet` has shape `(batch,)`, one number per point.
# At matching points the two log-dets are negatives of each other. A flow's log-density is then one line:
# `u, logdet = bijector.inverse(x)`, followed by `log p_U(u) + logdet`.
#
# The simplest useful bijector scales and shifts each coordinate on its own, with a log-scale
# $\alpha_i$ (so the scale $e^{\alpha_i}$ is always positive) and a shift $\mu_i$:
#
# $$x_i = u_i\, e^{\alpha_i} + \mu_i, \qquad u_i = (x_i - \mu_i)\, e^{-\alpha_i}.$$
#
# Its Jacobian is diagonal with entries $e^{\alpha_i}$, so $\log|\det J_{\text{forward}}| = \sum_i \alpha_i$
# and $\log|\det J_{\text{inverse}}| = -\sum_i \alpha_i$, the same for every point. From scratch:


# %% key="tiny-affine-code"
class TinyAffine(nn.Module):
    """x = u * exp(alpha) + mu, coordinate by coordinate, with both log-dets."""

    def __init__(self, mu: torch.Tensor, alpha: torch.Tensor) -> None:
        super().__init__()
        self.mu = nn.Parameter(mu)
        self.alpha = nn.Parameter(alpha)

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = u * torch.exp(self.alpha) + self.mu
        return x, self.alpha.sum().expand(u.shape[0])  # logdet: (batch,)

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        u = (x - self.mu) * torch.exp(-self.alpha)
        return u, (-self.alpha.sum()).expand(x.shape[0])


mu, alpha = torch.tensor([0.5, -1.0], dtype=torch.float64), torch.tensor([0.7, -0.3], dtype=torch.float64)
tiny = TinyAffine(mu, alpha)

# %% [markdown] key="brute-force-formula"
# A log-det computed by a clever formula needs an independent check. The brute-force way: for each
# point $b$ of the batch, let autograd build the full Jacobian $J[b]_{ij} = \partial\, \mathrm{out}_i /
# \partial\, \mathrm{in}_j$ (with `torch.func.jacrev`), then take $\log|\det J[b]|$ with `slogdet`.
# This costs $D$ backward passes per point, fine for testing, far too slow for training. We work in
# float64 so that round-off does not hide a small mistake, and we also check that `inverse` undoes
# `forward`.


# %% key="brute-force-code"
def brute_logdet(direction, points: torch.Tensor) -> torch.Tensor:
    """log|det J| of `direction` (a method returning (output, logdet)) at each point: (batch, D) -> (batch,)."""
    jacobians = [torch.func.jacrev(lambda p: direction(p[None])[0][0])(p) for p in points]
    return torch.linalg.slogdet(torch.stack(jacobians)).logabsdet.detach()  # stack: (batch, D, D)


u = torch.randn(4, 2, generator=generator, dtype=torch.float64)
x, logdet_forward = tiny.forward(u)
u_again, logdet_inverse = tiny.inverse(x)
print_rows(
    [
        (tr("round trip, largest error"), (u_again - u).abs().max().item()),
        (tr("forward log-det, formula"), logdet_forward.detach().numpy()),
        (tr("forward log-det, brute force"), brute_logdet(tiny.forward, u).numpy()),
        (tr("inverse log-det, formula"), logdet_inverse.detach().numpy()),
        (tr("inverse log-det, brute force"), brute_logdet(tiny.inverse, x.detach()).numpy()),
    ]
)

# %% [markdown] key="library-affine"
# The library version is `nfcourse.bijectors.ElementwiseAffine`; it does exactly this, plus three
# things. It is a subclass of `nfcourse.bijectors.Bijector`, so that `Compose` and `Flow` accept it. It
# checks the shape of what it is given. And it bounds the log-scale smoothly: the free parameter is
# $\tilde\alpha$ (`raw_alpha`) and $\alpha = 5 \tanh(\tilde\alpha / 5)$, so that one layer never
# scales by more than $e^5$ (this is `nfcourse.bijectors.soft_clamp`; it is why the log-dets printed
# below differ slightly from the ones above). The brute-force check is
# `nfcourse.jacobian.brute_force_logdet`, the same function the library's tests and the exercise
# self-checks use.

# %% key="library-affine-code"
affine = ElementwiseAffine(2).double()
with torch.no_grad():
    affine.mu.copy_(torch.tensor([0.5, -1.0]))
    affine.raw_alpha.copy_(torch.tensor([0.7, -0.3]))
x, logdet_forward = affine.forward(u)
u_again, logdet_inverse = affine.inverse(x)
print_rows(
    [
        (tr("alpha after the soft clamp"), affine.alpha.detach().numpy()),
        (tr("round trip, largest error"), (u_again - u).abs().max().item()),
        (tr("forward log-det, formula"), logdet_forward.detach().numpy()),
        (tr("forward log-det, brute force"), brute_force_logdet(affine.forward, u).detach().numpy()),
        (tr("inverse log-det, formula"), logdet_inverse.detach().numpy()),
        (tr("inverse log-det, brute force"), brute_force_logdet(affine.inverse, x.detach()).detach().numpy()),
    ]
)

# %% [markdown] key="compose-formula"
# ## 4. Composing bijectors adds log-dets
#
# A flow is a chain $f = f_K \circ \dots \circ f_1$. By the chain rule, its Jacobian is the product of
# the layers' Jacobians, each taken where that layer acts, $h_{k-1} = f_{k-1} \circ \dots \circ f_1(u)$:
#
# $$J_f(u) = J_{f_K}(h_{K-1}) \cdots J_{f_2}(h_1)\, J_{f_1}(u).$$
#
# The determinant of a product is the product of the determinants, so in logs
#
# $$\log|\det J_f(u)| = \sum_{k=1}^{K} \log|\det J_{f_k}(h_{k-1})|.$$
#
# This is why a flow never needs the full Jacobian: each layer reports its own log-det on the way
# through, and the sum is the answer. `nfcourse.bijectors.Compose` runs the layers in order and adds
# their log-dets. We check it on a stack of four library bijectors whose parameters we nudge away from
# their starting values, so that every layer does something.

# %% key="compose-code"
stack = Compose(AffineLU(2), PReLU(2, slope=0.4), ElementwiseAffine(2), AffineLU(2)).double()
with torch.no_grad():
    for parameter in stack.parameters():
        parameter.add_(0.5 * torch.randn(parameter.shape, generator=generator, dtype=torch.float64))

h, per_layer = u, []
for layer in stack:
    h, step_logdet = layer.forward(h)
    per_layer.append(step_logdet)
per_layer = torch.stack(per_layer, dim=1).detach()  # (batch, K)
x, logdet_compose = stack.forward(u)

print_rows(
    [(type(layer).__name__, logdet.numpy().round(4)) for layer, logdet in zip(stack, per_layer.T, strict=True)]
    + [
        (tr("sum of the layers"), per_layer.sum(dim=1).numpy().round(4)),
        ("Compose", logdet_compose.detach().numpy().round(4)),
        (tr("brute force"), brute_force_logdet(stack.forward, u).detach().numpy().round(4)),
    ]
)

# %% [markdown] key="datasets-intro"
# ## 5. The data sets of the course
#
# Every lesson trains on 2-D point clouds, so that densities can be looked at as pictures. There are
# six, listed in `nfcourse.datasets.DATASET_NAMES`. Each is standardized (mean 0 and spread 1 along each
# axis; the word is scaled by one common factor instead, so that its letters keep their shape) and split
# into fixed training and test points. One of them is a word: points spread evenly
# inside the letters of any text you like. Change `WORD` below to your own name and run the notebook
# again.
#
# Because the course made the data, it also knows the density the points were drawn from. The top row
# shows that true density, the bottom row a part of the training points.

# %% key="datasets-code"
WORD = "FLOW"

datasets = {
    name: load(name, n_train=10_000, n_test=2_000, seed=0, **({"text": WORD} if name == "word" else {}))
    for name in DATASET_NAMES
}

# %% key="datasets-plot"
limits = (-2.6, 2.6)
fig, axes = plt.subplots(2, len(datasets), figsize=(13, 4.8), layout="constrained")
for column, (name, data) in enumerate(datasets.items()):
    plot_density(data.log_prob, limits=limits, colorbar=False, title=name, ax=axes[0, column])
    plot_samples(data.train[:2000], limits=limits, title=tr("training points"), axes=axes[1, column])
plt.show()

# %% [markdown] key="oracle-formula"
# **The oracle NLL.** We judge a model $q$ by its NLL on the test points. The lowest value it could
# possibly reach in expectation is set by the data itself. For data from $p$,
#
# $$
# \mathbb{E}_{x \sim p}\big[-\log q(x)\big]
# = \underbrace{\mathbb{E}_{x \sim p}\big[-\log p(x)\big]}_{H(p)}
# + \underbrace{\mathrm{KL}(p \,\|\, q)}_{\ge 0}.
# $$
#
# The first term is $H(p)$, the entropy of the data. The KL divergence is zero only when $q = p$. So the
# entropy $H(p)$ is a floor: a model's expected test
# NLL sits above it, and the gap is exactly how far the model is from the truth. We estimate
# $H(p)$ by evaluating the *true* density on the test points, $-\frac1n \sum_{x \in \text{test}} \log
# p(x)$: the oracle NLL. We quote it in nats, in total and per dimension (divided by $D = 2$), with its
# standard error (the standard deviation of $-\log p(x)$ over the test points, divided by $\sqrt n$). For the word and the checkerboard the density is flat on its support, every test point
# has the same log-density, and the standard error is zero.

# %% key="oracle-table"
headers = [tr("data set"), tr("oracle NLL (nats)"), tr("per dimension"), tr("standard error")]
rows = ["| " + " | ".join(headers) + " |", "|---|---:|---:|---:|"]
for name, data in datasets.items():
    numbers = (data.oracle_nll(), data.oracle_nll_per_dim(), data.oracle_nll_standard_error())
    rows.append(f"| {name} | " + " | ".join(number(value, ".3f") for value in numbers) + " |")
Markdown("\n".join(rows))

# %% [markdown] key="part1-formula"
# ## 6. A first flow: affine layers and PReLUs
#
# The flow of Eric Jang's tutorial "Normalizing Flows Tutorial, Part 1" (2018) alternates invertible
# affine maps with a leaky, learnable ReLU. We build it from two library bijectors.
#
# - `AffineLU`: $x = W u + b$ with $W = LU$, $L$ unit lower triangular and $U$ upper triangular with
#   diagonal $e^{s_i}$. Then $\det W = \prod_i e^{s_i}$ and the forward log-det is $\sum_i s_i$; the
#   inverse is two triangular solves. It starts as the identity.
# - `PReLU`: $x_i = u_i$ for $u_i \ge 0$ and $x_i = a_i u_i$ for $u_i < 0$, with a learnable slope
#   $a_i > 0$. Its forward log-det is $\sum_{i:\, u_i < 0} \log a_i$.
#
# $$f = A_{K+1} \circ \sigma_K \circ A_K \circ \dots \circ \sigma_1 \circ A_1,$$
#
# with $A_k$ the affine layers and $\sigma_k$ the PReLUs. We start the slopes at 0.9, close to a straight
# line, so that the untrained flow is close to the standard normal.


# %% key="part1-code"
def part1_flow(n_blocks: int = 4) -> Flow:
    """[AffineLU, PReLU] x n_blocks, then one more AffineLU, on 2-D data."""
    layers = []
    for _ in range(n_blocks):
        layers += [AffineLU(2), PReLU(2, slope=0.9)]
    layers.append(AffineLU(2))
    return Flow(Compose(*layers), dim=2)


print(tr("parameters of the part-1 flow:"), sum(p.numel() for p in part1_flow().parameters()))

# %% [markdown] key="gaussian-baseline"
# **A bar to clear.** A single `AffineLU` layer on its own is already a flow: $x = W u + b$ with
# $u \sim \mathcal{N}(0, I)$ is the Gaussian $\mathcal{N}(b, W W^\top)$. Trained, it becomes the best
# Gaussian fit to the data. Whatever the PReLUs add must show up as a test NLL below this one.
#
# Both models are trained by `nfcourse.training.fit`: Adam on the mean NLL of random batches, with a
# learning rate that decays along a cosine. The number of steps comes from `budget`, which gives a small
# number when the environment variable `NFCOURSE_FAST=1` is set.

# %% key="train-moons"
moons = datasets["moons"]
steps = budget(full=3000, fast=300)

gaussian = Flow(AffineLU(2), dim=2)
gaussian_history = fit(gaussian, moons.train, moons.test, steps=steps, lr=5e-3, schedule=cosine_schedule(steps))
flow = part1_flow()
history = fit(flow, moons.train, moons.test, steps=steps, lr=5e-3, schedule=cosine_schedule(steps), eval_every=50)
gaussian, flow = gaussian.cpu(), flow.cpu()  # the pictures below sample on the CPU

# %% key="moons-nll"
nll_gaussian = evaluate_nll(gaussian, moons.test)
nll_flow = evaluate_nll(flow, moons.test)
nll_oracle = evaluate_oracle(moons)
print_rows(
    [
        (tr("one AffineLU (a Gaussian)"), nll_gaussian),
        (tr("part-1 flow"), nll_flow),
        (tr("oracle (true density)"), nll_oracle),
    ]
)
print(tr("gap to the oracle, KL per dimension: {gap:.3f}").format(gap=nll_flow.per_dim - nll_oracle.per_dim))
expect_at_most(tr("test NLL of the part-1 flow on two moons (nats per dimension)"), nll_flow.per_dim, 1.42)

# %% [markdown] key="moons-curves-intro"
# The training curves, with the oracle as a dashed line: the space between the test curve and that line
# is the KL divergence the model has left.

# %% key="moons-curves"
fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
plot_training_curves(
    history,
    reference=moons.oracle_nll_per_dim(),
    reference_label=tr("oracle: entropy of the data"),
    title=tr("part-1 flow on two moons"),
    ax=ax,
)
ax.legend(loc="center right")  # keep the legend clear of the flat curves
plt.show()

# %% key="moons-compare"
compare(
    {tr("one AffineLU"): gaussian, tr("part-1 flow"): flow},
    moons.test,
    nll={tr("one AffineLU"): nll_gaussian.per_dim, tr("part-1 flow"): nll_flow.per_dim},
    title=tr("two moons: densities (top), samples (bottom)"),
    generator=generator,
)

# %% [markdown] key="moons-deformation-intro"
# What does each layer do? The next picture pushes Gaussian noise and a grid through the flow one layer
# at a time. Points keep the colour of their direction in noise space, so one can follow each slice of
# the Gaussian. A PReLU shows up as a crease along an axis of the panel before it.

# %% key="moons-deformation"
plot_deformation(flow, generator=generator, title=tr("the part-1 flow, layer by layer"))

# %% [markdown] key="moons-verdict"
# Compare the two NLLs above: the PReLUs have bought next to nothing over a single Gaussian, and the gap
# to the oracle is almost untouched. The density and the samples look like the Gaussian's, and the
# layer-by-layer picture shows why: look for PReLU panels that are exact copies of the panel before them.
# There the affine layer in front has moved the whole cloud to one side of the PReLU's crease, and a
# PReLU that only ever sees one side is a plain linear map. (Fast mode stops before this shows; the full
# training makes it plain.) The rest of this lesson asks why the flow
# ends up like this, starting with the simplest density that has two modes.

# %% [markdown] key="bumps-formula"
# ## 7. Why it cannot split one Gaussian into two modes
#
# Two round Gaussian bumps of equal weight, centred at $c_{1,2} = (\mp 1.2, 0)$ with spread
# $\sigma = 0.35$, made by hand in plain PyTorch:
#
# $$p(x) = \tfrac12\, \mathcal{N}(x;\, c_1, \sigma^2 I) + \tfrac12\, \mathcal{N}(x;\, c_2, \sigma^2 I),$$
# $$\log p(x) = \operatorname{logsumexp}_k\Big(-\frac{\|x - c_k\|^2}{2\sigma^2}\Big) - \log 2 - \log(2\pi\sigma^2).$$

# %% key="bumps-code"
centers = torch.tensor([[-1.2, 0.0], [1.2, 0.0]])
spread = 0.35


def two_bumps_sample(n: int) -> torch.Tensor:
    which = torch.randint(2, (n,), generator=generator)
    return centers[which] + spread * torch.randn(n, 2, generator=generator)  # (n, 2)


def two_bumps_log_prob(x: torch.Tensor) -> torch.Tensor:
    squared = ((x[:, None, :] - centers.to(x)) ** 2).sum(dim=2)  # (batch, 2)
    return torch.logsumexp(-squared / (2 * spread**2), dim=1) - math.log(2) - math.log(2 * math.pi * spread**2)


bumps_train, bumps_test = two_bumps_sample(10_000), two_bumps_sample(2_000)
bumps_oracle_total = -two_bumps_log_prob(bumps_test).mean().item()
bumps_oracle = NLL(total=bumps_oracle_total, per_dim=bumps_oracle_total / 2)

# %% [markdown] key="bumps-predict"
# **Predict before you run.** We train the same part-1 flow, and the single Gaussian, on these points.
# Will the flow put two bumps where the data has two? Where will its density be highest?

# %% key="bumps-train"
gaussian_bumps = Flow(AffineLU(2), dim=2)
fit(gaussian_bumps, bumps_train, bumps_test, steps=steps, lr=5e-3, schedule=cosine_schedule(steps))
flow_bumps = part1_flow()
bumps_history = fit(
    flow_bumps, bumps_train, bumps_test, steps=steps, lr=5e-3, schedule=cosine_schedule(steps), eval_every=50
)
gaussian_bumps, flow_bumps = gaussian_bumps.cpu(), flow_bumps.cpu()

nll_gaussian_bumps = evaluate_nll(gaussian_bumps, bumps_test)
nll_flow_bumps = evaluate_nll(flow_bumps, bumps_test)
print_rows(
    [
        (tr("one AffineLU (a Gaussian)"), nll_gaussian_bumps),
        (tr("part-1 flow"), nll_flow_bumps),
        (tr("oracle (true density)"), bumps_oracle),
    ]
)

# %% key="bumps-compare"
compare(
    {tr("one AffineLU"): gaussian_bumps, tr("part-1 flow"): flow_bumps},
    bumps_test,
    nll={tr("one AffineLU"): nll_gaussian_bumps.per_dim, tr("part-1 flow"): nll_flow_bumps.per_dim},
    limits=(-2.6, 2.6),
    title=tr("two bumps: densities (top), samples (bottom)"),
    generator=generator,
)

# %% key="bumps-slice"
line = torch.stack([torch.linspace(-2.6, 2.6, 400), torch.zeros(400)], dim=1)  # (400, 2)
fig, ax = plt.subplots(figsize=(6, 3.4), layout="constrained")
ax.plot(line[:, 0], two_bumps_log_prob(line).exp(), color="0.25", linestyle="--", label=tr("true density"))
with torch.no_grad():
    gaussian_line = gaussian_bumps.log_prob(line).exp()
    ax.plot(line[:, 0], gaussian_line, color="C0", linewidth=4, alpha=0.4, label=tr("one AffineLU"))
    ax.plot(line[:, 0], flow_bumps.log_prob(line).exp(), color="C3", label=tr("part-1 flow"))
ax.set_title(tr("A cut through both bumps"))
ax.set_xlabel(tr("$x_1$ along the line $x_2 = 0$"))
ax.set_ylabel(tr("density"))
ax.legend()
plt.show()

with torch.no_grad():
    gaussian_points = gaussian_bumps.sample(20_000, generator=generator)
    flow_points = flow_bumps.sample(20_000, generator=generator)
print(
    tr("share in the strip |x_1| < 0.4: data {data:.3f}, one AffineLU {gaussian:.3f}, part-1 flow {flow:.3f}").format(
        data=(bumps_test[:, 0].abs() < 0.4).float().mean().item(),
        gaussian=(gaussian_points[:, 0].abs() < 0.4).float().mean().item(),
        flow=(flow_points[:, 0].abs() < 0.4).float().mean().item(),
    )
)

# %% [markdown] key="bumps-explained"
# The cut along $x_2 = 0$ and the share of points in the strip $|x_1| < 0.4$ make it plain: both models
# put their highest density right between the bumps, where the data has almost none, and the part-1
# flow is hard to tell apart from the Gaussian (after the full training; a fast-mode run stops early and
# may still lean towards one bump). There are two separate reasons: one about
# what a flow like this can express at all, one about what maximum likelihood training can find.
#
# **Reason 1: a bijection keeps the plane in one piece.** The flow's density is
# $p_U(f^{-1}(x))\,|\det J_{f^{-1}}(x)|$. The Gaussian $p_U$ is positive everywhere, and a bijection with
# finite stretch factors keeps the density positive everywhere: there is no way to cut the Gaussian into
# two separate pieces, only to pull it out of shape. Two modes are possible, as `tanh` showed in
# section 1, but they stay joined by a bridge of density. To make the bridge thin, the map must stretch
# the region between the modes enormously, so that little probability is left there, and it must do so
# at the right place.
#
# A PReLU flow is a poor tool for that. Each layer is linear on each side of a crease, so the whole
# flow is piecewise linear: it can only shear, rotate, scale, and bend along straight lines. Its density
# is made of Gaussian pieces glued along those lines, and its log-det is *piecewise constant*: it jumps
# at a crease and is flat everywhere else.

# %% [markdown] key="blind-gradient-formula"
# **Reason 2: training cannot see the creases.** That piecewise constant log-det has a consequence for
# learning. Take the smallest case, one dimension, one PReLU with slope $a$, in front of it a shift
# $b$: $z = x + b$, and $u = z$ for $z \ge 0$, $u = z / a$ for $z < 0$. The NLL of data $x \sim p$ is
#
# $$L(b) = \mathbb{E}_{x \sim p}\Big[\tfrac12 u^2 + \tfrac12 \log 2\pi + \mathbb{1}[x + b < 0]\, \log a\Big].$$
#
# The last term is a step in $b$ for each point, and autograd differentiates point by point: the
# derivative of a step is zero. But the *average* changes when $b$ moves points across the crease:
# $\frac{d}{db} P(x < -b) = -p(-b)$. The true slope of $L$ has one more term than autograd's,
#
# $$
# \frac{dL}{db} = \underbrace{\mathbb{E}\Big[\frac{\partial}{\partial b}\tfrac12 u^2\Big]}_{(\mathrm{i})}
# \;\underbrace{-\, p(-b)\log a}_{(\mathrm{ii})}.
# $$
#
# Autograd computes term (i) only; term (ii) is the one it misses.
#
# Below, for $x \sim \mathcal{N}(0, 1)$, $a = 0.5$ and $b = 0$, we compare autograd's gradient (through
# the library's `PReLU`) with a finite difference of the NLL on the same million points.

# %% key="blind-gradient-code"
prelu = PReLU(1, slope=0.5)
x1d = torch.randn(1_000_000, 1, generator=generator)


def nll_with_shift(b: torch.Tensor) -> torch.Tensor:
    u1d, logdet = prelu.inverse(x1d + b)
    return (0.5 * u1d[:, 0] ** 2 + 0.5 * math.log(2 * math.pi) - logdet).mean()


b = torch.zeros((), requires_grad=True)
nll_with_shift(b).backward()
delta = 0.02
with torch.no_grad():
    finite_difference = (nll_with_shift(torch.tensor(delta)) - nll_with_shift(torch.tensor(-delta))) / (2 * delta)
    missing = -standard_normal_density(torch.zeros(())) * prelu.log_slope[0]
print_rows(
    [
        (tr("slope a after the soft clamp"), number(prelu.log_slope.exp().item(), ".4f")),
        (tr("autograd dL/db"), number(b.grad.item(), ".4f")),
        (tr("finite difference dL/db"), number(finite_difference.item(), ".4f")),
        (tr("difference"), number((finite_difference - b.grad).item(), ".4f")),
        (tr("predicted missing term -p(0) log a"), number(missing.item(), ".4f")),
    ]
)

# %% [markdown] key="dead-prelu-intro"
# So the gradient sees only half of what a crease does: how it moves points in noise space (the
# $\tfrac12 u^2$ term), never what it does to the log-det. Whichever side of a crease the Gaussian term
# prefers, training keeps pushing the data there, until every point sits on one side. A PReLU that only
# sees one side is the identity or one fixed scaling: a linear map. Below, for each PReLU of the two
# trained flows, the share of test points that reach it on its bent side ($z_i < 0$), per coordinate:
# a share near 0 or 1 means a dead crease. (This needs the full training; in fast mode the run stops
# long before the creases die.)


# %% key="dead-prelu-code"
def bent_side_shares(trained: Flow, x: torch.Tensor) -> list[list[float]]:
    """For each PReLU, in forward order, the share of points on its negative side, per coordinate."""
    shares, h = [], x
    with torch.no_grad():
        for layer in reversed(trained.bijector.layers):  # the inverse pass, data to noise
            if isinstance(layer, PReLU):
                shares.append((h < 0).float().mean(dim=0).tolist())
            h, _logdet = layer.inverse(h)
    return [[round(s, 3) for s in share] for share in reversed(shares)]


print(tr("two moons:"), bent_side_shares(flow, moons.test))
print(tr("two bumps:"), bent_side_shares(flow_bumps, bumps_test))

# %% [markdown] key="bumps-curves-intro"
# The training curves of the two-bump flow tell the same story from the other side. If the gradient
# were the true slope of the NLL, small enough steps would never make the NLL go up for long. Here both
# curves first drop, then climb back to the Gaussian's level and stay there: gradient descent is
# following a slope that is not the slope of its own loss. (The test NLL is recorded every 50 steps; the
# climb shows in full mode, while fast mode stops during the first drop.)

# %% key="bumps-curves"
best = min(range(len(bumps_history.test_nll)), key=bumps_history.test_nll.__getitem__)
print(
    tr("lowest test NLL {nll:.3f} per dimension, at step {step}; after the last step {last:.3f}").format(
        nll=bumps_history.test_nll[best], step=bumps_history.eval_steps[best], last=bumps_history.test_nll[-1]
    )
)
fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
plot_training_curves(
    bumps_history,
    reference=bumps_oracle.per_dim,
    reference_label=tr("oracle: entropy of the data"),
    title=tr("part-1 flow on two bumps"),
    ax=ax,
)
ax.axhline(nll_gaussian_bumps.per_dim, color="C0", linestyle=":", label=tr("one AffineLU (a Gaussian)"))
ax.legend(loc="center right")  # keep the legend clear of the curves
plt.show()

# %% [markdown] key="what-next"
# **What this motivates.** Both reasons point the same way. We want layers whose stretch factor changes
# *continuously* from place to place, computed by a network from the data, so that the gradient of the
# NLL is honest and the flow can thin out the bridge between two modes where it is needed, while the
# log-det stays cheap. The next lesson gets there with autoregressive models: each coordinate is shifted
# and scaled by amounts computed from the coordinates before it. The Jacobian is then triangular, like
# the one of our bending map in section 2, and its log-det is a plain sum.

# %% [markdown] key="summary"
# ## Summary
#
# - For $x = f(u)$ with $f$ invertible, $p_X(x) = p_U(f^{-1}(x))\,|\det J_{f^{-1}}(x)|$. The determinant
#   is the factor by which $f^{-1}$ changes small volumes; even in 1-D it can turn one peak into two.
# - Flows work with $\log|\det J|$; the log-dets of stacked layers add up.
# - A bijector has `forward(u) -> (x, logdet)` (sampling) and `inverse(x) -> (u, logdet)` (density),
#   each log-det of shape `(batch,)`; we test them against a brute-force float64 Jacobian.
# - A model's expected test NLL is the data's entropy plus a KL divergence; the oracle NLL estimates
#   the entropy, so the gap to it is what a model has left to learn.
# - Affine layers with PReLUs are piecewise linear with a piecewise constant log-det. They keep the
#   Gaussian in one piece, and maximum likelihood cannot see where their creases should go: on two moons
#   and on two bumps they end up close to a single Gaussian.

# %% [markdown] key="try-next"
# ## What to try next
#
# - In section 1, replace `torch.tanh(u)` and the density by $\tanh(c\,u)$ for $c = 0.5$ and $c = 2$
#   (the inverse slope becomes $1/(c(1 - x^2))$). For which $c$ does the dip appear? (Hint: look at the
#   second derivative of $\log p_X$ at 0.)
# - In section 2, change the matrix `A` to one with determinant 0, or negative. What happens to the
#   grid picture, and to `slogdet`?
# - Set `WORD` to your name. The word's density is flat on the letters, so its entropy is the log of
#   their area after standardization. Which words give a low oracle NLL, and which a high one?
# - In `part1_flow`, try `n_blocks=1` and `n_blocks=12`, and start the slopes at 0.5 instead of 0.9.
#   Compare the NLL at the first evaluation with the final one.
# - Move the bumps closer (centres at $\mp 0.6$) or further apart ($\mp 2$). How do the flow's and the
#   Gaussian's gaps to the oracle change?
# - Train the two-bump flow for only 150 steps. Is it better? Would you call that a fix?
# - In the gradient check, set `slope=1.0`, or shift the data by 3 so that no point is near the crease.
#   When does autograd become right again?
#
# The exercise sheet of this lesson checks each answer as you go. When you are done, save it and grade it
# as the course does, with fresh inputs and your code in a sandbox: `python -m nfcourse grade` followed by
# the path of your sheet, in a terminal in the course folder.

# %% [markdown] key="references"
# ## References
#
# - D. J. Rezende, S. Mohamed. *Variational Inference with Normalizing Flows.* ICML 2015.
#   [arXiv:1505.05770](https://arxiv.org/abs/1505.05770)
# - L. Dinh, D. Krueger, Y. Bengio. *NICE: Non-linear Independent Components Estimation.* 2014.
#   [arXiv:1410.8516](https://arxiv.org/abs/1410.8516)
# - G. Papamakarios, E. Nalisnick, D. J. Rezende, S. Mohamed, B. Lakshminarayanan. *Normalizing Flows
#   for Probabilistic Modeling and Inference.* JMLR 22(57), 2021.
#   [arXiv:1912.02762](https://arxiv.org/abs/1912.02762)
# - E. Jang. *Normalizing Flows Tutorial, Part 1: Distributions and Determinants.* Blog post, 2018.
#   [blog.evjang.com/2018/01/nf1.html](https://blog.evjang.com/2018/01/nf1.html)
# - D. P. Kingma, P. Dhariwal. *Glow: Generative Flow with Invertible 1x1 Convolutions.* NeurIPS 2018
#   (the LU-parametrised linear layer). [arXiv:1807.03039](https://arxiv.org/abs/1807.03039)
# - K. He, X. Zhang, S. Ren, J. Sun. *Delving Deep into Rectifiers.* ICCV 2015 (PReLU).
#   [arXiv:1502.01852](https://arxiv.org/abs/1502.01852)
# - R. Cornish, A. Caterini, G. Deligiannidis, A. Doucet. *Relaxing Bijectivity Constraints with
#   Continuously Indexed Normalising Flows.* ICML 2020 (why bijections struggle with several modes and
#   holes). [arXiv:1909.13833](https://arxiv.org/abs/1909.13833)
