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
# # MADE and the Masked Autoregressive Flow (MAF)

# %% [markdown] key="goals"
# In lesson 01 we built an autoregressive layer with one network per coordinate: correct, but $D$ networks
# and $D$ calls for one density evaluation. In this lesson we put all of these networks into a single one,
# MADE, and stack the resulting layers into a flow, the Masked Autoregressive Flow (MAF). After it you can:
#
# - give every unit of a network a degree and build the two mask rules that make it autoregressive;
# - check the autoregressive property yourself, by computing the Jacobian of the outputs with autograd;
# - measure what one masked pass saves against $D$ separate networks as $D$ grows;
# - explain why a MAF reorders the coordinates between its layers, and show what goes wrong without it;
# - train a MAF on two moons and on the point cloud of a word, compare its NLL (negative log-likelihood) with
#   the entropy of the data,
#   and watch the Gaussian being stretched and bent layer by layer.
#
# *Time: about 60 minutes.*

# %% key="setup-code"
import math
from itertools import pairwise

import matplotlib.pyplot as plt
import torch
from IPython.display import display
from torch import nn

from nfcourse.bijectors import AffineAutoregressive, maf
from nfcourse.conditioners import MADE, NaiveConditioner, hidden_degrees, made_masks
from nfcourse.datasets import load
from nfcourse.flow import Flow
from nfcourse.i18n import number, tr
from nfcourse.jacobian import jacobian
from nfcourse.plotting import animate_layers, compare, plot_deformation, plot_scaling
from nfcourse.runtime import budget, by_mode, expect_at_least, expect_at_most, expect_equal, seed_everything
from nfcourse.text import print_rows, print_table
from nfcourse.timing import growth_exponent, seconds_in_turns
from nfcourse.training import cosine_schedule, evaluate_nll, evaluate_oracle, fit

generator = seed_everything(0)  # one seed for the whole notebook; pass `generator` wherever we sample

# %% [markdown] key="degrees"
# ## 1. One network, many conditionals: degrees
#
# An affine autoregressive layer needs, for each coordinate $i$, a shift $\mu_i$ and a log-scale
# $\alpha_i$ that depend only on the coordinates before $i$. An ordinary fully connected network with $D$
# inputs and $2D$ outputs would let every output see every input. MADE, the *Masked Autoencoder for
# Distribution Estimation* (Germain et al., 2015), keeps the network and cuts connections: it multiplies
# each weight matrix by a fixed 0/1 mask. (It is called an autoencoder for its shape: $D$ inputs, and
# outputs that belong to the same $D$ coordinates.)
#
# Which connections to cut follows from one number per unit, its **degree**:
#
# - input $j$ gets the degree $m(j) \in \{1, \dots, D\}$, its place in the chosen order;
# - a hidden unit gets a degree $m_h(k) \in \{1, \dots, D-1\}$: the largest input degree it may see;
# - output $i$ (the $\mu_i$ or $\alpha_i$ of coordinate $i$) has the degree of input $i$.
#
# The two mask rules say who may talk to whom:
#
# $$M^{\text{hidden}}_{kj} = [\,m_h(k) \ge m(j)\,], \qquad M^{\text{out}}_{ik} = [\,m(i) > m_h(k)\,].$$
#
# For the first hidden layer, $j$ runs over the inputs; for a hidden layer above another one, $m(j)$ is
# the degree of unit $j$ of the layer below, and the same rule applies.
#
# A path from input $j$ to output $i$ must pass hidden units with $m(j) \le m_h \le \dots < m(i)$, so it
# exists only if $m(j) < m(i)$: output $i$ can only see inputs that come before it (and with the hidden
# degrees below, handed out in turn, it sees all of them). The *strict* inequality sits in the output
# rule, because that is where it decides: output $i$ must not see input $i$.
# Hidden units of degree $D$ would reach no output, so hidden degrees stop at $D - 1$; we hand them out in
# turn, $1, 2, \dots, D-1, 1, 2, \dots$, so that every degree is present.
#
# From scratch, for $D = 5$ inputs, two hidden layers of 12 units and one output per input:

# %% key="degrees-code"
D, H = 5, 12


def hidden_degree_list(size: int, dim: int) -> torch.Tensor:
    return torch.arange(size) % (dim - 1) + 1  # 1, 2, ..., D-1, 1, 2, ...


def masks_from_degrees(degrees: torch.Tensor, hidden: list[int]) -> list[torch.Tensor]:
    """One mask per layer, shaped like an nn.Linear weight (out, in)."""
    layer_degrees = [degrees] + [hidden_degree_list(size, len(degrees)) for size in hidden]
    masks = [(later[:, None] >= earlier[None, :]).float() for earlier, later in pairwise(layer_degrees)]
    masks.append((degrees[:, None] > layer_degrees[-1][None, :]).float())  # the output rule: strict
    return masks


natural = torch.arange(1, D + 1)
masks = masks_from_degrees(natural, [H, H])
print(tr("hidden degrees:"), hidden_degree_list(H, D).tolist())
print(tr("mask shapes:"), [tuple(mask.shape) for mask in masks])
print(tr("output mask (rows: outputs 1..5, columns: hidden units of the last layer):"))
print(masks[-1].int())

# %% [markdown] key="tiny-made"
# A masked network is an ordinary network whose weights are multiplied by the masks on every call:
# $h^{(l+1)} = \operatorname{relu}\big(h^{(l)} (W^{(l)} \odot M^{(l)})^\top + b^{(l)}\big)$. Here are a few
# lines of plain PyTorch with random weights: no training, we only want to look at its structure.


# %% key="tiny-made-code"
def tiny_masked_network(masks: list[torch.Tensor]):
    """Random weights for the masks; returns a function x (batch, D) -> outputs (batch, D)."""
    weights = [torch.randn(mask.shape, generator=generator) / math.sqrt(mask.shape[1]) for mask in masks]
    biases = [0.1 * torch.randn(mask.shape[0], generator=generator) for mask in masks]

    def network(x: torch.Tensor) -> torch.Tensor:
        h = x
        for k, (weight, bias, mask) in enumerate(zip(weights, biases, masks, strict=True)):
            h = h @ (weight * mask).T + bias
            if k < len(masks) - 1:
                h = torch.relu(h)
        return h

    return network


network_natural = tiny_masked_network(masks)
random_order = torch.randperm(D, generator=generator) + 1
network_random = tiny_masked_network(masks_from_degrees(random_order, [H, H]))
print(tr("random order, the degrees of inputs 1..5:"), random_order.tolist())

# %% [markdown] key="jacobian-formula"
# ## 2. Checking the property: the Jacobian of outputs with respect to inputs
#
# Write $y_i$ for output $i$ of the network. The property to check is that $\partial y_i / \partial x_j = 0$
# whenever $m(j) \ge m(i)$. Autograd gives the whole matrix $J_{ij} = \partial y_i / \partial x_j$; we
# average $|J_{ij}|$ over 200 random points, so that an entry counts as zero only if it is zero at all of
# them, not just at one point where a ReLU happens to be off. In the natural order the matrix must be *strictly lower triangular*. In a
# random order it is strictly triangular once rows and columns are sorted by degree.
#
# **Predict before you run.** How many entries of the $5 \times 5$ matrix are nonzero in each picture?
# Will the random order's raw matrix (before sorting) look triangular?


# %% key="jacobian-code"
def mean_abs_jacobian(network, dim: int, n: int = 200) -> torch.Tensor:
    """Average |d output_i / d x_j| over n random points: (D, D)."""
    points = torch.randn(n, dim, generator=generator)
    return torch.stack([torch.func.jacrev(lambda p: network(p[None])[0])(p).abs() for p in points]).mean(0)


J_natural = mean_abs_jacobian(network_natural, D)
J_random = mean_abs_jacobian(network_random, D)
by_degree = torch.argsort(random_order)  # coordinates sorted by their degree
J_sorted = J_random[by_degree][:, by_degree]

fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), layout="constrained")
panels = [
    (J_natural, tr("natural order")),
    (J_random, tr("random order, as computed")),
    (J_sorted, tr("random order, sorted by degree")),
]
for ax, (matrix, title) in zip(axes, panels, strict=True):
    ax.imshow(matrix > 0, cmap="Greys", vmin=0, vmax=1.3)
    ax.set_title(title)
    ax.set_xlabel(tr("input $j$"))
    ax.set_ylabel(tr("output $i$"))
    ax.set_xticks(range(D))
    ax.set_yticks(range(D))
ticks = [str(int(k) + 1) for k in by_degree]
axes[2].set_xticklabels(ticks)
axes[2].set_yticklabels(ticks)
axes[2].set_xlabel(tr("input $j$, sorted by degree"))
axes[2].set_ylabel(tr("output $i$, sorted by degree"))
for ax in axes[:2]:
    ax.set_xticklabels(range(1, D + 1))
    ax.set_yticklabels(range(1, D + 1))
fig.suptitle(tr("Which outputs depend on which inputs (black: nonzero Jacobian entry)"))
plt.show()

# %% key="jacobian-numbers"
allowed_natural = natural[:, None] > natural[None, :]  # m(j) < m(i)
allowed_random = random_order[:, None] > random_order[None, :]
for name, matrix, allowed in (
    (tr("natural order"), J_natural, allowed_natural),
    (tr("random order"), J_random, allowed_random),
):
    print(
        tr("{name}: nonzero entries {nonzero} of {allowed} allowed; largest forbidden entry {forbidden:.1e}").format(
            name=name,
            nonzero=int((matrix > 0).sum()),
            allowed=int(allowed.sum()),
            forbidden=matrix[~allowed].max().item(),
        )
    )

# %% [markdown] key="jacobian-explained"
# Every forbidden entry is exactly 0, not merely small: the masks remove the paths, so no rounding can
# bring them back. Here all $D(D-1)/2 = 10$ allowed entries are nonzero as well. The random order's raw
# matrix has its zeros scattered, yet sorting the coordinates by degree gives the same strict triangle:
# the order is a choice, the structure is the same.
#
# Now change one character: build the output mask with `>=` instead of `>`. Output $i$ may then see hidden
# units of degree $m(i)$, and through them input $i$ itself. The cell below counts the diagonal entries of
# the Jacobian that become nonzero.

# %% key="diagonal-code"
masks_with_diagonal = masks_from_degrees(natural, [H, H])
masks_with_diagonal[-1] = (natural[:, None] >= hidden_degree_list(H, D)[None, :]).float()  # >= instead of >
J_diagonal = mean_abs_jacobian(tiny_masked_network(masks_with_diagonal), D)
print(
    tr("output rule with >=: {nonzero} of the {dim} diagonal entries are nonzero").format(
        nonzero=int((torch.diagonal(J_diagonal) > 0).sum()), dim=D
    )
)

# %% [markdown] key="cheating-intro"
# If $\mu_i$ and $\alpha_i$ may depend on $x_i$ too, the Jacobian of $u = (x - \mu)e^{-\alpha}$ is still lower
# triangular, but its diagonal is no longer $e^{-\alpha_i}$: it is
# $\partial u_i / \partial x_i = e^{-\alpha_i}\big(1 - \partial \mu_i/\partial x_i\big) - u_i\, \partial\alpha_i/\partial x_i$.
# So $-\sum_i \alpha_i$ is no longer its log-det, and the layer need not even be invertible. Maximum-likelihood
# training with that formula is then rewarded for a shortcut: make $\mu_i$ copy $x_i$, so that $u_i$ is
# tiny, and make $\alpha_i$ strongly negative, so that $-\sum_i\alpha_i$ is large. The "NLL" it reports then
# sinks far below the entropy of the data, where no true density gets: in expectation its NLL is at least
# the entropy (lesson 00), and on a finite test set it can only fall short of it by sampling noise. We try
# it on two moons with the library's MADE, its output mask switched to `>=`. (The self-check of exercise
# sheet 02 names this mistake.)

# %% key="cheating-code"
moons = load("moons", n_train=20_000, n_test=5_000, seed=0)
oracle = evaluate_oracle(moons)
cheating_made = MADE(2, hidden_sizes=(32, 32))
cheating_made.net[-1].mask = (cheating_made.degrees.repeat(2)[:, None] >= hidden_degrees(32, 2)[None, :]).float()
cheating_flow = Flow(AffineAutoregressive(cheating_made, dim=2), dim=2)
fit(cheating_flow, moons.train, steps=300, lr=5e-3, progress=False)
print_rows(
    [
        (
            tr("reported NLL of the layer with >= (nats)"),
            number(evaluate_nll(cheating_flow.cpu(), moons.test).total, ".3f"),
        ),
        (tr("oracle: the entropy of the data (nats)"), number(oracle.total, ".3f")),
    ]
)
# %% [markdown] key="library-made"
# **The library version is `nfcourse.conditioners.MADE`.** It does exactly this (with `made_masks`,
# `MaskedLinear` and the same degree rules), plus: any number of hidden layers, `outputs` numbers per
# coordinate laid out as a tensor of shape `(batch, outputs, D)` (2 for $\mu$ and $\alpha$), the orders
# `"natural"`, `"reversed"`, `"random"` or a list of degrees, and a last layer that starts at zero, so that
# a freshly made autoregressive layer built on it is the identity map. From here on we use it. First, the library's masks are ours, and its
# Jacobian, for both $\mu$ and $\alpha$, has the same structure (after giving the zero last layer random
# weights; in float64, which `nfcourse.jacobian.jacobian` expects):

# %% key="library-made-code"
library_masks = made_masks(random_order, [H, H], outputs=1)
same = all(torch.equal(a, b) for a, b in zip(library_masks, masks_from_degrees(random_order, [H, H]), strict=True))
print(tr("the library's masks equal ours: {same}").format(same=same))

made = MADE(D, hidden_sizes=(H, H), outputs=2, order=random_order.tolist()).double()
nn.init.normal_(made.net[-1].weight, std=0.5)
points = torch.randn(50, D, generator=generator, dtype=torch.float64)
for k, name in enumerate(("mu", "alpha")):
    J = jacobian(lambda x, k=k: made(x)[:, k, :], points).abs().mean(0)  # (D, D)
    J_sorted_lib = J[by_degree][:, by_degree]
    print(
        tr("{name}: strictly lower triangular after sorting: {ok}; nonzero entries {nonzero} (at most 10)").format(
            name=name, ok=bool(torch.all(J_sorted_lib.triu() == 0)), nonzero=int((J > 0).sum())
        )
    )

# %% [markdown] key="library-made-explained"
# If a count above is below 10, an allowed entry is zero at all 50 points. That can happen by chance: a
# path from $x_j$ to output $i$ exists, but with random weights its ReLUs may be switched off at every one
# of the points (each degree has only a few hidden units here). A forbidden entry, on the other hand, is
# zero because no path exists at all, at every point and for every choice of weights.

# %% [markdown] key="cost-intro"
# ## 3. What one pass saves: MADE against D networks
#
# Lesson 01's `NaiveConditioner` runs $D$ small networks, the $i$-th taking $x_{<i}$ as input. For the
# same job MADE runs one network. Below we time one conditioner call on a batch of 1,024 points for
# $D = 2, 4, \dots, 64$, and count the parameters. Each naive network has two hidden layers of 64 units;
# MADE has two hidden layers of 128 units (enough for $D$ up to 129, since the hidden degrees run up to
# $D - 1$). The times come from `seconds_in_turns` (one thread, all sizes in turns, the fastest of 5 runs
# after a warm-up), as in lesson 01. At the largest $D$ we also time the whole density evaluation of one
# layer, to see how much the affine part adds to the conditioner call.
#
# **Predict before you run.** How should the two times grow with $D$ on a log-log plot? Which slope do you
# expect for the naive conditioner, and which for MADE?

# %% key="cost-code"
sizes = [2, 4, 8, 16, 32, 64]
batch = torch.randn(1024, max(sizes), generator=generator)
conditioners = {dim: (MADE(dim, hidden_sizes=(128, 128)), NaiveConditioner(dim, hidden=64)) for dim in sizes}
calls = {}
for dim, (made_net, naive_net) in conditioners.items():
    calls["made", dim] = lambda net=made_net, x=batch[:, :dim]: net(x)
    calls["naive", dim] = lambda net=naive_net, x=batch[:, :dim]: net(x)
largest_layer = AffineAutoregressive(conditioners[max(sizes)][0], max(sizes))
calls["layer"] = lambda: largest_layer.inverse(batch)
seconds = seconds_in_turns(calls)
made_seconds = [seconds["made", dim] for dim in sizes]
naive_seconds = [seconds["naive", dim] for dim in sizes]
made_params = [sum(p.numel() for p in conditioners[dim][0].parameters()) for dim in sizes]
naive_params = [sum(p.numel() for p in conditioners[dim][1].parameters()) for dim in sizes]

headers = ["D", tr("MADE (ms)"), tr("naive (ms)"), tr("ratio"), tr("MADE parameters"), tr("naive parameters")]
rows = [
    [
        dim,
        number(1e3 * t_made, ".2f"),
        number(1e3 * t_naive, ".2f"),
        number(t_naive / t_made, ".1f"),
        number(p_made, ",d"),
        number(p_naive, ",d"),
    ]
    for dim, t_made, t_naive, p_made, p_naive in zip(
        sizes, made_seconds, naive_seconds, made_params, naive_params, strict=True
    )
]
print_table(headers, rows)
print_rows(
    [
        (tr("growth exponent of the time, D = 8 to 64: MADE"), number(growth_exponent(sizes, made_seconds), ".2f")),
        (tr("growth exponent of the time, D = 8 to 64: naive"), number(growth_exponent(sizes, naive_seconds), ".2f")),
        (
            tr("D = 64: whole density evaluation of one layer / MADE call alone"),
            number(seconds["layer"] / made_seconds[-1], ".2f"),
        ),
    ]
)

# %% key="cost-plot"
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
names = (tr("MADE (one pass)"), tr("D networks"))
plot_scaling(
    sizes,
    dict(zip(names, (made_seconds, naive_seconds), strict=True)),
    ylabel=tr("seconds per density evaluation"),
    ax=axes[0],
)
plot_scaling(sizes, dict(zip(names, (made_params, naive_params), strict=True)), ylabel=tr("parameters"), ax=axes[1])
axes[0].set_title(tr("time for 1,024 points"))
axes[1].set_title(tr("size of the conditioner"))
plt.show()

# %% [markdown] key="cost-explained"
# The naive conditioner's time grows roughly like $D$ (its exponent above): $D$ networks, called one after
# another, each too small to keep the processor busy. MADE's time grows far more slowly. Its weights tell
# why it grows at all: the input layer has $128D$, the middle layer $128^2$, and the output layer $128 \cdot 2D$
# ($\mu$ and $\alpha$ for every coordinate). With the biases that makes
# $(128D + 128) + (128^2 + 128) + (2D \cdot 128 + 2D) = 386D + 16{,}640$ parameters, checked in the next cell,
# and one pass costs $384D + 128^2$ multiply-adds per point, one per weight. At small $D$ the middle layer
# dominates; at $D = 64$ the input and output layers together ($24{,}576$ weights) outweigh it
# ($16{,}384$). A whole density evaluation of one layer costs a little more than its MADE call: the last
# ratio above adds the elementwise part (the clamp, the exponential, the shift).
# The naive conditioner's $D$ networks have 64 first-layer weights per input and $4{,}354$ other
# parameters each: $64\,(D(D-1)/2 + 1) + 4{,}354\,D$ in all, growing faster than linearly.
# Once $D$ exceeds 129 the hidden layers must grow too, since every degree from 1 to $D - 1$ needs a
# hidden unit; one pass then costs more, but it is still one call.

# %% key="cost-formula"
expect_equal(tr("MADE parameters = 386 D + 16,640"), made_params, [386 * dim + 16_640 for dim in sizes])
expect_equal(
    tr("naive parameters = 64 (D(D-1)/2 + 1) + 4,354 D"),
    naive_params,
    [64 * (dim * (dim - 1) // 2 + 1) + 4_354 * dim for dim in sizes],
)

# %% [markdown] key="maf-intro"
# ## 4. MAF: a stack of MADE layers, with reordering in between
#
# One MADE gives one affine autoregressive layer: sampling $x_i = u_i e^{\alpha_i} + \mu_i$ with
# $(\mu_i, \alpha_i)$ from $x_{<i}$, density $u_i = (x_i - \mu_i)e^{-\alpha_i}$ in one pass with
# $\log|\det J| = -\sum_i \alpha_i$ (lesson 01). The library's `AffineAutoregressive(MADE(...), D)` is that
# layer, and `maf(D, layers, hidden_sizes, permutation)` stacks `layers` of them. Unlike a single `MADE`,
# `maf` starts the last layer of every MADE randomly, as PyTorch and most flow libraries do: trained by
# maximum likelihood, that fitted the point cloud of a word better than the identity start, and the other
# benchmark data sets about as well (`python -m benchmarks.autoregressive`; `zero_last_layer=True` gives
# the identity start). A single layer is weak:
# within it each conditional $p(x_i \mid x_{<i})$ is a Gaussian. Stacking helps only if the layers do
# different things, and that is what the permutation between them is for.
#
# Look at the first coordinate in the natural order. Its $\mu_1$ and $\alpha_1$ see no input at all: they
# are two learned constants. If every layer keeps the same order, $x_1$ goes through one constant affine
# map after another and stays **Gaussian**, whatever the data look like; and given $x_1$, every layer maps
# $x_2$ affinely again, so $x_2 \mid x_1$ stays Gaussian too. Reversing the order between layers lets each
# coordinate be the "later" one half of the time.
#
# A data set built to expose this: $x_2 \sim \mathcal N(0, 1)$ and $x_1 = \tfrac12 x_2^2 - \tfrac12 + 0.1\,\varepsilon$
# with $\varepsilon \sim \mathcal N(0,1)$: $x_1$ depends on $x_2$ through a parabola, its marginal is
# skewed, and $x_2 \mid x_1$ has two modes, $\pm\sqrt{2x_1 + 1}$. The true density is known, so its entropy
# is too. By the chain rule, $H(x_1, x_2) = H(x_2) + H(x_1 \mid x_2)$; $x_2$ is standard normal, and given
# $x_2$, $x_1$ is normal with standard deviation 0.1 whatever $x_2$ is, so
# $H = \tfrac12\log(2\pi e) + \tfrac12\log(2\pi e \cdot 0.1^2)$. A test set of 2,000 points estimates it by
# the oracle NLL, with a standard error that the cell prints too.

# %% key="parabola-code"
NOISE = 0.1


def parabola_sample(n: int) -> torch.Tensor:
    x2 = torch.randn(n, generator=generator)
    x1 = 0.5 * x2**2 - 0.5 + NOISE * torch.randn(n, generator=generator)
    return torch.stack([x1, x2], dim=1)  # (n, 2)


def log_normal(x: torch.Tensor, mean: torch.Tensor | float, variance: torch.Tensor | float) -> torch.Tensor:
    return -0.5 * (x - mean) ** 2 / variance - 0.5 * torch.log(2 * math.pi * torch.as_tensor(variance))


def parabola_log_prob(x: torch.Tensor) -> torch.Tensor:
    """The true log-density: log N(x2; 0, 1) + log N(x1; x2^2/2 - 1/2, 0.1^2)."""
    return log_normal(x[:, 1], 0.0, 1.0) + log_normal(x[:, 0], 0.5 * x[:, 1] ** 2 - 0.5, NOISE**2)


parabola_train, parabola_test = parabola_sample(10_000), parabola_sample(2_000)
parabola_entropy = 0.5 * math.log(2 * math.pi * math.e) + 0.5 * math.log(2 * math.pi * math.e * NOISE**2)
test_log_p = parabola_log_prob(parabola_test)
parabola_oracle = -test_log_p.mean().item()
parabola_se = (test_log_p.std() / math.sqrt(len(test_log_p))).item()
print_rows(
    [
        (tr("entropy of the data (nats)"), number(parabola_entropy, ".3f")),
        (
            tr("oracle NLL on the test set ± standard error (nats)"),
            f"{number(parabola_oracle, '.3f')} ± {number(parabola_se, '.3f')}",
        ),
    ]
)

# %% [markdown] key="parabola-predict"
# **Predict before you run.** We train two MAFs of four layers each on these points, one with
# `permutation="none"` (natural order in every layer, $x_1$ always first) and one with
# `permutation="reverse"`. What will the first one's density look like? How far above the entropy will
# its NLL be?

# %% key="parabola-train"
parabola_steps = budget(full=2500, fast=250)
parabola_models = {}
for permutation in ("none", "reverse"):
    model = Flow(maf(2, layers=4, hidden_sizes=(64, 64), permutation=permutation), dim=2)
    fit(model, parabola_train, steps=parabola_steps, lr=3e-3, schedule=cosine_schedule(parabola_steps))
    parabola_models[permutation] = model.cpu()

parabola_nll = {name: evaluate_nll(model, parabola_test) for name, model in parabola_models.items()}
for name, nll in parabola_nll.items():
    print(
        tr("permutation={name!r}: test NLL {nll}, gap to the oracle {gap:+.3f} nats").format(
            name=name, nll=nll, gap=nll.total - parabola_oracle
        )
    )
expect_at_most(tr("gap of the reversed MAF to the oracle (nats)"), parabola_nll["reverse"].total - parabola_oracle, 0.1)
cost_of_no_permutation = parabola_nll["none"].total - parabola_nll["reverse"].total
expect_at_least(tr("what leaving out the permutations costs (nats)"), cost_of_no_permutation, 0.5)

# %% key="parabola-plot"
labels = {"none": tr("no permutation"), "reverse": tr("reverse between layers")}
compare(
    {labels[name]: model for name, model in parabola_models.items()},
    parabola_test,
    nll={labels[name]: nll.per_dim for name, nll in parabola_nll.items()},
    limits=((-1.5, 4.5), (-3, 3)),
    title=tr("x1 = x2²/2 − 1/2 + noise: densities (top), samples (bottom)"),
    generator=generator,
)

# %% [markdown] key="parabola-explained"
# Without permutations the model cannot bend its density along the parabola. Its $x_1$ is a Gaussian, so
# it spills mass to the left of the parabola's tip, where there are no data; for each $x_1$ its $x_2$ is a single
# bump, so it fills the inside of the parabola with a smear between the two arms. The numbers agree. The
# oracle is the NLL of the true density on these same test points, so the true density itself has a gap
# of exactly 0, and a model close to it a gap near 0 (on a finite test set it can even come out a little
# negative). The standard error printed above measures something else: how far the oracle NLL may lie
# from the entropy. The MAF that reverses the order comes close to 0; the one without permutations is far
# off. The reversed layers model $x_2$ first and then
# $x_1 \mid x_2$, a Gaussian with mean $\tfrac12 x_2^2 - \tfrac12$: exactly the form of the data.
#
# Is the model without permutations only under-trained, or could no model of its kind do better? Its kind
# is: $x_1$ Gaussian, and $x_2$ given $x_1$ Gaussian, with a mean and a variance that may depend on $x_1$
# in any way. The best such model matches the moments. For $x_1$ that is $\mathcal N(0, 0.51)$, since
# $\mathbb E[x_1] = \tfrac12\mathbb E[x_2^2] - \tfrac12 = 0$ and
# $\operatorname{Var}[x_1] = \tfrac14\operatorname{Var}[x_2^2] + 0.1^2 = 0.51$. For $x_2 \mid x_1$ it is
# $\mathcal N\big(0, v(x_1)\big)$ with $v(x_1) = \mathbb E[x_2^2 \mid x_1]$ (the mean is 0 by symmetry),
# which the next cell computes on a grid of $x_2$ values for every test point.

# %% key="parabola-limit"
x2_grid = torch.linspace(-6, 6, 4001)  # (G,)
x1_test, x2_test = parabola_test[:, 0], parabola_test[:, 1]
log_weights = log_normal(x2_grid, 0.0, 1.0) + log_normal(x1_test[:, None], 0.5 * x2_grid**2 - 0.5, NOISE**2)  # (N, G)
v = (log_weights.softmax(dim=1) * x2_grid**2).sum(dim=1)  # E[x2^2 | x1] for every test point: (N,)
best_in_family = -(log_normal(x1_test, 0.0, 0.51) + log_normal(x2_test, 0.0, v)).mean().item()
print_rows(
    [
        (tr("best NLL with Gaussian x1 and Gaussian x2 | x1 (nats)"), number(best_in_family, ".3f")),
        (tr("the trained MAF without permutations (nats)"), number(parabola_nll["none"].total, ".3f")),
    ]
)
expect_at_most(
    tr("trained MAF without permutations minus that best NLL (nats)"), parabola_nll["none"].total - best_in_family, 0.05
)

# %% [markdown] key="parabola-limit-explained"
# The trained model without permutations is about as good as its kind allows: its test NLL is within a
# few hundredths of a nat of the best NLL of any model with a Gaussian $x_1$ and a Gaussian $x_2 \mid x_1$
# (the target above). Its failure is structural; more training would not help, reordering does.

# %% [markdown] key="moons-intro"
# ## 5. MAF on two moons and on the point cloud of a word
#
# Now two moons, the data set of lesson 00. We train a MAF of five layers with the order reversed between
# them, and compare its test NLL (nats for the 2-D point, both coordinates together) with the entropy of
# the data, estimated by the oracle NLL (the NLL of the true density on the test set). The full training
# takes 3,000 steps with a learning rate of $3 \cdot 10^{-3}$; fast mode takes 800 steps with
# $5 \cdot 10^{-3}$, enough to split the moons, not enough for the target.
#
# **Predict before you run.** Lesson 00's PReLU flow ended close to a single Gaussian. How close to the
# entropy do you expect five MADE layers to get?

# %% key="moons-train"
moons_steps = budget(full=3000, fast=800)
maf_moons = Flow(maf(2, layers=5, hidden_sizes=(64, 64), permutation="reverse"), dim=2)
moons_history = fit(
    maf_moons,
    moons.train,
    moons.test,
    steps=moons_steps,
    lr=by_mode(full=3e-3, fast=5e-3),
    schedule=cosine_schedule(moons_steps),
)
maf_moons = maf_moons.cpu()
moons_nll = evaluate_nll(maf_moons, moons.test)
print(tr("MAF test NLL:            {nll}").format(nll=moons_nll))
print(tr("oracle (data entropy):   {nll} ± {se:.3f}").format(nll=oracle, se=moons.oracle_nll_standard_error()))
print(tr("training took {seconds:.0f} s").format(seconds=moons_history.seconds))
expect_at_most(tr("MAF test NLL minus the entropy on two moons (nats)"), moons_nll.total - oracle.total, 0.08)

# %% key="moons-plot"
compare(
    {tr("MAF, 5 layers"): maf_moons},
    moons.test,
    nll={tr("MAF, 5 layers"): moons_nll.per_dim},
    title=tr("two moons: density (top), samples (bottom)"),
    generator=generator,
)

# %% [markdown] key="word-intro"
# The word cloud is harder: uniform density inside the letters, zero outside, sharp edges everywhere.
# The density of a flow is smooth and positive everywhere, so it can only approach the edges. We give it
# eight layers.

# %% key="word-train"
word = load("word", n_train=20_000, n_test=5_000, seed=0, text="MAF")
word_steps = budget(full=5000, fast=1000)
maf_word = Flow(maf(2, layers=8, hidden_sizes=(64, 64)), dim=2)
word_history = fit(maf_word, word.train, word.test, steps=word_steps, lr=5e-3, schedule=cosine_schedule(word_steps))
maf_word = maf_word.cpu()
word_nll = evaluate_nll(maf_word, word.test)
print(tr("MAF test NLL:            {nll}").format(nll=word_nll))
print(tr("oracle (data entropy):   {total:.3f} nats").format(total=word.oracle_nll()))
print(tr("gap to the oracle: {gap:.3f} nats").format(gap=word_nll.total - word.oracle_nll()))
print(tr("training took {seconds:.0f} s").format(seconds=word_history.seconds))

# %% key="word-plot"
compare(
    {tr("MAF, 8 layers"): maf_word},
    word.test,
    nll={tr("MAF, 8 layers"): word_nll.per_dim},
    title=tr("the MAF trained on the word: density (top), samples (bottom)"),
    generator=generator,
)

# %% [markdown] key="word-explained"
# The letters are recognisable, but joined: a flow cannot tear the Gaussian apart, it stays in one piece
# (lesson 00), so the flow draws bands of density from one letter to the next, and it blurs the sharp
# edges. Both cost likelihood; the gap to the oracle printed above is what they cost together. (After the
# fast-mode budget the letters are rougher and the gap larger.)

# %% [markdown] key="taffy-intro"
# ## 6. The taffy machine: one layer at a time
#
# How does the trained moons MAF turn a Gaussian into two moons? `plot_deformation` pushes noise points
# (coloured by their direction from the origin) and a square grid through the flow, and shows the points
# after each step. The five MADE layers alternate with four reversals (permutations), which just mirror
# the picture across the diagonal: nine steps in all.
#
# **Predict before you run.** Which layer do you think does the cutting into two moons: the first, the
# last, or all of them a little?

# %% key="taffy-plot"
plot_deformation(maf_moons, n_points=2000, title=tr("the moons MAF, step by step"), generator=generator)

# %% [markdown] key="taffy-animation-intro"
# The same as a film. `nfcourse.plotting.animate_layers` draws in-between frames on the straight line
# from one step's points to the next (they only help the eye; only the key frames show what a layer of
# the flow does) and returns a small HTML player that runs in the notebook, without a kernel and
# offline. Press ▶. The cell also prints the size the animation adds to the saved notebook.

# %% key="taffy-animation"
film = animate_layers(maf_moons, frames_per_layer=budget(full=4, fast=2), generator=generator)
display(film)
expect_at_most(tr("size of the animation in the notebook (kB)"), len(film.data) / 1e3, 1500)

# %% [markdown] key="taffy-explained"
# Each MADE layer shifts and stretches one coordinate by amounts that depend on the other: it can bend
# the cloud, pinch it, make one side thicker. After the full training, the first layers turn the round
# Gaussian into a thin, bent ribbon with a pinch in the middle, and the last layer bends that ribbon into
# the two moons. The reversals between the layers only mirror the picture, but they let the two
# coordinates take turns being the one that is moved.

# %% [markdown] key="summary"
# ## Summary
#
# - MADE makes one network autoregressive by masking its weights. Degrees: inputs $1, \dots, D$ in the chosen
#   order, hidden units $1, \dots, D-1$; masks $[m_h \ge m_\text{in}]$ for hidden layers and
#   $[m_\text{out} > m_h]$ for the output layer. The Jacobian of its outputs is strictly triangular in that
#   order: checked with autograd, for a natural and a random order. With `>=` in the output rule the
#   diagonal fills in, and maximum likelihood turns that into a reported NLL below the entropy.
# - One MADE pass replaces $D$ networks: the measured time grows roughly like $D$ for the naive
#   conditioner and much more slowly for MADE, whose parameter count, $386D + 16{,}640$, we checked.
# - MAF stacks MADE-based affine layers. Without permutations the first coordinate stays Gaussian and
#   $x_2 \mid x_1$ stays Gaussian; on the parabola data this costs the NLL gap printed above, and no model
#   of that kind can do much better.
# - With the order reversed between layers, MAF comes close to the entropy on two moons (after the full
#   training, within the target printed above) and draws a recognisable word; the layer-by-layer picture
#   shows the Gaussian stretched and bent step by step.

# %% [markdown] key="try-next"
# ## What to try next
#
# - In section 1, change the hidden rule in `masks_from_degrees` to `>` and look at the Jacobian picture of
#   section 2 again: which outputs lose all their inputs?
# - In section 3, time sampling too: `AffineAutoregressive(MADE(D), D).forward` needs $D$ passes. How does
#   it grow with $D$? (Lesson 03 turns this trade-off around.)
# - Train the parabola MAFs with `permutation="random"`, and with the data's coordinates swapped. Which
#   order does a single layer like best?
# - Change the number of layers of the moons MAF to 2 and to 10, or the hidden sizes to (16, 16). Which
#   matters more for the NLL gap?
# - Set `text=` to your own word. Which letters are hard for the flow?

# %% [markdown] key="references"
# ## References
#
# - M. Germain, K. Gregor, I. Murray, H. Larochelle. *MADE: Masked Autoencoder for Distribution
#   Estimation.* ICML 2015. [arXiv:1502.03509](https://arxiv.org/abs/1502.03509)
# - G. Papamakarios, T. Pavlakou, I. Murray. *Masked Autoregressive Flow for Density Estimation.*
#   NeurIPS 2017. [arXiv:1705.07057](https://arxiv.org/abs/1705.07057)
# - D. P. Kingma, T. Salimans, R. Jozefowicz, X. Chen, I. Sutskever, M. Welling. *Improved Variational
#   Inference with Inverse Autoregressive Flow.* NeurIPS 2016. [arXiv:1606.04934](https://arxiv.org/abs/1606.04934)
# - B. Uria, M.-A. Côté, K. Gregor, I. Murray, H. Larochelle. *Neural Autoregressive Distribution
#   Estimation.* JMLR 17(205), 2016. [arXiv:1605.02226](https://arxiv.org/abs/1605.02226)
# - G. Papamakarios, E. Nalisnick, D. J. Rezende, S. Mohamed, B. Lakshminarayanan. *Normalizing Flows
#   for Probabilistic Modeling and Inference.* JMLR 22(57), 2021. [arXiv:1912.02762](https://arxiv.org/abs/1912.02762)
