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
# # The comparison lab

# %% [markdown] key="goals"
# Lessons 02 to 07 built eight flows, each with a reason to exist. This lesson puts them side by side,
# with the same data, networks and budget, and measures what each one buys and what it costs. After this
# lesson you can:
#
# - read a comparison table of flows (test NLL against the data's entropy, training step, sampling and
#   density time) and say which differences come from the architecture and which from one short run;
# - name the Jacobian structure of each kind of layer (diagonal, triangular, block triangular, free-form)
#   and count what it costs for density, sampling and the log-det;
# - choose a flow for a use other than density estimation (the posterior or the prior of a VAE, a student
#   in distillation) from which of its directions is fast;
# - recompute a network's activations from its output instead of storing them, as reversible networks do,
#   and measure the round-off that this costs;
# - train any flow of the course on any 2-D data set with a few clicks and watch it learn.
#
# *Time: about 60 minutes.*

# %% key="setup-code"
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display
from matplotlib.colors import LogNorm

from nfcourse.bijectors import ElementwiseAffine, realnvp
from nfcourse.datasets import load
from nfcourse.i18n import number, tr
from nfcourse.jacobian import jacobian
from nfcourse.lab import FLOW_NAMES, TrainingLab, build_flow, measure_flow, network_passes
from nfcourse.plotting import compare, use_style
from nfcourse.runtime import budget, by_mode, expect_at_least, expect_at_most, expect_equal, seed_everything
from nfcourse.text import print_table
from nfcourse.timing import seconds_per_call

generator = seed_everything(0)  # one seed for the whole notebook; pass `generator` wherever we sample
use_style()  # the course's plot style, with a font for Japanese labels

# %% [markdown] key="table"
# ## 1. Every flow on the same footing
#
# `nfcourse.lab.build_flow(name, dim, depth)` builds each flow of the course with the settings its lesson
# taught, 5 layers (or blocks) whose networks have two hidden layers of 64 units. `measure_flow` trains it
# with lesson 00's `fit` (the same steps, batch size, learning rate and cosine schedule for all), then
# measures the test NLL minus the data's entropy (0 would be a perfect model; in nats per point, summed
# over both coordinates, where the lab of section 5 plots nats per dimension, half as much), the time of a
# training step (averaged over both data sets), and the time to draw 10,000 samples and to evaluate the
# density of 10,000 points (on the eight Gaussians, the fastest of 3 calls). We do this on two data sets
# of earlier lessons: the eight Gaussians (separate modes) and the two moons (curved, thin shapes). In full
# mode this cell takes about 4 minutes on two cores. (In fast mode the budget is a small fraction of the
# full one: the NLL columns then say little, the time columns are noisy, and the text below describes a
# full run.)

# %% key="table-code"
steps = budget(full=1500, fast=60)
datasets = {tr("eight Gaussians"): load("eight_gaussians"), tr("two moons"): load("moons")}
measurements = {
    data_name: {
        name: measure_flow(name, data, depth=5, steps=steps, lr=by_mode(full=2e-3, fast=5e-3)) for name in FLOW_NAMES
    }
    for data_name, data in datasets.items()
}
eight, moons = measurements.values()
print_table(
    [
        tr("flow"),
        tr("eight Gaussians: NLL minus entropy"),
        tr("two moons: NLL minus entropy"),
        tr("ms per training step"),
        tr("seconds for 10,000 samples"),
        tr("seconds for 10,000 densities"),
    ],
    [
        [
            name,
            number(eight[name].nll_gap, ".3f"),
            number(moons[name].nll_gap, ".3f"),
            number((eight[name].step_ms + moons[name].step_ms) / 2, ".1f"),
            number(eight[name].sample_seconds, ".3f"),
            number(eight[name].density_seconds, ".3f"),
        ]
        for name in FLOW_NAMES
    ],
)

# %% key="table-plot"
for data_name, data in datasets.items():
    figure = compare(
        {name.replace(" + ", "\n+ "): measurement.flow for name, measurement in measurements[data_name].items()},
        data.test,
        title=tr("{data}: density (top), samples (bottom)").format(data=data_name),
        generator=generator,
    )
    display(figure)  # a figure made in a loop is shown only when asked to

# %% key="table-targets"
residual = ["i-ResNet", "Residual Flow"]
best = {
    data_name: min(m.nll_gap for name, m in rows.items() if name not in residual)
    for data_name, rows in measurements.items()
}
expect_at_most(tr("eight Gaussians: best NLL minus entropy (nats)"), min(m.nll_gap for m in eight.values()), 0.35)
expect_at_least(tr("eight Gaussians: best NLL minus entropy (nats)"), min(m.nll_gap for m in eight.values()), 0.2)
expect_at_most(
    tr("two moons: worst NLL minus entropy of the autoregressive and coupling flows without NICE (nats)"),
    max(m.nll_gap for name, m in moons.items() if name not in [*residual, "NICE"]),
    0.12,
)
expect_at_least(
    tr("eight Gaussians: NICE NLL minus Real-NVP's (nats)"), eight["NICE"].nll_gap - eight["Real-NVP"].nll_gap, 0.2
)
expect_at_least(
    tr("eight Gaussians: i-ResNet NLL minus the Residual Flow's (nats)"),
    eight["i-ResNet"].nll_gap - eight["Residual Flow"].nll_gap,
    0.2,
)
expect_at_least(
    tr("two moons: best residual flow's NLL minus the best other flow's (nats)"),
    min(moons[name].nll_gap for name in residual) - best[tr("two moons")],
    0.2,
)
expect_at_least(
    tr("Residual Flow sampling time divided by Real-NVP's"),
    eight["Residual Flow"].sample_seconds / eight["Real-NVP"].sample_seconds,
    5.0,
)
expect_at_least(
    tr("Residual Flow training step divided by Real-NVP's"),
    eight["Residual Flow"].step_ms / eight["Real-NVP"].step_ms,
    1.5,
)

# %% [markdown] key="table-explained"
# What a full run shows. On the two moons the autoregressive and coupling flows end within about a tenth
# of a nat of the entropy (NICE a little further); on the eight Gaussians, whose modes are separated by
# empty space, none comes closer than a quarter of a nat at this budget. One run of one seed cannot rank
# flows that are close: over seeds, the benchmarks in the README find standard errors of a few hundredths
# on the moons and up to about a tenth on the eight Gaussians, where a single seed can end several tenths
# worse. Two rows of this table are probably such bad luck: MAF + BatchNorm far behind the MAF on the
# eight Gaussians, and the Residual Flow behind the i-ResNet on the moons. The larger differences have
# reasons we have met:
#
# - NICE, with only additive couplings and one diagonal scaling, cannot change volume locally, and it is
#   far behind Real-NVP on the eight Gaussians, where each mode must be squeezed.
# - The i-ResNet trains on a biased log-det and a smaller Lipschitz coefficient; the Residual Flow, with
#   as many blocks of the same size, ends far closer to the entropy on the eight Gaussians (lesson 07).
# - Both residual flows are far behind on the two moons, over seeds too (README). One built-in limit is
#   that a block changes the density only by a bounded factor: its log-det lies between
#   $D \log(1 - \mathrm{Lip}(g))$ and $D \log(1 + \mathrm{Lip}(g))$ (lesson 06). Whether that limit is
#   what holds them back on the moons you can explore in the lab of section 5, with more blocks.
#
# The costs differ by more than the NLLs. In 2-D every flow samples 10,000 points in a few hundredths of a
# second, except the residual ones: each of their blocks runs a fixed-point iteration, dozens of passes of
# its network, and a training step pays for the log-det's vector-Jacobian products. A MAF's sampling and
# an IAF's density need $D$ passes per layer, here 2: they take a few times as long as the other
# direction of the same flow, and at larger $D$ the gap grows. The next section counts the passes.

# %% [markdown] key="structures"
# ## 2. Jacobian structures side by side
#
# The cost of a flow is decided by the shape of its layers' Jacobians. Below are the Jacobians
# $\partial u / \partial x$ of the density direction of one layer of each kind, at a random point in
# $D = 6$ dimensions, computed by brute force (`nfcourse.jacobian.jacobian`, with automatic
# differentiation), the grey cells exactly zero:
#
# - **diagonal** (an elementwise affine map, ActNorm, BatchNorm): $\log|\det J| = \sum_i \log|J_{ii}|$;
# - **triangular** (an autoregressive layer, lesson 01): $u_i$ depends on $x_{\le i}$ only; the
#   determinant is the product of the diagonal;
# - **block triangular** (a coupling layer, lesson 04): the first half passes through unchanged
#   (the identity block), the second half depends on both halves, but only elementwise on its own half;
# - **free-form** (a residual block, lesson 06): every output depends on every input; the log-det needs a
#   $D \times D$ determinant or a stochastic estimate.
#
# A stack of triangular layers with the order reversed between them has a full Jacobian, shown last: the
# product of triangular matrices of opposite orientation. Its log-det is still cheap, because the log-dets
# of the layers add. For each picture the cell also checks the layer's own log-det against the brute-force
# `slogdet` of the matrix, in float64. (For the residual block this compares like with like: up to 8
# dimensions its density direction computes the exact determinant too. Its cheap way, the estimators of
# lessons 06 and 07, takes over above that and was checked there.)

# %% key="structures-code"
dim = 6
x = torch.randn(1, dim, generator=generator, dtype=torch.float64)  # a data point: we look at du/dx
diagonal = ElementwiseAffine(dim)
with torch.no_grad():
    diagonal.raw_alpha.normal_(0.0, 0.5, generator=generator)
layers = {
    tr("diagonal (elementwise)"): diagonal,
    tr("triangular (MAF layer)"): build_flow("MAF", dim, 1).bijector,
    tr("block triangular (coupling)"): build_flow("Real-NVP", dim, 1).bijector,
    tr("free-form (residual block)"): build_flow("Residual Flow", dim, 1).bijector,
    tr("3 MAF layers, reversed orders"): build_flow("MAF", dim, 3).bijector,
}
fig, axes = plt.subplots(1, len(layers), figsize=(12.0, 2.9), layout="constrained")
rows, differences = [], []
for ax, (name, layer) in zip(axes, layers.items(), strict=True):
    layer = layer.double().eval()
    matrix = jacobian(layer.inverse, x)[0]
    with torch.no_grad():
        cheap = layer.inverse(x)[1].item()
    brute = torch.linalg.slogdet(matrix).logabsdet.item()
    differences.append(abs(cheap - brute))
    rows.append([name, number(cheap, ".6f"), number(brute, ".6f"), number(abs(cheap - brute), ".1e")])
    ax.set_facecolor("0.8")  # masked cells show the background: the exact zeros
    ax.imshow(np.ma.masked_equal(matrix.abs().numpy(), 0.0), cmap="viridis", norm=LogNorm(1e-4, 10.0))
    ax.set_title(name, fontsize=9)
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_xlabel(tr("input x_j")), ax.set_ylabel(tr("output u_i"))
fig.colorbar(axes[-1].images[0], ax=axes, shrink=0.8, label=tr("|du_i / dx_j|"))
fig.suptitle(tr("|du_i / dx_j| of one layer of each kind, density direction (grey: exactly zero)"))
plt.show()
print_table([tr("layer"), tr("log-det of the layer"), tr("slogdet of its Jacobian"), tr("difference")], rows)
expect_at_most(
    tr("largest difference between a layer's log-det and slogdet, in units of 1e-12"),
    max(differences) * 1e12,
    100.0,
)

# %% [markdown] key="passes"
# What each structure costs is best counted, not timed: a pass of a layer's network evaluates all of its
# outputs at once, whatever the batch. `nfcourse.lab.network_passes(flow, run)` counts how many times each
# network of `flow` runs during `run()`. In $D = 16$ dimensions, with 5 layers:
#
# | structure | density $\log p(x)$ | sampling $x = f(u)$ | log-det |
# |---|---|---|---|
# | triangular, density direction (MAF) | 1 pass per layer | $D$ passes per layer (one coordinate at a time) | sum of $D$ numbers |
# | triangular, sampling direction (IAF) | $D$ passes per layer | 1 pass per layer | sum of $D$ numbers |
# | block triangular (Real-NVP, NICE) | 1 pass per layer | 1 pass per layer | sum of $D/2$ numbers (0 in NICE's couplings; its final scaling adds $D$ once) |
# | free-form (i-ResNet, Residual Flow) | 1 pass, plus the log-det's | one pass per fixed-point iteration | series of vector-Jacobian products, or $O(D^3)$ |
#
# The cell counts the passes and checks the table's formulas where it gives one.

# %% key="passes-code"
big = 16
x_big = torch.randn(512, big, generator=generator)
counted = {}
for name in FLOW_NAMES:
    flow = build_flow(name, big, 5).eval()
    with torch.no_grad():
        sampling = network_passes(flow, lambda flow=flow: flow.sample(512, generator=generator))
    density = network_passes(flow, lambda flow=flow: flow.log_prob(x_big))
    counted[name] = (density, sampling)
print_table(
    [tr("flow"), tr("passes per layer: density"), tr("passes per layer: sampling")],
    [[name, number(density, ".0f"), number(sampling, ".0f")] for name, (density, sampling) in counted.items()],
)
expect_equal(tr("MAF: 1 pass to evaluate, D passes to sample"), counted["MAF"], (1, big))
expect_equal(tr("IAF: D passes to evaluate, 1 pass to sample"), counted["IAF"], (big, 1))
expect_equal(tr("Real-NVP: 1 pass each way"), counted["Real-NVP"], (1, 1))

# %% [markdown] key="passes-explained"
# The triangular layers are cheap in one direction and $D$ times dearer in the other, and which direction
# is cheap is a choice: MAF and IAF are the same layers used the other way round. Coupling layers are cheap
# both ways, which is why the image models of the papers are built from them; the price is that each layer
# changes only half of the coordinates, elementwise, so they need more layers for the same flexibility.
# Residual blocks are free-form and the most flexible per layer, and their density is one pass plus the
# log-det's estimate. (Untrained, as here, their fixed-point iteration needs few passes; lesson 07 showed
# that trained blocks need dozens.) A residual flow's density counts 2 passes: one for $u = x + g(x)$ and
# one that the log-det estimator makes to build the graph of $g$; its vector-Jacobian products are backward
# passes through that graph, which the counter does not see, and they are the expensive part (a training
# step of the Residual Flow in the table of section 1).

# %% [markdown] key="uses"
# ## 3. Uses beyond maximum likelihood
#
# So far every flow was a density model, trained on data and scored on data: the density direction had
# to be fast. Other uses need the other direction.
#
# - **The posterior of a VAE.** A variational autoencoder (VAE) learns a decoder $p(x \mid z)$, which
#   turns a code $z$ into data, together with an encoder $q(z \mid x)$, which proposes codes for a data
#   point. Both are trained by maximizing, for every training example $x$, the average over
#   $z \sim q(z \mid x)$ of $\log p(x \mid z) + \log p(z) - \log q(z \mid x)$, a lower bound on
#   $\log p(x)$. Estimating it needs samples $z$ from the encoder *and* $\log q(z \mid x)$ of those same
#   samples. A flow as $q$ (its networks also given $x$) must therefore sample and score its own samples
#   cheaply: with `sample_and_log_prob`, the forward pass returns both (the log-det of the forward
#   direction comes with the samples). An IAF does this in one pass per layer; Kingma et al. introduced it
#   for exactly this purpose.
# - **The prior of a VAE**, or any density over codes $z$ that come from elsewhere: here the density of
#   given points is what is needed, the MAF's fast direction.
# - **Distillation** (lesson 03): a MAF teacher scores the samples of an IAF student, each flow used in its
#   fast direction; the result is a sampler as fast as the IAF and almost as good as the MAF.
#
# The cell times `sample_and_log_prob` for 1,000 points in $D = 16$.

# %% key="uses-code"
rows, timed = [], {}
for name in ["MAF", "IAF", "Real-NVP", "Residual Flow"]:
    flow = build_flow(name, big, 5).eval()
    with torch.no_grad():
        timed[name] = seconds_per_call(lambda flow=flow: flow.sample_and_log_prob(1000, generator=generator))
    rows.append([name, number(1e3 * timed[name], ".1f")])
print_table([tr("flow"), tr("ms for 1,000 samples with their log-density")], rows)
expect_at_least(tr("MAF time divided by IAF time, samples with their log-density"), timed["MAF"] / timed["IAF"], 4.0)

# %% [markdown] key="uses-explained"
# The IAF and the Real-NVP draw samples with their log-density in about the same time: both are one pass
# per layer in that direction. The MAF needs $D = 16$ passes per layer, and the Residual Flow a
# fixed-point iteration per block. For a VAE's posterior the choice is therefore between the IAF and a
# coupling flow; the MAF stays the natural choice for the prior, whose density is evaluated at codes that
# come from the encoder. The exercise sheet asks you to make this choice and prove it by counting passes.

# %% [markdown] key="reversible"
# ## 4. Reversible computation
#
# Training a deep network by backpropagation stores every layer's input for the backward pass: memory
# grows with depth. An invertible network need not store them: from the output it can recompute each
# layer's input by inverting the layers one after another, during the backward pass. Reversible residual
# networks (RevNets) are built from coupling layers for exactly this reason, and use the memory of a
# single layer at any depth.
#
# The price is arithmetic: each recomputed activation carries the round-off of all the inversions after
# it. Below, a Real-NVP of random (untrained) coupling layers on $D = 16$, with ActNorm between them
# (started on a batch, as in lesson 05), maps batches of 1,024 points to noise, the direction that
# training computes. We keep only the output, recompute every activation from it with the layers' forward
# maps, and compare with the activations stored on the way. We do this for 4 batches at several depths,
# in float32 and in float64, and print the worst error over the batches, the largest activation, the
# error relative to it, and the memory that all the stored activations but the output took (float32; the
# outputs of the ActNorm layers between the coupling layers are stored activations too).

# %% key="reversible-code"
batches = [torch.randn(1024, big, generator=generator) for _batch in range(4)]
depths = [2, 8, 32, 64]


def recompute_error(stack, x: torch.Tensor) -> tuple[float, float, int]:
    """(largest error of a recomputed activation, largest |activation|, bytes of all but the output)."""
    with torch.no_grad():
        stored = [x]  # the density direction, layer by layer, every activation kept
        for layer in reversed(stack.layers):
            stored.append(layer.inverse(stored[-1])[0])
        recomputed = [stored[-1]]  # only the output kept: the rest recomputed from it
        for layer in stack.layers:
            recomputed.append(layer.forward(recomputed[-1])[0])
    recomputed.reverse()
    error = max((a - b).abs().max().item() for a, b in zip(stored, recomputed, strict=True))
    largest = max(activation.abs().max().item() for activation in stored)
    return error, largest, sum(activation.numel() * activation.element_size() for activation in stored[:-1])


rows, errors, relative = [], {torch.float32: [], torch.float64: []}, []
for depth in depths:
    found = {}
    for dtype in errors:
        torch.manual_seed(0)
        stack = realnvp(big, depth, (64, 64), normalization="act").to(dtype)
        with torch.no_grad():
            stack.inverse(batches[0].to(dtype))  # in training mode: every ActNorm starts from a batch (lesson 05)
        stack.eval()
        found[dtype] = [recompute_error(stack, x.to(dtype)) for x in batches]
        errors[dtype].append(max(error for error, _largest, _bytes in found[dtype]))
    relative.append(max(error / largest for error, largest, _bytes in found[torch.float32]))
    rows.append(
        [
            str(depth),
            number(errors[torch.float32][-1], ".1e"),
            number(errors[torch.float64][-1], ".1e"),
            number(max(largest for _error, largest, _bytes in found[torch.float32]), ".0f"),
            number(relative[-1], ".1e"),
            number(found[torch.float32][0][2] / 2**20, ".1f"),
        ]
    )
print_table(
    [
        tr("coupling layers"),
        tr("largest error, float32"),
        tr("largest error, float64"),
        tr("largest |activation|"),
        tr("float32 error relative to it"),
        tr("MB of stored activations (float32)"),
    ],
    rows,
)
fig, ax = plt.subplots(figsize=(6.4, 3.4), layout="constrained")
for dtype, marker in [(torch.float32, "o-"), (torch.float64, "s-")]:
    ax.loglog(depths, errors[dtype], marker, label=str(dtype).removeprefix("torch."))
ax.loglog(
    depths, [errors[torch.float32][0] * depth / depths[0] for depth in depths], "k:", label=tr("proportional to depth")
)
ax.set_xlabel(tr("coupling layers"))
ax.set_ylabel(tr("largest error of a recomputed activation"))
ax.legend()
ax.set_title(tr("Recomputing activations from the output"))
plt.show()
expect_at_least(
    tr("float32 error at 64 coupling layers divided by the error at 2"),
    errors[torch.float32][-1] / errors[torch.float32][0],
    5.0,
)
expect_at_most(
    tr("largest float32 error relative to the largest activation, in units of 1e-6"), 1e6 * max(relative), 10.0
)
expect_at_most(
    tr("largest float64 error at 64 coupling layers, in units of 1e-12"), 1e12 * errors[torch.float64][-1], 1.0
)

# %% [markdown] key="reversible-explained"
# The error grows with depth, though more slowly than the dotted line (proportional to depth): each
# inversion adds its round-off, and a layer that stretches space amplifies what came before. Relative to the largest
# activation it stays within about ten times float32's own precision (about $10^{-7}$) on these batches,
# and in float64 it is negligible, while the memory of stored activations grows linearly with depth. That
# is a measurement on these layers, not a guarantee: a stack of many more random layers can stretch some
# points enormously, and then the recomputation loses them (try `depths = [128]`; a trained flow stays far
# from that, because stretching the data so far would cost it likelihood). Reversibility needs an inverse that is cheap and well conditioned; coupling layers give both. A
# residual block's inverse is a fixed-point iteration, accurate only to its tolerance and dozens of passes
# long, which is why the Residual Flow paper keeps the activations and saves memory elsewhere (lesson 07's
# Neumann gradient).

# %% [markdown] key="lab"
# ## 5. The lab: pick a flow and watch it learn
#
# Choose a flow, a data set and a depth, then press **Train**: the density and the training curve are
# redrawn as `fit` trains (every 100 steps), with the data's entropy as the line to reach. The widgets need
# a running notebook. The cell after them does what the button does, with the choices it sets, and shows
# the last picture below itself too, so that it can also be seen on a static page of the course.

# %% key="lab-code"
lab = TrainingLab(steps=budget(full=1000, fast=100))
lab.view

# %% key="lab-run"
lab.flow.value, lab.data.value, lab.depth.value = "Real-NVP", "moons", 4
lab.train()
flow, history = lab.result
expect_at_most(
    tr("lab run: last training NLL per dimension minus the first"), history.train_nll[-1] - history.train_nll[0], 0.0
)
lab.last_figure

# %% [markdown] key="lab-try"
# Things to try: a NICE on the rings (where does it fail, and why can it not change volume locally?); a MAF
# of depth 1 against depth 8 on the checkerboard; the Residual Flow on the moons (watch how much longer each
# redraw takes). Each run takes seconds to a minute on a laptop.

# %% [markdown] key="summary"
# ## Summary
#
# - At the same budget the good flows of this course end close to each other in NLL on 2-D data; one run
#   rarely separates them, the architecture's built-in limits (NICE's volume, the i-ResNet's biased loss)
#   do. The residual flows lag far behind on the two moons at this budget.
# - Costs differ by far more than quality. Triangular layers are fast in one direction and $D$ times
#   slower in the other; coupling layers are fast in both; residual blocks pay with a fixed-point iteration
#   to sample and an estimated log-det to train.
# - Choose the direction for the use: density of given points (MAF, a VAE prior), samples with their
#   density (IAF, a VAE posterior, a distilled student), both (coupling).
# - Invertibility lets a network recompute its activations from its output instead of storing them, at a
#   small cost in round-off.

# %% [markdown] key="try-next"
# ## What to try next
#
# - In section 1, set `depth=2` or `depth=10`: which flows gain most from depth?
# - In section 4, replace `realnvp` by `nice` (`from nfcourse.bijectors import nice`), or train the stack
#   a little first: does the error change?
# - For comparisons over several seeds, install the benchmarks' extra packages (`pip install -e
#   ".[benchmark]"`) and run `python -m benchmarks.coupling` or `python -m benchmarks.residual` (each takes
#   about 20 minutes; the README lists their results).
#
# The exercise sheet asks you to tell Jacobian structures apart and compute their log-det the cheap way,
# to choose a flow for a VAE's posterior and prove the choice by counting passes, and to recompute
# activations from a network's output.

# %% [markdown] key="references"
# ## References
#
# - D. P. Kingma, T. Salimans, R. Jozefowicz, X. Chen, I. Sutskever, M. Welling. *Improved Variational
#   Inference with Inverse Autoregressive Flow.* NeurIPS 2016. [arXiv:1606.04934](https://arxiv.org/abs/1606.04934)
# - A. N. Gomez, M. Ren, R. Urtasun, R. B. Grosse. *The Reversible Residual Network: Backpropagation Without
#   Storing Activations.* NeurIPS 2017. [arXiv:1707.04585](https://arxiv.org/abs/1707.04585)
# - G. Papamakarios, E. Nalisnick, D. J. Rezende, S. Mohamed, B. Lakshminarayanan. *Normalizing Flows for
#   Probabilistic Modeling and Inference.* JMLR 2021. [arXiv:1912.02762](https://arxiv.org/abs/1912.02762)
# - A. van den Oord et al. *Parallel WaveNet: Fast High-Fidelity Speech Synthesis.* ICML 2018.
#   [arXiv:1711.10433](https://arxiv.org/abs/1711.10433)
