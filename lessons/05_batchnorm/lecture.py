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
# # Batch normalization as a bijector

# %% [markdown] key="goals"
# Deep networks train better when the input of every layer keeps a sensible scale, and batch
# normalization is the classic way to keep it. Real-NVP turned it into a layer of the flow itself: an
# invertible map with a log-det of its own. In this lesson we write that layer, look at its two modes, fall
# into a trap of its running averages on purpose, and measure what it does for a deep flow, beside two
# alternatives from Glow. After this lesson you can:
#
# - write the BatchNorm bijector in both directions, derive its log-det
#   $\sum_i \big(\gamma_i - \tfrac12 \log(v_i + \varepsilon)\big)$, and check it against a brute-force Jacobian;
# - say which statistics the layer uses in training mode and in eval mode, and why the density of a point
#   in training mode depends on the other points of its batch;
# - write the running-average update with a momentum, and recognize the rule that follows the last batch
#   almost entirely;
# - measure convergence, stability and final test NLL of a deep Real-NVP with and without BatchNorm, over
#   several seeds;
# - explain ActNorm (a data-dependent start, then ordinary parameters) and the LU layer (a learned
#   invertible affine map) as the alternatives that Glow uses.
#
# *Time: about 60 minutes.*

# %% key="setup-code"
import math

import matplotlib.pyplot as plt
import torch

from nfcourse.bijectors import BatchNorm, realnvp, running_average
from nfcourse.datasets import load
from nfcourse.flow import Flow
from nfcourse.i18n import number, tr
from nfcourse.jacobian import brute_force_logdet
from nfcourse.plotting import use_style
from nfcourse.runtime import budget, expect_at_least, expect_at_most, seed_everything
from nfcourse.text import print_table
from nfcourse.training import NonFiniteLossError, cosine_schedule, evaluate_nll, evaluate_oracle, fit

generator = seed_everything(0)  # one seed for the whole notebook; pass `generator` wherever we sample
moons = load("moons")
use_style()  # the course's plot style, with a font for Japanese labels

# %% [markdown] key="bijector"
# ## 1. The BatchNorm bijector
#
# Take a batch of points $x$ of dimension $D$, with mean $m_i$ and variance $v_i$ per coordinate (the
# variance divides by the batch size $B$, not by $B - 1$). In the density direction (data → noise) the
# layer standardizes each coordinate and then applies a learnable scale $e^{\gamma_i}$ and shift $\beta_i$:
#
# $$u_i = \frac{x_i - m_i}{\sqrt{v_i + \varepsilon}}\, e^{\gamma_i} + \beta_i .$$
#
# The small $\varepsilon$ (here $10^{-5}$) keeps the division safe when a coordinate hardly varies. The
# sampling direction (noise → data) undoes it:
# $x_i = (u_i - \beta_i)\, e^{-\gamma_i} \sqrt{v_i + \varepsilon} + m_i$.
#
# **The log-det.** Hold $m$ and $v$ fixed. Then $u_i$ depends on $x_i$ alone, so the Jacobian
# $\partial u / \partial x$ is diagonal, with entries
#
# $$\frac{\partial u_i}{\partial x_i} = \frac{e^{\gamma_i}}{\sqrt{v_i + \varepsilon}}, \qquad
# \log\left|\det \frac{\partial u}{\partial x}\right| = \sum_{i=1}^{D} \Big(\gamma_i - \tfrac12 \log(v_i + \varepsilon)\Big).$$
#
# It is the same for every point of the batch, and the sampling direction has its negative. Where do $m$
# and $v$ come from? In *training mode* the density direction takes them from the current batch; in *eval
# mode*, and always in the sampling direction, the layer uses running averages collected during training
# (sections 2 and 3). In training mode $m$ and $v$ themselves depend on every point of the batch, so the
# map of the whole batch is not coordinate-wise. Real-NVP treats the batch statistics as constants of the
# map that is applied, and so does the formula: it is the log-det of the affine map that the batch gets.
#
# The library's layer is `nfcourse.bijectors.BatchNorm(dim)`: $\gamma$ is `log_scale`, $\beta$ is `shift`,
# and the running averages are the buffers `running_mean` and `running_var`. Below we give it random
# $\gamma$ and $\beta$ in float64 and compare its log-det with `brute_force_logdet`, the full Jacobian
# from autograd: in eval mode the layer's own map, in training mode the map with the batch's statistics
# held fixed.

# %% key="bijector-code"
dim = 3
layer = BatchNorm(dim).double()
with torch.no_grad():
    layer.log_scale.copy_(0.5 * torch.randn(dim, generator=generator, dtype=torch.float64))
    layer.shift.copy_(torch.randn(dim, generator=generator, dtype=torch.float64))
scales = torch.tensor([0.5, 2.0, 4.0], dtype=torch.float64)
x = 1.0 + scales * torch.randn(256, dim, generator=generator, dtype=torch.float64)

layer.train()
u, logdet = layer.inverse(x)
batch_mean, batch_var = x.mean(dim=0), x.var(dim=0, unbiased=False)


def applied_map(points: torch.Tensor) -> torch.Tensor:
    """The affine map the batch gets in training mode, with its statistics (mean, var) held fixed."""
    return (points - batch_mean) / torch.sqrt(batch_var + layer.eps) * torch.exp(layer.log_scale) + layer.shift


with torch.no_grad():
    formula = (layer.log_scale - 0.5 * torch.log(batch_var + layer.eps)).sum()
    print(
        tr("training mode, largest |u - map with the batch statistics|: {err:.1e}").format(
            err=(u - applied_map(x)).abs().max().item()
        )
    )
    print(tr("training mode, largest |log-det - formula|: {err:.1e}").format(err=(logdet - formula).abs().max().item()))
    brute = brute_force_logdet(applied_map, x[:20])
    print(
        tr("training mode, largest |log-det - brute force|: {err:.1e}").format(
            err=(logdet[:20] - brute).abs().max().item()
        )
    )

    layer.eval()
    u_eval, logdet_eval = layer.inverse(x)
    brute_eval = brute_force_logdet(lambda points: layer.inverse(points)[0], x[:20])
    print(
        tr("eval mode, largest |log-det - brute force|: {err:.1e}").format(
            err=(logdet_eval[:20] - brute_eval).abs().max().item()
        )
    )
    x_back, logdet_back = layer.forward(u_eval)
    print(tr("eval mode, largest |forward(inverse(x)) - x|: {err:.1e}").format(err=(x_back - x).abs().max().item()))
    print(
        tr("eval mode, largest |forward log-det + inverse log-det|: {err:.1e}").format(
            err=(logdet_back + logdet_eval).abs().max().item()
        )
    )

# %% [markdown] key="bijector-explained"
# The formula agrees with autograd's full Jacobian to round-off, in both modes. In eval mode the layer is
# one fixed affine map, so it also inverts exactly and its two log-dets cancel.

# %% [markdown] key="modes-intro"
# ## 2. Training mode and eval mode
#
# In training mode the density direction does two things: it normalizes with the batch's $m$ and $v$
# (with their gradients, so training sees how the earlier layers move them), and it
# moves the running averages a little towards them, under `torch.no_grad()`. Sampling has no batch of
# data to take statistics from, so `forward` always uses the running averages, and so does `inverse` in
# eval mode.
#
# One consequence surprises at first. In training mode the log-density of a point depends on which other
# points share its batch. Below, a flow that is a single BatchNorm layer on the two moons. First we pass
# 200 training batches through it in training mode (no gradient steps: only the running averages move).
# Then we put one test point into two batches: an ordinary batch of the data, and a batch drawn only from
# the upper moon. **Predict before you run:** which of the four numbers agree?

# %% key="modes-code"
norm_flow = Flow(BatchNorm(2), 2)
norm_flow.train()
with torch.no_grad():
    for _step in range(200):
        norm_flow.log_prob(moons.train[torch.randint(len(moons.train), (256,), generator=generator)])
point = moons.test[:1]
upper = moons.train[moons.train[:, 1] > 0.3]
batches = {
    tr("an ordinary batch"): torch.cat(
        [point, moons.train[torch.randint(len(moons.train), (255,), generator=generator)]]
    ),
    tr("a batch from the upper moon"): torch.cat(
        [point, upper[torch.randint(len(upper), (255,), generator=generator)]]
    ),
}
log_density = {}
with torch.no_grad():
    norm_flow.eval()  # first eval mode: it leaves the running averages alone
    for name, batch in batches.items():
        log_density[name, "eval"] = norm_flow.log_prob(batch)[0].item()
    norm_flow.train()  # training mode moves the running averages, so it comes second
    for name, batch in batches.items():
        log_density[name, "train"] = norm_flow.log_prob(batch)[0].item()
rows = [[name, *(number(log_density[name, mode], ".3f") for mode in ("train", "eval"))] for name in batches]
print(tr("log-density of the point {point} in:").format(point=[round(v, 2) for v in point[0].tolist()]))
print_table(["", tr("training mode"), tr("eval mode")], rows)

with torch.no_grad():
    batch = batches[tr("an ordinary batch")]
    norm_flow.train()
    u_train, _logdet = norm_flow.bijector.inverse(batch)
    x_train, _logdet = norm_flow.bijector.forward(u_train)
    norm_flow.eval()
    u_eval, _logdet = norm_flow.bijector.inverse(batch)
    x_eval, _logdet = norm_flow.bijector.forward(u_eval)
print(
    tr("round trip forward(inverse(x)), largest error: training mode {train:.1e}, eval mode {eval:.1e}").format(
        train=(x_train - batch).abs().max().item(), eval=(x_eval - batch).abs().max().item()
    )
)

# %% [markdown] key="modes-explained"
# In training mode the same point gets two different log-densities: in the batch from the upper moon it
# lies far from the batch's mean, in units of that batch's smaller spread. In eval mode both numbers are
# the same, because the running averages do not look at the batch. The round trip shows the other side:
# in training mode `inverse` normalizes with the batch statistics and `forward` undoes it with the running
# averages, which are close but not equal; in eval mode both directions use the same numbers and the
# round trip is exact up to round-off.
#
# So train in training mode, and evaluate test NLLs, plot densities and sample in eval mode (the
# library's `evaluate_nll` switches to eval mode by itself). The running averages must then be good
# estimates of the statistics that the layer sees in the data.

# %% [markdown] key="running-intro"
# ## 3. The running averages, and a pitfall
#
# After each training batch the layer updates its running mean $r$ (and the same way its running
# variance) with the batch's mean $b$:
#
# $$r \leftarrow r + \text{momentum}\cdot(b - r) = (1 - \text{momentum})\, r + \text{momentum}\cdot b .$$
#
# With the library's momentum 0.05 the newest batch weighs 5%, and a batch from $k$ steps ago still
# weighs $0.05 \cdot 0.95^{k}$: the average remembers about the last $1/0.05 = 20$ batches. This is
# `running_average(r, b, momentum)`.
#
# Now read this rule, written the way it sometimes appears in code:
# $r \leftarrow r - \text{decay}\cdot(r - b)$ with decay $= 0.95$. The name suggests that the old value
# decays slowly. But $r - 0.95\,(r - b) = 0.05\, r + 0.95\, b$: the newest batch weighs 95%, and the
# "running average" is almost the last batch's mean. It is the same rule with momentum 0.95.
#
# Below, a stream of batches of 64 points from the moons, the first coordinate's mean tracked both ways.
# Half-way through, the data move by one standard deviation, as if the layers before this one had
# changed. **Predict before you run:** which curve follows the shift faster, and which one is noisier?

# %% key="running-code"
stream_steps, shift_at, stream_batch = 300, 150, 64
true_mean = moons.train[:, 0].mean().item()
batch_means, slow, pitfall, truth = [], [], [], []
r_slow = r_pitfall = torch.tensor(0.0)  # both start where BatchNorm's buffer starts
for step in range(stream_steps):
    moved = 1.0 if step >= shift_at else 0.0
    b = moons.train[torch.randint(len(moons.train), (stream_batch,), generator=generator), 0].mean() + moved
    r_slow = running_average(r_slow, b, momentum=0.05)
    r_pitfall = r_pitfall - 0.95 * (r_pitfall - b)  # the pitfall: "decay" 0.95
    batch_means.append(b.item())
    slow.append(r_slow.item())
    pitfall.append(r_pitfall.item())
    truth.append(true_mean + moved)


def rms_error(track: list[float], start: int, stop: int) -> float:
    """Root mean square distance of a tracked mean from the true mean over steps start..stop-1."""
    return math.sqrt(sum((track[k] - truth[k]) ** 2 for k in range(start, stop)) / (stop - start))


def steps_to_follow(track: list[float], within: float = 0.1) -> int:
    """Steps after the shift until the tracked mean first comes within `within` of the new true mean."""
    return next(k for k in range(shift_at, stream_steps) if abs(track[k] - truth[k]) <= within) - shift_at + 1


error_slow, error_pitfall = rms_error(slow, 60, shift_at), rms_error(pitfall, 60, shift_at)
print_table(
    ["", tr("error before the shift (RMS)"), tr("steps to follow the shift")],
    [
        [tr("batch mean alone"), number(rms_error(batch_means, 60, shift_at), ".3f"), ""],
        [tr("momentum 0.05"), number(error_slow, ".3f"), steps_to_follow(slow)],
        [tr("decay 0.95 (pitfall)"), number(error_pitfall, ".3f"), steps_to_follow(pitfall)],
    ],
)
expect_at_least(tr("error of the pitfall / error with momentum 0.05"), error_pitfall / error_slow, 3.0)

# %% key="running-plot"
fig, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
ax.plot(batch_means, ".", color="0.7", markersize=3, label=tr("mean of each batch"))
ax.plot(pitfall, color="C3", linewidth=1.0, label=tr("decay 0.95 (pitfall)"))
ax.plot(slow, color="C0", linewidth=2.0, label=tr("momentum 0.05"))
ax.plot(truth, "--", color="k", linewidth=1.0, label=tr("true mean"))
ax.set_xlabel(tr("training step"))
ax.set_ylabel(tr("running mean of the first coordinate"))
ax.set_title(tr("Running averages over a stream of batches of 64 points"))
ax.legend(fontsize="small")
plt.show()

# %% [markdown] key="running-explained"
# The pitfall's curve lies on top of the batch means: its error before the shift is nearly that of a
# single batch mean. Momentum 0.05 averages over about 20 batches, so its error is several times smaller.
# It pays with a lag after the shift, a few dozen steps, which is harmless in training: the layers before
# BatchNorm change slowly, and the running averages matter only once training is over. Section 6 measures
# what the pitfall does to a trained flow.

# %% [markdown] key="deep-intro"
# ## 4. What BatchNorm does for a deep flow
#
# Now the experiment the layer is made for: a Real-NVP of 12 affine coupling layers (two hidden layers of
# 32 units each) on the two moons, once without anything between the coupling layers and once with
# BatchNorm between them (`realnvp(..., normalization="batch")`). Every coupling layer starts as the
# identity map (`zero_last_layer=True`; `realnvp` starts its networks randomly unless told otherwise), so
# that the flows differ at the start only by what lies between the coupling layers. Real-NVP is cheap in both directions, so
# several seeds fit into a few minutes. We train with Adam, starting at a learning rate of $10^{-2}$ that
# decays to 0 along a cosine, with batches of 256, and record for each run:
#
# - **speed**: the training NLL at an early step (the table names it), and the number of steps until the
#   training NLL first comes within 0.1 nats per dimension of the oracle (the data's own entropy);
# - **stability**: whether the run diverged, i.e. its loss became NaN or infinite (`fit` stops with
#   `NonFiniteLossError`) or its final test NLL lies more than 1 nat per dimension above the oracle;
# - **quality**: the final test NLL, in eval mode, beside the oracle.
#
# All NLLs are in nats per dimension. **Predict before you run:** will BatchNorm make training faster,
# more stable, or both?

# %% key="deep-train"
deep_steps = budget(full=600, fast=100)
deep_seeds = list(range(budget(full=3, fast=2)))
deep_lr = 1e-2
oracle = evaluate_oracle(moons).per_dim
level = oracle + 0.1
early_step = budget(full=200, fast=60)
variants = {
    tr("plain"): {"normalization": "none"},
    tr("BatchNorm"): {"normalization": "batch"},
    tr("ActNorm"): {"normalization": "act"},
    tr("LU layer"): {"permutation": "lu"},
}


def train_deep(settings: dict[str, str], seed: int) -> dict[str, object]:
    """Train one deep Real-NVP; return the flow, its training curve, and what the table reports."""
    torch.manual_seed(seed)  # the networks' random start
    flow = Flow(realnvp(2, layers=12, hidden_sizes=(32, 32), seed=seed, zero_last_layer=True, **settings), 2)
    try:
        history = fit(
            flow,
            moons.train,
            steps=deep_steps,
            lr=deep_lr,
            schedule=cosine_schedule(deep_steps),
            seed=seed,
            log_every=10,
            progress=False,
        )
    except NonFiniteLossError:
        return {"flow": flow, "steps": [], "curve": [], "early": math.inf, "reach": None, "test": math.inf}
    test = evaluate_nll(flow, moons.test).per_dim
    reached = [step for step, nll in zip(history.steps, history.train_nll, strict=True) if nll <= level]
    early = next(nll for step, nll in zip(history.steps, history.train_nll, strict=True) if step >= early_step)
    return {
        "flow": flow,
        "steps": history.steps,
        "curve": history.train_nll,
        "early": early,
        "reach": reached[0] if reached else None,
        "test": test,
    }


def diverged(run: dict[str, object]) -> bool:
    return not math.isfinite(run["test"]) or run["test"] > oracle + 1.0


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def print_deep_table(names: list[str]) -> None:
    rows = []
    for name in names:
        kept = [run for run in runs[name] if not diverged(run)]
        reach = [run["reach"] for run in kept]
        rows.append(
            [
                name,
                number(mean([run["early"] for run in kept]), ".3f") if kept else "–",
                ", ".join("–" if step is None else str(step) for step in reach),
                f"{sum(diverged(run) for run in runs[name])}/{len(runs[name])}",
                number(mean([run["test"] for run in kept]), ".3f") if kept else "–",
                number(max(run["test"] for run in kept), ".3f") if kept else "–",
            ]
        )
    rows.append([tr("oracle"), "", "", "", number(oracle, ".3f"), ""])
    print_table(
        [
            "",
            tr("train NLL at step {step}").format(step=early_step),
            tr("steps to oracle + 0.1"),
            tr("diverged"),
            tr("test NLL (mean)"),
            tr("(worst)"),
        ],
        rows,
    )


def plot_deep_curves(names: list[str]) -> None:
    _fig, axes = plt.subplots(1, len(names), figsize=(3.4 * len(names), 3.2), sharey=True, layout="constrained")
    for ax, name in zip(axes, names, strict=True):
        for seed, run in zip(deep_seeds, runs[name], strict=True):
            ax.plot(run["steps"], run["curve"], linewidth=1.0, label=tr("seed {seed}").format(seed=seed))
        ax.axhline(oracle, color="k", linestyle="--", linewidth=1.0, label=tr("oracle"))
        ax.set_title(name)
        ax.set_xlabel(tr("training step"))
        ax.set_ylim(oracle - 0.1, oracle + 0.8)
    axes[0].set_ylabel(tr("training NLL (nats per dimension)"))
    axes[0].legend(fontsize="small")
    plt.show()


runs = {name: [train_deep(variants[name], seed) for seed in deep_seeds] for name in (tr("plain"), tr("BatchNorm"))}
print_deep_table([tr("plain"), tr("BatchNorm")])
plain_test = mean([run["test"] for run in runs[tr("plain")]])
batch_test = mean([run["test"] for run in runs[tr("BatchNorm")]])
expect_at_most(tr("diverged runs, plain and BatchNorm"), sum(diverged(run) for name in runs for run in runs[name]), 0)
expect_at_least(
    tr("train NLL at step {step} with BatchNorm minus without (nats per dimension)").format(step=early_step),
    mean([run["early"] for run in runs[tr("BatchNorm")]]) - mean([run["early"] for run in runs[tr("plain")]]),
    0.0,
)
expect_at_least(
    tr("mean steps to oracle + 0.1 with BatchNorm minus without"),
    mean([run["reach"] or deep_steps + 1 for run in runs[tr("BatchNorm")]])
    - mean([run["reach"] or deep_steps + 1 for run in runs[tr("plain")]]),
    0.0,
)
expect_at_least(tr("mean test NLL with BatchNorm minus without (nats per dimension)"), batch_test - plain_test, -0.02)
expect_at_most(tr("mean test NLL with BatchNorm minus without (nats per dimension)"), batch_test - plain_test, 0.03)

# %% key="deep-plot"
plot_deep_curves([tr("plain"), tr("BatchNorm")])

# %% [markdown] key="deep-explained"
# Read the table and the curves against your prediction. On these data, with this depth and learning
# rate, BatchNorm does not make training faster. In the first hundred steps the two kinds of curves are
# close; then the plain flow pulls ahead: at step 200 its training NLL is lower, and it comes within 0.1
# nats of the oracle sooner. No run of either kind diverges. The plain Real-NVP starts as the identity map
# (the last layer of each of its networks starts at zero) and the moons are standardized, so the points keep a sensible scale from
# layer to layer without help. A likely reason for the slower progress is that every batch is normalized
# with slightly different statistics, which adds noise to each step. The final test NLL (in eval mode) is
# about the same with and without BatchNorm. The targets below state what the full run found; in fast
# mode the runs are too short for the table to mean much. The Real-NVP and MAF papers used BatchNorm in
# deep flows on images, whose coordinates are far from standardized. A two-dimensional toy cannot show everything,
# which is why we measure instead of assuming.

# %% [markdown] key="alternatives-intro"
# ## 5. ActNorm and the LU layer
#
# Glow (Kingma and Dhariwal, 2018) replaced BatchNorm by two layers that behave the same in training and
# in eval mode.
#
# - **ActNorm** is an elementwise affine layer, $u = (x - \mu)\, e^{-\alpha}$ in the density direction,
#   log-det $-\sum_i \alpha_i$. Its start depends on the data: the first training batch sets $\mu$ to
#   the batch's mean and $e^{\alpha}$ to its standard deviation, so that this batch leaves with mean 0
#   and variance 1. After that $\mu$ and $\alpha$ are ordinary parameters, with no batch statistics and
#   no running averages (`nfcourse.bijectors.ActNorm`, `realnvp(..., normalization="act")`).
# - **The LU layer** is a learned invertible affine map $x = W u + b$ (sampling direction) between the
#   coupling layers, in place of a fixed permutation. Glow writes $W = P L (U + \operatorname{diag}(e^{s}))$
#   with a fixed permutation $P$, $L$ lower triangular with ones on the diagonal and $U$ strictly upper
#   triangular; its log-det is just $\sum_i s_i$. The library's layer leaves $P$ out and starts at
#   $W = I$ (`nfcourse.bijectors.AffineLU`, `realnvp(..., permutation="lu")`).
#
# We train both exactly as in section 4 and add them to the table.

# %% key="alternatives-train"
for name in (tr("ActNorm"), tr("LU layer")):
    runs[name] = [train_deep(variants[name], seed) for seed in deep_seeds]
print_deep_table(list(variants))
expect_at_most(tr("diverged runs, all variants"), sum(diverged(run) for name in runs for run in runs[name]), 0)
expect_at_most(
    tr("largest mean test NLL - oracle of the four variants (nats per dimension)"),
    max(mean([run["test"] for run in runs[name]]) for name in runs) - oracle,
    0.3,
)
expect_at_least(
    tr("best mean test NLL of ActNorm and the LU layer minus the plain flow's (nats per dimension)"),
    min(mean([run["test"] for run in runs[name]]) for name in (tr("ActNorm"), tr("LU layer"))) - plain_test,
    -0.01,
)

# %% key="alternatives-plot"
plot_deep_curves([tr("ActNorm"), tr("LU layer")])

# %% [markdown] key="alternatives-explained"
# ActNorm and the LU layer do not beat the plain flow on these data either. In some of our full runs, with
# the same seeds, one flow with the LU layer had an early spike in its loss and ended well above the
# others; in other runs none did. The curves above show what happened in this run. A dash in the column of
# steps means that a run never came within 0.1 nats of the oracle in training. What they offer is a layer
# that behaves the same in training and eval mode: no batch statistics, no running averages, and so no
# pitfall of the kind that the next section measures.

# %% [markdown] key="pitfall-intro"
# ## 6. The pitfall in a trained flow
#
# Training mode never reads the running averages: it normalizes with the batch statistics. So a flow
# trained with the pitfall's rule of section 3 gets exactly the same parameters as one trained with
# momentum 0.05; only its running averages differ, and they are essentially the statistics of the last
# batch. We can therefore reproduce the pitfall without training again: take each BatchNorm flow of
# section 4, copy it, set the momentum of its BatchNorm layers to 0.95, and pass one more training batch
# through it in training mode, without a gradient step. We do that for several different last batches
# and evaluate the test NLL in eval mode each time. Two references: the flow as trained (momentum 0.05),
# and the statistics of all 10,000 training points at once (momentum 1 with the whole training set as one
# batch), the best the running averages could hold.


# %% key="pitfall-code"
def batchnorm_layers(flow: Flow) -> list[BatchNorm]:
    return [module for module in flow.modules() if isinstance(module, BatchNorm)]


def recalibrated(flow: Flow, points: torch.Tensor, momentum: float) -> Flow:
    """A copy of `flow` whose running averages took one more step towards the statistics of `points`."""
    copy = Flow(realnvp(2, layers=12, hidden_sizes=(32, 32), normalization="batch"), 2)
    copy.load_state_dict(flow.state_dict())
    for module in batchnorm_layers(copy):
        module.momentum = momentum
    copy.train()
    with torch.no_grad():
        copy.log_prob(points)  # training mode: no parameter changes, only the running averages move
    return copy


last_batches = budget(full=10, fast=2)
pitfall_rows, spreads, losses, agreements = [], [], [], []
for seed, run in zip(deep_seeds, runs[tr("BatchNorm")], strict=True):
    as_trained = evaluate_nll(run["flow"], moons.test).per_dim
    whole_data = evaluate_nll(recalibrated(run["flow"], moons.train, momentum=1.0), moons.test).per_dim
    after_pitfall = [
        evaluate_nll(
            recalibrated(run["flow"], moons.train[torch.randint(len(moons.train), (256,), generator=generator)], 0.95),
            moons.test,
        ).per_dim
        for _batch in range(last_batches)
    ]
    spreads.append(max(after_pitfall) - min(after_pitfall))
    losses.append(mean(after_pitfall) - whole_data)
    agreements.append(abs(as_trained - whole_data))
    pitfall_rows.append(
        [
            seed,
            number(as_trained, ".3f"),
            number(whole_data, ".3f"),
            number(mean(after_pitfall), ".3f"),
            f"{number(min(after_pitfall), '.3f')} … {number(max(after_pitfall), '.3f')}",
        ]
    )
print_table(
    [
        tr("seed"),
        tr("momentum 0.05"),
        tr("statistics of all training data"),
        tr("decay 0.95 (mean)"),
        tr("decay 0.95 (range over last batches)"),
    ],
    pitfall_rows,
)

expect_at_most(
    tr("largest |momentum 0.05 - statistics of all training data| (nats per dimension)"), max(agreements), 0.01
)
expect_at_least(tr("mean loss of the pitfall against all training data (nats per dimension)"), mean(losses), 0.015)
expect_at_least(tr("largest spread of the test NLL over the last batches (nats per dimension)"), max(spreads), 0.03)

# %% [markdown] key="pitfall-explained"
# With momentum 0.05 the test NLL is within 0.01 nats of the one with the statistics of all the training
# data: at the end of training the learning rate has decayed, the layers change slowly, and 20 batches
# average the noise away. With the pitfall's statistics the test NLL depends on which batch came last, and
# it is worse on average; the range over the last batches shows how much luck is involved. So keep the
# momentum small, or, to be safe, recompute the statistics on the training data after training, as the
# column "statistics of all training data" did.

# %% [markdown] key="summary"
# ## Summary
#
# - BatchNorm as a bijector: $u = (x - m)/\sqrt{v + \varepsilon}\, e^{\gamma} + \beta$ in the density
#   direction, with log-det $\sum_i (\gamma_i - \tfrac12 \log(v_i + \varepsilon))$, checked against the
#   brute-force Jacobian; the sampling direction has its negative.
# - In training mode the density direction uses the batch's mean and variance, so a point's log-density
#   depends on its batch; eval mode and sampling use the running averages, so there the layer is one fixed
#   affine map that inverts exactly.
# - The running average $r \leftarrow (1 - \text{momentum})\, r + \text{momentum}\cdot b$ with momentum
#   0.05 remembers about 20 batches. The rule $r \leftarrow r - \text{decay}\,(r - b)$ with decay 0.95 is
#   the same with momentum 0.95: it follows the last batch, and a trained flow's eval-mode NLL then depends
#   on which batch came last.
# - Measured on the moons with a 12-layer Real-NVP that starts as the identity: BatchNorm did not speed
#   training up (the plain flow came close to the oracle sooner), no run diverged with or without it, and
#   the final test NLL was about the same. ActNorm (a data-dependent start, then ordinary parameters) and
#   the LU layer (a learned invertible affine map) behave the same in training and eval mode; here they did
#   not beat the plain flow either. Measure before you add a layer.

# %% [markdown] key="try-next"
# ## What to try next
#
# - Start the flows of section 4 randomly, as `realnvp` does by default (leave out `zero_last_layer=True`), or
#   raise the learning rate to $3 \cdot 10^{-2}$. Which variant diverges now?
# - Train on `load("checkerboard")` or `load("spirals")` and fill in the table again.
# - In section 6, use last batches of 32 points. How large does the spread of the test NLL get?
# - Put BatchNorm into a MAF instead: `maf(2, layers=12, normalization="batch")`.
#
# The exercise sheet of this lesson asks you to write the BatchNorm bijector in both directions, its
# running averages, and ActNorm's start from the first batch.

# %% [markdown] key="references"
# ## References
#
# - L. Dinh, J. Sohl-Dickstein, S. Bengio. *Density estimation using Real NVP.* ICLR 2017.
#   [arXiv:1605.08803](https://arxiv.org/abs/1605.08803)
# - S. Ioffe, C. Szegedy. *Batch Normalization: Accelerating Deep Network Training by Reducing Internal
#   Covariate Shift.* ICML 2015. [arXiv:1502.03167](https://arxiv.org/abs/1502.03167)
# - G. Papamakarios, T. Pavlakou, I. Murray. *Masked Autoregressive Flow for Density Estimation.* NeurIPS
#   2017. [arXiv:1705.07057](https://arxiv.org/abs/1705.07057)
# - D. P. Kingma, P. Dhariwal. *Glow: Generative Flow with Invertible 1x1 Convolutions.* NeurIPS 2018.
#   [arXiv:1807.03039](https://arxiv.org/abs/1807.03039)
