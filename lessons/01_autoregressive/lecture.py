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
# # Autoregressive models are normalizing flows

# %% [markdown] key="goals"
# The last lesson ended with a wish: layers whose stretch factor is computed from the data by a network,
# while the log-det stays cheap. Autoregressive models give exactly that. After this lesson you can:
#
# - write the chain-rule factorization of a density with Gaussian conditionals, and read its sampling
#   procedure as a change of variables $x = f(u)$ of standard normal noise;
# - implement the sampling recursion and the one-pass density computation of an affine autoregressive
#   layer in plain PyTorch, and check the log-det against a brute-force Jacobian;
# - explain why the Jacobian is triangular, why the networks inside never need to be inverted, and why
#   the order of the coordinates matters;
# - train the naive model, one network per coordinate, on two moons, and measure how its size and its
#   running time grow with the dimension $D$.
#
# *Time: about 60 minutes.*

# %% key="setup-code"

import matplotlib.pyplot as plt
import torch

from nfcourse.bijectors import AffineAutoregressive, Compose, reverse
from nfcourse.conditioners import NaiveConditioner
from nfcourse.datasets import load
from nfcourse.flow import Flow
from nfcourse.i18n import number, tr
from nfcourse.jacobian import brute_force_logdet, jacobian
from nfcourse.plotting import compare, plot_scaling
from nfcourse.runtime import budget, expect_at_least, expect_at_most, expect_equal, seed_everything
from nfcourse.text import print_rows, print_table
from nfcourse.timing import growth_exponent, seconds_in_turns
from nfcourse.training import cosine_schedule, evaluate_nll, evaluate_oracle, fit

generator = seed_everything(0)  # one seed for the whole notebook; pass `generator` wherever we sample


# %% [markdown] key="chain-rule"
# ## 1. The chain rule as a flow
#
# Any density on $\mathbb R^D$ can be split into one-dimensional conditionals, one coordinate at a time:
#
# $$p(x) = p(x_1)\, p(x_2 \mid x_1)\, p(x_3 \mid x_1, x_2) \cdots = \prod_{i=1}^D p(x_i \mid x_{<i}).$$
#
# This is the chain rule of probability, $p(a, b) = p(a)\,p(b \mid a)$ applied again and again, so it holds
# for every density. An *autoregressive model*
# chooses a simple family for each conditional and lets a network pick its parameters from the coordinates
# that come before. The simplest choice is a Gaussian whose mean $\mu_i$ and log standard deviation
# $\alpha_i$ are functions of $x_{<i}$:
#
# $$p(x_i \mid x_{<i}) = \mathcal N\big(x_i;\ \mu_i(x_{<i}),\ e^{2\alpha_i(x_{<i})}\big).$$
#
# **Sampling** draws $x_1$, then $x_2$ given $x_1$, and so on. Drawing from $\mathcal N(\mu_i, e^{2\alpha_i})$
# is the same as drawing $u_i \sim \mathcal N(0, 1)$ and setting
#
# $$x_i = u_i \exp(\alpha_i) + \mu_i, \qquad (\mu_i, \alpha_i) = c_i(x_1, \dots, x_{i-1}).$$
#
# So a sample is a deterministic function of a vector of standard normal noise: $x = f(u)$ with
# $u \sim \mathcal N(0, I)$. That is a transformed distribution, a normalizing flow.
#
# **Density.** Given all of $x$, every $\mu_i$ and $\alpha_i$ can be computed at once, because their
# inputs are known. The noise comes back in **one parallel pass**:
#
# $$u_i = (x_i - \mu_i)\exp(-\alpha_i).$$
#
# The Jacobian $\partial u_i / \partial x_j$ is zero for $j > i$ ($u_i$ does not depend on later coordinates),
# and its diagonal is $\exp(-\alpha_i)$ ($\mu_i$ and $\alpha_i$ do not depend on $x_i$). A triangular
# matrix has its diagonal's product as determinant, so
#
# $$\log\lvert\det J_{f^{-1}}(x)\rvert = -\sum_{i=1}^D \alpha_i, \qquad
# \log p(x) = \log\mathcal N(u; 0, I) - \sum_{i=1}^D \alpha_i .$$
#
# Nothing here asks to invert the networks $c_i$: they are only ever evaluated. They can use ReLUs and
# throw away information; a network may map any number of inputs to its two outputs, even when many
# inputs give the same outputs.

# %% [markdown] key="scratch-intro"
# ## 2. From scratch, in plain PyTorch
#
# We start with a tiny hand-made conditioner for $D = 3$. A matrix with zeros on and above the diagonal
# makes entry $i$ of $A x$ depend only on $x_{<i}$; a ReLU and two elementwise maps then make $\mu$ and
# $\alpha$ from it. No coordinate comes before coordinate 1, so its $\mu_1$ and $\alpha_1$ are constants. (The $\tanh$
# only keeps the random $\alpha$ small here; it is not part of the method.)

# %% key="tiny-conditioner"
D = 3
mask = torch.tril(torch.ones(D, D), diagonal=-1)  # mask[i, j] = 1 only for j < i
A = torch.randn(D, D, generator=generator) * mask
w_mu, b_mu = torch.randn(D, generator=generator), torch.randn(D, generator=generator)
w_alpha, b_alpha = torch.randn(D, generator=generator), 0.5 * torch.randn(D, generator=generator)


def tiny_conditioner(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mu, alpha), each (batch, D); column i depends only on x[:, :i]."""
    h = torch.relu(x @ A.T.to(x.dtype))  # (batch, D): h_i depends on x_<i through row i of A
    mu = w_mu.to(x.dtype) * h + b_mu.to(x.dtype)
    alpha = torch.tanh(w_alpha.to(x.dtype) * h + b_alpha.to(x.dtype))  # a bounded log-scale
    return mu, alpha


print(mask)

# %% [markdown] key="scratch-formulas"
# Sampling is the recursion $x_i = u_i \exp(\alpha_i) + \mu_i$. We start from $x = 0$ and fill in one
# coordinate per pass: after pass $i$, coordinates $1, \dots, i$ are final, so the conditioner's
# columns up to $i + 1$ are right in the next pass. $D$ passes in all; the $\alpha$ of the last pass is
# already final in every column, because column $i$ depends only on $x_{<i}$. The density direction is
# one pass, $u = (x - \mu)\exp(-\alpha)$, with log-det $-\sum_i \alpha_i$; the sampling direction has
# $+\sum_i \alpha_i$.


# %% key="scratch-code"
def sample_recursion(u: torch.Tensor, conditioner) -> tuple[torch.Tensor, torch.Tensor]:
    """Noise to data, x_i = u_i exp(alpha_i) + mu_i, one coordinate per conditioner pass (D passes)."""
    x = torch.zeros_like(u)
    for i in range(u.shape[1]):
        mu, alpha = conditioner(x)  # columns up to i are computed from final coordinates
        x[:, i] = u[:, i] * torch.exp(alpha[:, i]) + mu[:, i]
    return x, alpha.sum(dim=1)  # the last pass saw x_1..x_(D-1) final: every alpha_i is final


def density_pass(x: torch.Tensor, conditioner) -> tuple[torch.Tensor, torch.Tensor]:
    """Data to noise in one pass: u = (x - mu) exp(-alpha), log-det -sum(alpha)."""
    mu, alpha = conditioner(x)
    return (x - mu) * torch.exp(-alpha), -alpha.sum(dim=1)


# %% [markdown] key="scratch-check-intro"
# Three checks, in `float64`: the density pass undoes sampling; both log-dets agree with
# `nfcourse.jacobian.brute_force_logdet`, which builds the full Jacobian with autograd and takes its
# determinant (it knows nothing about triangles); and the forward and inverse log-dets cancel.

# %% key="scratch-check"
u = torch.randn(500, D, generator=generator, dtype=torch.float64)
x, forward_logdet = sample_recursion(u, tiny_conditioner)
u_back, inverse_logdet = density_pass(x, tiny_conditioner)
forward_brute = brute_force_logdet(lambda v: sample_recursion(v, tiny_conditioner), u)
inverse_brute = brute_force_logdet(lambda v: density_pass(v, tiny_conditioner), x)
print_rows(
    [
        (tr("round trip, max |u - inverse(forward(u))|"), (u - u_back).abs().max().item()),
        (tr("forward log-det vs brute force, max difference"), (forward_logdet - forward_brute).abs().max().item()),
        (tr("inverse log-det vs brute force, max difference"), (inverse_logdet - inverse_brute).abs().max().item()),
        (tr("forward + inverse log-det, max"), (forward_logdet + inverse_logdet).abs().max().item()),
    ],
    spec=".2e",
)

# %% [markdown] key="scratch-calls-intro"
# How many conditioner calls does each direction take? A counter around the conditioner tells:

# %% key="scratch-calls"
calls = {"n": 0}


def counting_conditioner(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    calls["n"] += 1
    return tiny_conditioner(x)


for name, direction in ((tr("sampling"), sample_recursion), (tr("density evaluation"), density_pass)):
    calls["n"] = 0
    direction(u, counting_conditioner)
    print(tr("conditioner calls for {name}: {calls} (D = {dim})").format(name=name, calls=calls["n"], dim=D))

# %% [markdown] key="jacobian-predict"
# **Predict before you run.** Below is the Jacobian $\partial u_i / \partial x_j$ of the density pass at a
# few points, for a larger example with $D = 8$ and the same kind of conditioner. Which entries will be
# exactly zero? Which ones are always positive?

# %% key="jacobian-picture"
D_big = 8
mask_big = torch.tril(torch.ones(D_big, D_big), diagonal=-1)
W_big = torch.randn(D_big, D_big, generator=generator, dtype=torch.float64) * mask_big


def conditioner_big(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    h = torch.relu(x @ W_big.T)
    return torch.sin(h), torch.tanh(h - 0.5)


points = torch.randn(3, D_big, generator=generator, dtype=torch.float64)
J = jacobian(lambda v: density_pass(v, conditioner_big), points)  # (3, D, D)
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), layout="constrained")
limit = J.abs().max().item()
for k, ax in enumerate(axes):
    image = ax.imshow(J[k].numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(tr("point {k}").format(k=k + 1))
    ax.set_xlabel(tr("input $x_j$"))
    ax.set_ylabel(tr("output $u_i$"))
    ax.set_xticks(range(D_big), range(1, D_big + 1))  # coordinates are numbered from 1, as in the text
    ax.set_yticks(range(D_big), range(1, D_big + 1))
fig.colorbar(image, ax=axes, shrink=0.8)
fig.suptitle(tr("Jacobian of the density pass: zero above the diagonal"))
plt.show()
upper = torch.triu(torch.ones(D_big, D_big, dtype=torch.bool), diagonal=1)
print(tr("largest |entry| above the diagonal: {value:.1e}").format(value=J[:, upper].abs().max().item()))
print(
    tr("diagonal equals exp(-alpha): {ok}").format(
        ok=bool(torch.allclose(torch.diagonal(J, dim1=1, dim2=2), torch.exp(-conditioner_big(points)[1])))
    )
)

# %% [markdown] key="jacobian-explained"
# Everything above the diagonal is exactly zero, and the diagonal is $\exp(-\alpha_i) > 0$. Below the
# diagonal the entries are whatever the networks make them: that is where the flexibility lives, and the
# determinant does not see it.

# %% [markdown] key="ordering-intro"
# ## 3. The order of the coordinates matters
#
# The model goes through the coordinates in a fixed order, and that order is an assumption. With Gaussian
# conditionals, the first coordinate's marginal $p(x_1) = \mathcal N(\mu_1, e^{2\alpha_1})$ is a single
# Gaussian with constant parameters, however large the networks are. $p(x_2 \mid x_1)$ is Gaussian for
# every $x_1$, but its mean and width change with $x_1$. One layer can therefore describe data whose
# first coordinate is Gaussian-like, and whose second coordinate, given the first, is close to Gaussian. If the
# data is shaped the other way round, the same model does worse in one order than in the other.
#
# Stacking layers helps if the second layer goes through the coordinates in the reverse order (a
# `reverse` permutation in between): the coordinate that was stuck with a Gaussian marginal now depends
# on the other one through a network, and the output of the first layer, no longer Gaussian, is what the
# second one starts from.
#
# Let's measure it on two moons, with the naive conditioner of the library (section 4 opens it up;
# here it is enough that it computes $\mu_i, \alpha_i$ from $x_{<i}$ in the order we give it). A stack of
# two layers in the *same* order is the control: it has as many parameters as the reordered stack, so
# any difference between the two comes from the reordering.
#
# **Predict before you run.** Which does better on moons: one layer in the order $(x_1, x_2)$, or one in
# the order $(x_2, x_1)$? Two layers in the same order, or two layers, one in each order?

# %% key="ordering-code"
moons = load("moons", n_train=10_000, n_test=2_000, seed=0)
oracle = evaluate_oracle(moons)


def naive_flow(layers: int, hidden: int = 32, order: str = "natural", alternate: bool = True) -> Flow:
    """`layers` affine autoregressive layers with naive conditioners, the order reversed between layers
    (or kept, with `alternate=False`)."""
    steps = []
    for k in range(layers):
        if k > 0 and alternate:
            steps.append(reverse(2))
        steps.append(AffineAutoregressive(NaiveConditioner(2, hidden, order=order), dim=2))
    return Flow(Compose(*steps), dim=2)


def train(flow: Flow, steps: int) -> Flow:
    fit(flow, moons.train, moons.test, steps=steps, lr=5e-3, schedule=cosine_schedule(steps), progress=False)
    return flow.cpu()


order_steps = budget(full=600, fast=100)
ordering_models = {
    tr("1 layer, order (x1, x2)"): train(naive_flow(1, order="natural"), order_steps),
    tr("1 layer, order (x2, x1)"): train(naive_flow(1, order="reversed"), order_steps),
    tr("2 layers, same order"): train(naive_flow(2, alternate=False), order_steps),
    tr("2 layers, both orders"): train(naive_flow(2), order_steps),
}
ordering_nll = {name: evaluate_nll(flow, moons.test) for name, flow in ordering_models.items()}
print_rows([*ordering_nll.items(), (tr("oracle (entropy of the data)"), oracle)])

# %% key="ordering-compare"
compare(
    ordering_models,
    moons.test,
    nll={name: nll.per_dim for name, nll in ordering_nll.items()},
    title=tr("one or two autoregressive layers on two moons"),
    generator=generator,
)

# %% [markdown] key="ordering-explained"
# The two single layers differ only in the order, and both stay far from the oracle: each must give its
# first coordinate a single Gaussian marginal, and the moons' marginals are not Gaussian. (After the full
# training the density pictures show it best; a fast-mode run stops early.) Below, the differences that
# matter: the reordered stack against the better single layer, and against the control with the same
# number of layers in the same order.

# %% key="ordering-gain"
one_natural, one_reversed, two_same, two_both = ordering_nll.values()
print_rows(
    [
        (
            tr("two layers in both orders vs the better single layer, nats lower"),
            number(min(one_natural.total, one_reversed.total) - two_both.total, ".3f"),
        ),
        (
            tr("two layers in both orders vs two in the same order, nats lower"),
            number(two_same.total - two_both.total, ".3f"),
        ),
        (tr("two layers in both orders, gap to the oracle (nats)"), number(two_both.total - oracle.total, ".3f")),
    ]
)
expect_at_least(tr("what reordering gains over the same-order stack (nats)"), two_same.total - two_both.total, 0.1)

# %% [markdown] key="ordering-why"
# A second layer in the same order adds parameters, but it again gives the first coordinate a constant
# shift and scale, and the second coordinate a shift and scale computed from the first: composed, $x_1$
# stays Gaussian and $x_2$ given $x_1$ stays Gaussian. A layer in the new order goes
# through the previous layer's output the other way round, so no coordinate stays stuck with a plain
# Gaussian, and its networks can reshape what the first layer left Gaussian. Two layers are still far
# from the oracle (the last line above); section 4 stacks four.

# %% [markdown] key="library-intro"
# ## 4. The naive model in the library
#
# The library version is `nfcourse.bijectors.AffineAutoregressive(conditioner, dim)`: it does exactly what
# `sample_recursion` and `density_pass` do (forward: $D$ conditioner passes; inverse: one pass; log-dets
# $\pm\sum_i \alpha_i$), plus a soft clamp, $\alpha = 5\tanh(\tilde\alpha / 5)$, that keeps each $\alpha_i$
# within $\pm 5$. The conditioner returns a tensor of shape `(batch, 2, D)` holding $\mu$ and the raw
# $\tilde\alpha$.
#
# `nfcourse.conditioners.NaiveConditioner(dim, hidden)` is the most direct way to build a conditioner: $D$
# separate networks, network $i$ takes $x_{<i}$ as input (the first takes a constant), each with two hidden
# layers. The last layer of every network starts at zero, so a freshly made autoregressive layer is the
# identity map. The cell below checks each of these claims: the fresh layer, then (with random weights
# in place of the zeros) agreement with our functions, the number of conditioner calls, and the clamp,
# with weights so large that the raw $\tilde\alpha$ reaches far beyond 5.

# %% key="library-check"
layer = AffineAutoregressive(NaiveConditioner(4, hidden=16), dim=4).double()
u4 = torch.randn(200, 4, generator=generator, dtype=torch.float64)
with torch.no_grad():
    fresh_change = (layer.forward(u4)[0] - u4).abs().max().item()
    for network in layer.conditioner.networks:
        network[-1].weight.normal_(0, 0.5, generator=generator)
    x_library, logdet_library = layer.forward(u4)
    x_ours, logdet_ours = sample_recursion(u4, layer.shift_and_log_scale)
    u_library, _logdet = layer.inverse(x_library)
    counts = []
    for direction in (layer.forward, layer.inverse):
        counter = {"n": 0}
        hook = layer.conditioner.register_forward_hook(lambda *_args, c=counter: c.__setitem__("n", c["n"] + 1))
        direction(u4)
        hook.remove()
        counts.append(counter["n"])
    for network in layer.conditioner.networks:
        network[-1].weight.normal_(0, 30, generator=generator)
    raw_alpha = layer.conditioner(u4)[:, 1]
    clamped_alpha = layer.shift_and_log_scale(u4)[1]
print_rows(
    [
        (tr("fresh layer, max |forward(u) - u|"), number(fresh_change, ".1e")),
        (tr("samples, library vs ours, max difference"), number((x_library - x_ours).abs().max().item(), ".1e")),
        (
            tr("log-dets, library vs ours, max difference"),
            number((logdet_library - logdet_ours).abs().max().item(), ".1e"),
        ),
        (tr("library round trip, max |u - inverse(forward(u))|"), number((u4 - u_library).abs().max().item(), ".1e")),
        (tr("conditioner calls of forward and of inverse (D = 4)"), f"{counts[0]}, {counts[1]}"),
        (
            tr("large weights: max |raw alpha|, max |alpha| after the clamp"),
            f"{number(raw_alpha.abs().max().item(), '.1f')}; {number(clamped_alpha.abs().max().item(), '.3f')}",
        ),
    ]
)

# %% [markdown] key="train-intro"
# Now a model that can fit the moons: four layers, the order reversed between them, each with two small
# networks (32 hidden units). We compare its test NLL (negative log-likelihood) with the oracle, the entropy of the data
# estimated from its true density (lesson 00).

# %% key="train-code"
steps = budget(full=2000, fast=200)
model = naive_flow(4)
history = fit(model, moons.train, moons.test, steps=steps, lr=5e-3, schedule=cosine_schedule(steps), eval_every=100)
model = model.cpu()
nll_model = evaluate_nll(model, moons.test)
print_rows([(tr("4 layers, naive conditioners"), nll_model), (tr("oracle (entropy of the data)"), oracle)])
print(
    tr("gap to the oracle: {gap:.3f} nats (standard error of the oracle {se:.3f})").format(
        gap=nll_model.total - oracle.total, se=moons.oracle_nll_standard_error()
    )
)
expect_at_most(tr("test NLL of the 4-layer naive model (nats)"), nll_model.total, oracle.total + 0.15)

# %% key="train-compare"
compare(
    {tr("4 naive layers"): model},
    moons.test,
    nll={tr("4 naive layers"): nll_model.per_dim},
    title=tr("the naive autoregressive flow on two moons"),
    generator=generator,
)

# %% [markdown] key="cost-intro"
# ## 5. What the naive model costs
#
# The model is correct, but look at how it is built. For $D$ coordinates it has $D$ networks, and
# network $i$ takes $i - 1$ inputs: $0 + 1 + \dots + (D - 1) = D(D-1)/2$ inputs in all (plus one constant for
# the first network). A density evaluation runs the $D$ networks one after another, and sampling
# repeats that $D$ times. We count and time it for $D = 2, 4, 8, 16, 32, 64$, on a batch of 256 points,
# with the same 32 hidden units. The timer, `nfcourse.timing.seconds_in_turns`, runs on one CPU thread,
# so the numbers do not depend on how many cores your machine has; it measures all sizes in turns and
# keeps each call's fastest run, so that another program on the machine disturbs the comparison as
# little as possible.
#
# **Predict before you run.** If $D$ doubles, by what factor do the parameters, the time per density
# evaluation, and the time per sampling call grow?

# %% key="cost-code"
sizes = [2, 4, 8, 16, 32, 64]
naive_layers = {dim: AffineAutoregressive(NaiveConditioner(dim, hidden=32), dim) for dim in sizes}
batches = {dim: torch.randn(256, dim, generator=generator) for dim in sizes}
calls = {}
for dim, naive_layer in naive_layers.items():
    calls["density", dim] = lambda f=naive_layer, v=batches[dim]: f.inverse(v)
    calls["sampling", dim] = lambda f=naive_layer, v=batches[dim]: f.forward(v)
seconds = seconds_in_turns(calls, repeats=budget(full=5, fast=2))
costs = {
    "parameters": [sum(p.numel() for p in naive_layers[dim].parameters()) for dim in sizes],
    "inputs": [sum(network[0].in_features for network in naive_layers[dim].conditioner.networks) for dim in sizes],
    "density": [seconds["density", dim] for dim in sizes],
    "sampling": [seconds["sampling", dim] for dim in sizes],
}
expect_equal(tr("network inputs = D(D-1)/2 + 1"), costs["inputs"], [dim * (dim - 1) // 2 + 1 for dim in sizes])

headers = [tr("D"), tr("parameters"), tr("network inputs"), tr("density (ms)"), tr("sampling (ms)")]
rows = [
    [
        dim,
        number(costs["parameters"][k], ",d"),
        number(costs["inputs"][k], ",d"),
        number(1e3 * costs["density"][k], ".2f"),
        number(1e3 * costs["sampling"][k], ".2f"),
    ]
    for k, dim in enumerate(sizes)
]
print_table(headers, rows)

# %% key="cost-plot"
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
plot_scaling(
    sizes,
    {tr("parameters"): costs["parameters"], tr("network inputs"): costs["inputs"]},
    ylabel=tr("count"),
    title=tr("size of one naive layer"),
    ax=axes[0],
)
plot_scaling(
    sizes,
    {tr("sampling"): costs["sampling"], tr("density"): costs["density"]},
    ylabel=tr("seconds per call"),
    title=tr("time of one naive layer, batch of 256"),
    ax=axes[1],
)
plt.show()


labels = {
    "parameters": tr("parameters"),
    "inputs": tr("network inputs"),
    "density": tr("density evaluation"),
    "sampling": tr("sampling"),
}
print(tr("growth exponent k in cost ~ D^k, fitted over D = 8 to 64:"))
print_rows([(labels[name], number(growth_exponent(sizes, values), ".2f")) for name, values in costs.items()])
print(
    tr("sampling takes {ratio:.0f} times as long as a density evaluation at D = {dim}").format(
        ratio=costs["sampling"][-1] / costs["density"][-1], dim=sizes[-1]
    )
)

# %% [markdown] key="cost-explained"
# The exponents name the asymptotics. The counts are exact; the times come from one machine and move from
# run to run, so read their exponents to one digit. The network inputs grow like $D^2$ (exactly
# $D(D-1)/2 + 1$, as the check above confirms). The parameters grow like $D$ as long as the hidden layers
# dominate ($D$ networks of fixed size), and turn towards $D^2$ once the first layers'
# $D(D-1)/2 \times$ `hidden` weights take over. A density evaluation costs $D$ network calls that run one
# after another: about linear in $D$, where one network pass could do it at once. Sampling runs the whole
# conditioner $D$ times: $D^2$ network calls, about quadratic.
#
# The $D$ passes of sampling, one after another, are the price of the recursion and stay in every
# autoregressive model. That they cost $D^2$ network calls here comes from the naive conditioner, whose
# every pass runs $D$ networks. Neither that nor the $D$ separate sets of weights is necessary: the next
# lesson computes all $\mu_i, \alpha_i$ with *one* network in *one* pass, by masking its weights, and
# sampling then costs $D$ calls of that network.

# %% [markdown] key="summary"
# ## Summary
#
# - The chain rule writes any density as $\prod_i p(x_i \mid x_{<i})$. With Gaussian conditionals,
#   sampling is $x_i = u_i\exp(\alpha_i) + \mu_i$ with $u \sim \mathcal N(0, I)$: an autoregressive model
#   is a normalizing flow.
# - The density direction is one parallel pass, $u_i = (x_i - \mu_i)\exp(-\alpha_i)$, with
#   $\log\lvert\det J\rvert = -\sum_i \alpha_i$, because the Jacobian is triangular. Sampling is a
#   recursion of $D$ passes, as the call counts showed. The networks are never inverted.
# - The order is an assumption: one Gaussian layer makes its first coordinate a Gaussian, and so does a
#   stack in one order. Reversing the order between layers lifts that restriction; on two moons the
#   reordered stack of two beat both the single layers and the same-order stack.
# - The naive model (one network per coordinate) is correct and fits two moons close to the oracle, but
#   its inputs grow like $D^2$, its density pass runs $D$ networks in a row, and sampling takes $D^2$
#   network calls.

# %% [markdown] key="try-next"
# ## What to try next
#
# - In section 2, replace `torch.relu` in the tiny conditioner by anything you like, even a function that
#   is not invertible such as `torch.abs`. Do the round trip and the log-det checks still pass? Why?
# - Remove the masks from `A` and from `W_big` (use full matrices). Which checks fail, and what does the
#   Jacobian picture show?
# - In section 3, train three and four layers with `order="reversed"` in every layer and no `reverse`
#   between them. How far do they get compared with the alternating stack?
# - In section 5, change `hidden=32` to 8 and to 128. At which $D$ do the parameters start to grow
#   faster than linearly?
# - Time the density pass of the naive layer with a batch of 1 and with a batch of 4096. Does the
#   growth exponent change? What does that tell you about where the time goes?
#
# The exercise sheet of this lesson asks you to write the density pass, the sampling loop, the
# log-density of a Gaussian autoregressive model, and the parameter count of the naive model.

# %% [markdown] key="references"
# ## References
#
# - B. Uria, M.-A. Côté, K. Gregor, I. Murray, H. Larochelle. *Neural Autoregressive Distribution
#   Estimation.* JMLR 17(205), 2016. [arXiv:1605.02226](https://arxiv.org/abs/1605.02226)
# - G. Papamakarios, T. Pavlakou, I. Murray. *Masked Autoregressive Flow for Density Estimation.*
#   NeurIPS 2017. [arXiv:1705.07057](https://arxiv.org/abs/1705.07057)
# - D. P. Kingma, T. Salimans, R. Jozefowicz, X. Chen, I. Sutskever, M. Welling. *Improved Variational
#   Inference with Inverse Autoregressive Flow.* NeurIPS 2016. [arXiv:1606.04934](https://arxiv.org/abs/1606.04934)
# - G. Papamakarios, E. Nalisnick, D. J. Rezende, S. Mohamed, B. Lakshminarayanan. *Normalizing Flows
#   for Probabilistic Modeling and Inference.* JMLR 22(57), 2021.
#   [arXiv:1912.02762](https://arxiv.org/abs/1912.02762)
# - E. Jang. *Normalizing Flows Tutorial, Part 2: Modern Normalizing Flows.* Blog post, 2018.
#   [blog.evjang.com/2018/01/nf2.html](https://blog.evjang.com/2018/01/nf2.html)
