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
# Lesson 01 wrote an autoregressive layer with one network per coordinate: correct, but $D$ networks and
# $D$ calls for one density evaluation. This lesson puts all of them into a single network, and stacks the
# result into a flow. After it you can:
#
# - give every unit of a network a degree and build the two mask rules that make it autoregressive;
# - check the autoregressive property yourself, by computing the Jacobian of the outputs with autograd;
# - measure what one masked pass saves against $D$ separate networks as $D$ grows;
# - explain why a MAF reorders the coordinates between its layers, and show what goes wrong without it;
# - train a MAF on two moons and on a word, compare its NLL with the entropy of the data, and watch the
#   Gaussian being stretched and folded layer by layer.
#
# *Time: about 60 minutes.*

# %% key="setup-code"
import math
from itertools import pairwise

import matplotlib.pyplot as plt
import torch
from IPython.display import display
from torch import nn

from nfcourse.bijectors import maf
from nfcourse.conditioners import MADE, NaiveConditioner, made_masks
from nfcourse.datasets import load
from nfcourse.flow import Flow
from nfcourse.i18n import tr
from nfcourse.jacobian import jacobian
from nfcourse.plotting import animate_layers, compare, plot_deformation, plot_scaling
from nfcourse.runtime import budget, expect_at_most, seed_everything
from nfcourse.timing import seconds_per_call
from nfcourse.training import cosine_schedule, evaluate_nll, evaluate_oracle, fit

generator = seed_everything(0)  # one seed for the whole notebook; pass `generator` wherever we sample

# %% [markdown] key="degrees"
# ## 1. One network, many conditionals: degrees
#
# An affine autoregressive layer needs, for each coordinate $i$, a shift $\mu_i$ and a log-scale
# $\alpha_i$ that depend only on the coordinates before $i$. An ordinary fully connected network with $D$
# inputs and $2D$ outputs would let every output see every input. MADE (Germain et al., 2015) keeps the
# network and cuts connections: it multiplies each weight matrix by a fixed 0/1 mask.
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
# A path from input $j$ to output $i$ must pass hidden units with $m(j) \le m_h \le \dots < m(i)$, so it
# exists only if $m(j) < m(i)$: output $i$ sees exactly the inputs that come before it. The *strict*
# inequality sits in the output rule, where the distinction matters: output $i$ must not see input $i$.
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
# The claim is that $\partial\,\text{output}_i / \partial x_j = 0$ whenever $m(j) \ge m(i)$. Autograd gives
# the whole matrix $J_{ij} = \partial\,\text{output}_i / \partial x_j$; we average $|J_{ij}|$ over 200
# random points, so that an entry is zero only if it is zero everywhere, not just at one point where a
# ReLU happens to be off. In the natural order the matrix must be *strictly lower triangular*. In a
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
    ax.set_xlabel(tr("input j"))
    ax.set_ylabel(tr("output i"))
    ax.set_xticks(range(D))
    ax.set_yticks(range(D))
ticks = [str(int(k) + 1) for k in by_degree]
axes[2].set_xticklabels(ticks)
axes[2].set_yticklabels(ticks)
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
# Exactly $D(D-1)/2 = 10$ entries are nonzero, all of them allowed, and every forbidden entry is exactly 0,
# not merely small: the masks remove the paths, so no rounding can bring them back. The random order's raw
# matrix has its zeros scattered, yet sorting the coordinates by degree gives the same strict triangle:
# the order is a choice, the structure is the same.
#
# Now change one character: build the output mask with `>=` instead of `>` and the diagonal fills in
# (output $i$ sees $x_i$). Such a layer is no longer a bijector with a log-det of $-\sum_i \alpha_i$, and
# training it by maximum likelihood "cheats" by copying $x_i$. The exercise sheet's self-check names this
# mistake.

# %% [markdown] key="library-made"
# **The library version is `nfcourse.conditioners.MADE`.** It does exactly this (with `made_masks`,
# `MaskedLinear` and the same degree rules), plus: any number of hidden layers, `outputs` numbers per
# coordinate laid out as a tensor of shape `(batch, outputs, D)` (2 for $\mu$ and $\alpha$), the orders
# `"natural"`, `"reversed"`, `"random"` or a list of degrees, and a last layer that starts at zero, so a
# fresh layer is the identity map. From here on we use it. First, the library's masks are ours, and its
# Jacobian, for both $\mu$ and $\alpha$, has the same structure (after giving the zero last layer random
# weights, in float64 as the course's `nfcourse.jacobian.jacobian` wants):

# %% key="library-made-code"
library_masks = made_masks(random_order, [H, H], outputs=1)
print(
    tr("same masks as ours:"),
    all(torch.equal(a, b) for a, b in zip(library_masks, masks_from_degrees(random_order, [H, H]), strict=True)),
)

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

# %% [markdown] key="cost-intro"
# ## 3. What one pass saves: MADE against D networks
#
# Lesson 01's `NaiveConditioner` runs $D$ small networks, the $i$-th reading $x_{<i}$. For the same job
# MADE runs one network. Below we time one conditioner call on a batch of 1,024 points, the whole cost of
# a density evaluation of one layer (the affine part is negligible), for $D$ from 2 to 64, and count the
# parameters. Each naive network has hidden layers of 64 units; MADE has two hidden layers of 128 units
# (enough for degrees up to 127). The times come from `seconds_per_call` (median of
# 5 runs after a warm-up).
#
# **Predict before you run.** How should the two times grow with $D$ on a log-log plot? Which slope do you
# expect for the naive conditioner, and which for MADE?

# %% key="cost-code"
sizes = [2, 4, 8, 16, 32, 64]
batch = torch.randn(1024, max(sizes), generator=generator)
made_seconds, naive_seconds, made_params, naive_params = [], [], [], []
for dim in sizes:
    x_batch = batch[:, :dim]
    made_net, naive_net = MADE(dim, hidden_sizes=(128, 128)), NaiveConditioner(dim, hidden=64)
    made_seconds.append(seconds_per_call(lambda net=made_net, x=x_batch: net(x)))
    naive_seconds.append(seconds_per_call(lambda net=naive_net, x=x_batch: net(x)))
    made_params.append(sum(p.numel() for p in made_net.parameters()))
    naive_params.append(sum(p.numel() for p in naive_net.parameters()))

print(tr("   D | MADE ms | D nets ms | ratio | MADE params | D nets params"))
for row in zip(sizes, made_seconds, naive_seconds, made_params, naive_params, strict=True):
    dim, t_made, t_naive, p_made, p_naive = row
    print(
        f"{dim:4d} | {1e3 * t_made:7.2f} | {1e3 * t_naive:9.2f} | {t_naive / t_made:5.1f} | {p_made:11,d} | {p_naive:13,d}"
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
# The naive conditioner's time grows like $D$: $D$ networks, called one after another, each too small to
# keep the processor busy. MADE's time barely moves over this range: its cost is dominated by the
# $128 \times 128$ hidden layer, and the input and output layers, which grow with $D$, are small beside
# it. (At some $D$ the hidden layers must grow too, since they need at least $D - 1$ units; MADE then grows
# like the width of one network, still with a single call.) The parameter counts tell the same story:
# $D$ copies of a network against one network whose first and last layers grow with $D$.

# %% [markdown] key="maf-intro"
# ## 4. MAF: a stack of MADE layers, with reordering in between
#
# One MADE gives one affine autoregressive layer: sampling $x_i = u_i e^{\alpha_i} + \mu_i$ with
# $(\mu_i, \alpha_i)$ from $x_{<i}$, density $u_i = (x_i - \mu_i)e^{-\alpha_i}$ in one pass with
# $\log|\det J| = -\sum_i \alpha_i$ (lesson 01). The library's `AffineAutoregressive(MADE(...), D)` is that
# layer, and `maf(D, layers, hidden_sizes, permutation)` stacks `layers` of them. A single layer is weak:
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
# is too: $H = \tfrac12\log(2\pi e) + \tfrac12\log(2\pi e \cdot 0.1^2)$.

# %% key="parabola-code"
NOISE = 0.1


def parabola_sample(n: int) -> torch.Tensor:
    x2 = torch.randn(n, generator=generator)
    x1 = 0.5 * x2**2 - 0.5 + NOISE * torch.randn(n, generator=generator)
    return torch.stack([x1, x2], dim=1)  # (n, 2)


parabola_train, parabola_test = parabola_sample(10_000), parabola_sample(2_000)
parabola_entropy = 0.5 * math.log(2 * math.pi * math.e) + 0.5 * math.log(2 * math.pi * math.e * NOISE**2)
print(tr("entropy of the data: {h:.3f} nats").format(h=parabola_entropy))

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
        tr("permutation={name!r}: test NLL {nll}, {gap:.3f} nats above the entropy").format(
            name=name, nll=nll, gap=nll.total - parabola_entropy
        )
    )
gap_between = parabola_nll["none"].total - parabola_nll["reverse"].total
print(tr("leaving out the permutations costs {gap:.3f} nats per point").format(gap=gap_between))
expect_at_most(tr("test NLL with reversal minus test NLL without permutations (nats)"), -gap_between, -0.5)

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
# bump, so it fills the inside of the parabola with a smear between the two arms. The numbers agree:
# the NLL gap printed above is large compared with that of the MAF that reverses the order, which fits the
# parabola closely. The reversed layers model $x_2$ first and then $x_1 \mid x_2$, a Gaussian with mean
# $\tfrac12 x_2^2 - \tfrac12$: exactly the form of the data.

# %% [markdown] key="moons-intro"
# ## 5. MAF on two moons and on a word
#
# Now the real test: two moons, the data set lesson 00's flow could not split. We train a MAF of five
# layers with reversal in between, and compare its test NLL (nats for the 2-D point, both coordinates
# together) with the entropy of the data, estimated by the oracle NLL (the true density on the test set).
#
# **Predict before you run.** Lesson 00's PReLU flow ended close to a single Gaussian. How close to the
# entropy do you expect five MADE layers to get?

# %% key="moons-train"
moons = load("moons", n_train=20_000, n_test=5_000, seed=0)
moons_steps = budget(full=3000, fast=300)
maf_moons = Flow(maf(2, layers=5, hidden_sizes=(64, 64)), dim=2)
moons_history = fit(
    maf_moons, moons.train, moons.test, steps=moons_steps, lr=3e-3, schedule=cosine_schedule(moons_steps)
)
maf_moons = maf_moons.cpu()
moons_nll = evaluate_nll(maf_moons, moons.test)
oracle = evaluate_oracle(moons)
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
# A flow is smooth and positive everywhere, so it can only approach the edges, and it needs more layers.

# %% key="word-train"
word = load("word", n_train=20_000, n_test=5_000, seed=0, text="MAF")
word_steps = budget(full=5000, fast=300)
maf_word = Flow(maf(2, layers=8, hidden_sizes=(128, 128)), dim=2)
word_history = fit(maf_word, word.train, word.test, steps=word_steps, lr=2e-3, schedule=cosine_schedule(word_steps))
maf_word = maf_word.cpu()
word_nll = evaluate_nll(maf_word, word.test)
print(tr("MAF test NLL:            {nll}").format(nll=word_nll))
print(tr("oracle (data entropy):   {total:.3f} nats").format(total=word.oracle_nll()))
print(tr("training took {seconds:.0f} s").format(seconds=word_history.seconds))

# %% key="word-plot"
compare(
    {tr("MAF, 8 layers"): maf_word},
    word.test,
    nll={tr("MAF, 8 layers"): word_nll.per_dim},
    title=tr("the word MAF: density (top), samples (bottom)"),
    generator=generator,
)

# %% [markdown] key="word-explained"
# The letters are recognisable, but joined: the flow keeps the Gaussian in one piece (lesson 00), so it
# draws bands of density from one letter to the next, and it blurs the sharp edges. Both cost likelihood,
# and they make up the gap to the oracle printed above.

# %% [markdown] key="taffy-intro"
# ## 6. The taffy machine: one layer at a time
#
# How does the trained moons MAF turn a Gaussian into two moons? `plot_deformation` pushes noise points
# (coloured by their direction from the origin) and a square grid through the layers, and shows the
# points after each one: MADE layers alternate with the reversal (`Permutation`), which just mirrors the
# picture across the diagonal.
#
# **Predict before you run.** Which layer do you think does the cutting into two moons: the first, the
# last, or all of them a little?

# %% key="taffy-plot"
plot_deformation(maf_moons, n_points=2000, title=tr("the moons MAF, layer by layer"), generator=generator)

# %% [markdown] key="taffy-animation-intro"
# The same as a film. `nfcourse.plotting.animate_layers` draws in-between frames on the straight line
# from one layer's points to the next (the in-between frames are for the eye; only the key frames are
# layers of the flow) and returns a small HTML player that runs in the notebook, without a kernel and
# offline. Press ▶. The cell also prints the size the animation adds to the saved notebook.

# %% key="taffy-animation"
film = animate_layers(maf_moons, frames_per_layer=budget(full=6, fast=2), generator=generator)
display(film)
expect_at_most(tr("size of the animation in the notebook (kB)"), len(film.data) / 1e3, 1500)

# %% [markdown] key="taffy-explained"
# Each MADE layer shifts and stretches one coordinate by amounts that depend on the other: it can bend
# the cloud, pinch it, make one side thicker. The first layers turn the round Gaussian into a thin, bent
# ribbon with a pinch in the middle; the last layer bends that ribbon into the two moons. The reversals
# between the layers only mirror the picture, but they let the two coordinates take turns being the one
# that is moved.

# %% [markdown] key="summary"
# ## Summary
#
# - MADE makes one network autoregressive by masking its weights. Degrees: inputs $1..D$ in the chosen
#   order, hidden units $1..D-1$; masks $[m_h \ge m_\text{in}]$ for hidden layers and $[m_\text{out} > m_h]$
#   for the output layer. The Jacobian of its outputs is strictly triangular in that order: checked with
#   autograd, for a natural and a random order.
# - One MADE pass replaces $D$ networks: the time measured above grows like $D$ for the naive conditioner
#   and stays almost flat for MADE over $D = 2..64$.
# - MAF stacks MADE-based affine layers. Without permutations the first coordinate stays Gaussian and
#   $x_2 \mid x_1$ stays Gaussian; on the parabola data this costs the NLL gap printed above.
# - With reversal between layers, MAF meets the target printed above, close to the entropy, on two moons and draws
#   a recognisable word; the layer-by-layer picture shows the Gaussian stretched and folded step by step.

# %% [markdown] key="try-next"
# ## What to try next
#
# - In section 2, write the output rule with `>=` and look at the Jacobian picture again. Then the hidden
#   rule with `>`: which outputs lose all their inputs?
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
