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
# # Inverse Autoregressive Flow (IAF) and Parallel WaveNet

# %% [markdown] key="goals"
# A MAF (Masked Autoregressive Flow, lesson 02) evaluates a density in one pass but samples in $D$ steps,
# one coordinate after another. In this lesson we turn the layer around: the Inverse Autoregressive Flow
# (IAF) samples in one pass and pays with slow density evaluation. Then we combine the two, as Parallel
# WaveNet did for speech. After this lesson you can:
#
# - write an IAF layer in plain PyTorch that samples in one pass and needs $D$ steps for the density of a
#   point from outside;
# - explain why an IAF is a MAF with its two directions swapped, and build one as `Invert(maf(...))`;
# - measure the cost of density evaluation and of sampling for MAF and IAF as $D$ grows, and name the
#   asymptotics you see;
# - get the density of an IAF's own samples for free, and check it against the slow way;
# - train a MAF teacher by maximum likelihood and distil it into an IAF student with the reverse
#   Kullback–Leibler (KL) divergence, see over several seeds where the reverse KL leaves mass out, and
#   make it more reliable by annealing;
# - compare teacher and student in quality and speed.
#
# *Time: about 60 minutes.*

# %% key="setup-code"
import math

import matplotlib.pyplot as plt
import torch
from torch import nn

from nfcourse.bijectors import AffineAutoregressive, Invert, iaf, maf
from nfcourse.conditioners import MADE
from nfcourse.datasets import load
from nfcourse.distillation import (
    DistillationHistory,
    annealing,
    distill,
    distillation_loss,
    log_densities_of_student_samples,
)
from nfcourse.flow import Flow
from nfcourse.i18n import number, tr
from nfcourse.jacobian import brute_force_logdet
from nfcourse.plotting import compare, plot_scaling
from nfcourse.runtime import budget, by_mode, expect_at_most, expect_equal, seed_everything
from nfcourse.text import print_rows, print_table
from nfcourse.timing import growth_exponent, seconds_in_turns, seconds_per_call
from nfcourse.training import cosine_schedule, evaluate_nll, evaluate_oracle, fit

generator = seed_everything(0)  # one seed for the whole notebook; pass `generator` wherever we sample


def randomize(module: nn.Module, scale: float = 0.3) -> nn.Module:
    """Random weights everywhere (a fresh MADE starts as the identity, which would hide every effect)."""
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(scale * torch.randn(parameter.shape, generator=generator))
    return module


# %% [markdown] key="recap"
# ## 1. From MAF to IAF: condition on the noise
#
# A MAF layer (lessons 01 and 02) computes shift and log-scale of coordinate $i$ from the earlier *data*
# coordinates:
#
# $$x_i = u_i\, e^{\alpha_i} + \mu_i, \qquad (\mu_i, \alpha_i) = c(x_{<i}).$$
#
# For density evaluation all of $x$ is given, so one call of the conditioner $c$ gives every
# $(\mu_i, \alpha_i)$. For sampling, $x_{<i}$ must exist before $x_i$ can be computed: $D$ calls, one after
# another.
#
# The Inverse Autoregressive Flow (Kingma et al., 2016) feeds the conditioner the earlier *noise*
# coordinates instead:
#
# $$x_i = u_i\, e^{\alpha_i} + \mu_i, \qquad (\mu_i, \alpha_i) = c(u_{<i}).$$
#
# Now sampling is one pass: all of $u$ is drawn first, then one conditioner call gives every shift and
# scale. The Jacobian $\partial x / \partial u$ is still triangular with diagonal $e^{\alpha_i}$, so
#
# $$\log q(x) = \log \mathcal N(u; 0, I) - \sum_i \alpha_i .$$
#
# The price is paid in the other direction. To evaluate $q$ at a point $x$ that the flow did not produce,
# we need $u$, and $u_i = (x_i - \mu_i)\, e^{-\alpha_i}$ needs $u_{<i}$: the recursion MAF used for sampling.
# Start with $u = 0$ and apply the formula $D$ times; after step $k$ the first $k$ coordinates are final,
# because each depends only on coordinates before it.
#
# Below, one IAF layer written from scratch, with a MADE (masked autoencoder, lesson 02) as the conditioner and a counter of its
# calls. (The $\tanh$ on $\alpha$ only keeps $e^{\alpha}$ tame with random weights; it is not part of the
# method.)


# %% key="scratch-code"
class CountingConditioner(nn.Module):
    """A MADE whose two outputs are (mu, alpha), with alpha bounded by tanh; counts how often it runs."""

    def __init__(self, dim: int, hidden_sizes: tuple[int, ...] = (64, 64)) -> None:
        super().__init__()
        self.made = MADE(dim, hidden_sizes)
        self.calls = 0

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.calls += 1
        mu, alpha = self.made(h).unbind(dim=1)  # each (batch, D)
        return mu, torch.tanh(alpha)


def log_normal(u: torch.Tensor) -> torch.Tensor:
    """log N(u; 0, I), one number per row."""
    return -0.5 * (u**2).sum(dim=1) - 0.5 * u.shape[1] * math.log(2 * math.pi)


def iaf_sample(u: torch.Tensor, conditioner: CountingConditioner) -> tuple[torch.Tensor, torch.Tensor]:
    """One pass: x_i = u_i exp(alpha_i) + mu_i with (mu, alpha) from u; and log q(x) of those samples."""
    mu, alpha = conditioner(u)
    x = u * torch.exp(alpha) + mu
    return x, log_normal(u) - alpha.sum(dim=1)


def iaf_log_prob(x: torch.Tensor, conditioner: CountingConditioner) -> tuple[torch.Tensor, torch.Tensor]:
    """D steps: recover u coordinate by coordinate, then log q(x) = log N(u) - sum(alpha)."""
    u = torch.zeros_like(x)
    for _step in range(x.shape[1]):
        mu, alpha = conditioner(u)  # exact for u_1..u_k after step k
        u = (x - mu) * torch.exp(-alpha)
    return u, log_normal(u) - alpha.sum(dim=1)


# %% key="scratch-numbers"
dim = 6
conditioner = randomize(CountingConditioner(dim).double())
u = torch.randn(2_000, dim, generator=generator, dtype=torch.float64)

conditioner.calls = 0
with torch.no_grad():
    x, log_q_cheap = iaf_sample(u, conditioner)
sample_calls = conditioner.calls

conditioner.calls = 0
with torch.no_grad():
    u_back, log_q_slow = iaf_log_prob(x, conditioner)
density_calls = conditioner.calls

with torch.no_grad():
    log_det_brute = brute_force_logdet(lambda v: iaf_sample(v, conditioner)[0], u[:200])
    log_det_formula = conditioner(u[:200])[1].sum(dim=1)
print(tr("D = {dim}").format(dim=dim))
print(tr("conditioner calls to sample: {n}").format(n=sample_calls))
print(tr("conditioner calls for the density of given points: {n}").format(n=density_calls))
print(tr("largest |u recovered - u|: {err:.1e}").format(err=(u_back - u).abs().max().item()))
print(
    tr("largest difference of log q, cheap (kept u) vs slow (recursion): {err:.1e}").format(
        err=(log_q_cheap - log_q_slow).abs().max().item()
    )
)
print(
    tr("largest difference of sum(alpha) vs brute-force log|det J|: {err:.1e}").format(
        err=(log_det_brute - log_det_formula).abs().max().item()
    )
)

# %% [markdown] key="scratch-explained"
# One call to sample, $D$ calls to evaluate the density of given points: the mirror image of MAF. Both ways
# agree on $\log q$ to round-off, the recursion recovers the noise up to round-off, and $\sum_i \alpha_i$ is
# the log-det of the full Jacobian, which autograd computed here by brute force.

# %% [markdown] key="invert-intro"
# ## 2. The library: an IAF is `Invert(maf(...))`
#
# Compare the IAF's density step, $u_i = (x_i - \mu_i(u_{<i}))\, e^{-\alpha_i(u_{<i})}$, with MAF's sampling
# step, $x_i = u_i\, e^{\alpha_i(x_{<i})} + \mu_i(x_{<i})$: the same recursion, with the roles of the letters
# exchanged and the affine map turned around. So we need no second class. Take a MAF layer and
# swap its two directions: its one-pass density direction becomes the sampling direction, its $D$-step
# sampling direction becomes the density direction. The library's `Invert(bijector)` does exactly that (its
# `forward` is `bijector.inverse`, its `inverse` is `bijector.forward`, log-dets included), and
# `iaf(...)` is a single line, `Invert(maf(...))`.
#
# One detail: the library's IAF sample is $x = (u - \mu(u))\,e^{-\alpha(u)}$, MAF's density formula, rather
# than $u\,e^{\alpha} + \mu$. Both are IAFs: put $\alpha' = -\alpha$ and $\mu' = -\mu\, e^{-\alpha}$ and one
# becomes the other, and the networks learn whichever shift and log-scale they need. (The exercise sheet
# asks for the form $u\,e^{\alpha} + \mu$.)

# %% key="invert-code"
maf_layer = randomize(AffineAutoregressive(MADE(dim, (64, 64)), dim)).double()
iaf_layer = Invert(maf_layer)  # no new parameters: the very same network
with torch.no_grad():
    x_iaf, logdet_iaf = iaf_layer.forward(u)
    x_maf, logdet_maf = maf_layer.inverse(u)
    u_iaf, _logdet = iaf_layer.inverse(x_iaf)
print(
    tr("Invert(layer).forward(u) equals layer.inverse(u): values {values}, log-dets {logdets}").format(
        values=torch.equal(x_iaf, x_maf), logdets=torch.equal(logdet_iaf, logdet_maf)
    )
)
print(tr("largest |inverse(forward(u)) - u|: {err:.1e}").format(err=(u_iaf - u).abs().max().item()))
shared = all(p is q for p, q in zip(iaf_layer.parameters(), maf_layer.parameters(), strict=True))
print(tr("the same parameter tensors: {shared}").format(shared=shared))

flow_bijector = iaf(dim, layers=3, hidden_sizes=(64, 64))
print(
    tr("iaf(...) = {outer}({inner}(...)), with these steps:").format(
        outer=type(flow_bijector).__name__, inner=type(flow_bijector.bijector).__name__
    )
)
print("   ", [type(layer).__name__ for layer in flow_bijector.bijector])

# %% [markdown] key="scaling-intro"
# ## 3. Measuring the trade-off
#
# One autoregressive layer, its MADE with two hidden layers of 128 units (enough for $D$ up to 129), a
# batch of 256 points, and $D = 2, 4, \dots, 64$. We time the four operations with `seconds_in_turns` (one
# thread, all sizes and operations in turns, the fastest of 7 runs after a warm-up): MAF density
# (`inverse`), MAF sampling (`forward`), and the same for `Invert` of that layer, the IAF. We also count the
# conditioner calls of each.
#
# **Predict before you run.** On a log-log plot, which of the four lines stay nearly flat, and which grow with
# slope 1?
# Which pairs of lines lie on top of each other?

# %% key="scaling-code"
sizes = [2, 4, 8, 16, 32, 64]
batch = torch.randn(256, max(sizes), generator=generator)
operations = {
    tr("MAF density"): lambda layer, points: layer.inverse(points),
    tr("MAF sampling"): lambda layer, points: layer.forward(points),
    tr("IAF density"): lambda layer, points: Invert(layer).inverse(points),
    tr("IAF sampling"): lambda layer, points: Invert(layer).forward(points),
}
layers = {dim_d: randomize(AffineAutoregressive(MADE(dim_d, (128, 128)), dim_d), scale=0.05) for dim_d in sizes}
timed = {
    (name, dim_d): lambda op=operation, lay=layers[dim_d], pts=batch[:, :dim_d]: op(lay, pts)
    for dim_d in sizes
    for name, operation in operations.items()
}
measured = seconds_in_turns(timed, repeats=7)
seconds = {name: [measured[name, dim_d] for dim_d in sizes] for name in operations}
calls = {name: [] for name in operations}
for dim_d in sizes:
    for name, operation in operations.items():
        counter = {"n": 0}
        hook = layers[dim_d].conditioner.register_forward_hook(lambda *_args, c=counter: c.__setitem__("n", c["n"] + 1))
        with torch.no_grad():
            operation(layers[dim_d], batch[:, :dim_d])
        hook.remove()
        calls[name].append(counter["n"])

rows = [
    [
        dim_d,
        *(number(1e3 * seconds[name][k], ".2f") for name in operations),
        ", ".join(str(calls[name][k]) for name in operations),
    ]
    for k, dim_d in enumerate(sizes)
]
print_table(["D", *operations, tr("conditioner calls")], rows)
print(tr("(times in ms for 256 points; the calls in the order of the columns)"))
print_rows([(name, number(growth_exponent(sizes, seconds[name]), ".2f")) for name in operations])
slow_over_fast = seconds[tr("IAF density")][-1] / seconds[tr("IAF sampling")][-1]
print(
    tr("at D = {d} the IAF density takes {ratio:.0f} times as long as IAF sampling").format(
        d=sizes[-1], ratio=slow_over_fast
    )
)

# %% key="scaling-plot"
fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
plot_scaling(sizes, seconds, ylabel=tr("seconds per call (256 points)"), guides=(0, 1), ax=ax)
ax.set_title(tr("One autoregressive layer: MAF and IAF"))
ax.set_xticks(sizes, [str(d) for d in sizes])
ax.set_xticks([], minor=True)
plt.show()

# %% [markdown] key="scaling-explained"
# The counts say it exactly: MAF density and IAF sampling take one conditioner call, MAF sampling and IAF
# density take $D$. The times follow; the lines above print each operation's growth exponent over
# $D = 8$ to 64 (times from one machine: read them to one digit). One MADE pass costs one multiply-add per
# weight and point: $128D$ in the input layer, $128^2$ in the middle layer, and $128 \cdot 2D$ in the output
# layer ($\mu$ and $\alpha$), $384D + 128^2$ in all (checked below). At small $D$ the middle layer
# dominates, so the one-pass operations grow slowly; from $D \approx 43$ on the $D$-dependent part is the
# larger one. The $D$-step operations repeat that pass $D$ times: an exponent of about 1, a little more,
# because the pass itself grows with $D$. Since the IAF *is* the inverted MAF layer, its lines are MAF's
# with the labels swapped: one network, two speeds, and the choice of direction decides which job gets the
# fast one.

# %% key="scaling-formula"
multiply_adds = [sum(p.numel() for name, p in layers[d].named_parameters() if name.endswith("weight")) for d in sizes]
expect_equal(
    tr("multiply-adds of one MADE pass per point = 384 D + 128²"), multiply_adds, [384 * d + 128**2 for d in sizes]
)

# %% [markdown] key="own-samples-intro"
# ## 4. The density of the IAF's own samples is cheap
#
# When the IAF produces a sample it knows $u$, so it does not need the recursion: `Flow.sample_and_log_prob`
# returns $\log q(x) = \log \mathcal N(u; 0, I) - \log|\det J_f(u)|$ from the same single pass. Below, a
# three-layer IAF in $D = 16$: samples with their log-density, then `log_prob` of the same points, which
# must run the recursion backwards through every layer. Same numbers, very different cost.

# %% key="own-samples-code"
dim_own = 16
iaf_flow = Flow(randomize(iaf(dim_own, layers=3, hidden_sizes=(64, 64)), scale=0.05), dim_own)
with torch.no_grad():
    x_own, log_q_own = iaf_flow.sample_and_log_prob(1_000, generator)
    log_q_again = iaf_flow.log_prob(x_own)
print(
    tr("largest difference of the two log-densities: {err:.1e}").format(
        err=(log_q_own - log_q_again).abs().max().item()
    )
)
cheap = seconds_per_call(lambda: iaf_flow.sample_and_log_prob(1_000, generator))
slow = seconds_per_call(lambda: iaf_flow.log_prob(x_own))
print(
    tr("sample_and_log_prob: {ms:.2f} ms; log_prob of the same points: {slow:.2f} ms ({ratio:.0f}x)").format(
        ms=1e3 * cheap, slow=1e3 * slow, ratio=slow / cheap
    )
)

# %% [markdown] key="pwn-intro"
# ## 5. Parallel WaveNet: a MAF teacher, an IAF student
#
# Each flow is fast at one job. A MAF trains efficiently by maximum likelihood: that needs the density of
# the data, its fast direction. But it samples slowly. An IAF samples fast, but maximum likelihood on data
# would need its slow direction at every training step. WaveNet, an autoregressive model of audio, is of
# the first kind: fast density, but one step per audio sample to generate. Parallel WaveNet (van den Oord
# et al., 2018) used both kinds. First train a MAF-like **teacher** $p$ on the data. Then train an IAF
# **student** $q$ without data, by making it agree with the frozen teacher on the student's own samples.
#
# Maximum likelihood minimizes the KL divergence from the data distribution to the model $p_\theta$ it
# trains, $\mathrm{KL}(p_\text{data} \,\|\, p_\theta)$: the test NLL (negative log-likelihood) is the entropy
# plus this KL (lesson 00), an average over the data. The student minimizes the **reverse** KL to the teacher $p$, with
# the model in the first place, an average over the student's own samples:
#
# $$\mathrm{KL}(q \,\|\, p) = \mathbb E_{x \sim q}\big[\log q(x) - \log p(x)\big]
# \approx \frac1n \sum_{k=1}^n \big(\log q(x_k) - \log p(x_k)\big), \qquad x_k = f_q(u_k).$$
#
# Every term is cheap: $x_k$ and $\log q(x_k)$ come from the student's one-pass sampling (section 4), and
# $\log p(x_k)$ from the teacher's one-pass density. How does a gradient reach the student, when the
# distribution the average runs over changes with the student's parameters $\theta$? Write every sample
# as $x_k = f_\theta(u_k)$ with $u_k \sim \mathcal N(0, I)$. The average then runs over the noise, whose
# distribution does not depend on $\theta$, so the gradient of the average is the average of the
# gradients, and each term depends on $\theta$ differentiably, through $x_k = f_\theta(u_k)$ and through
# $\log q_\theta$ (the *reparameterization trick*).
# This is `nfcourse.distillation.distillation_loss`, and `distill(student, teacher, steps=...)` is a
# training loop around it, as short as `fit`.
#
# We try it on two moons. The teacher first: a MAF of five layers, trained as in lesson 02.

# %% key="teacher-train"
moons = load("moons", n_train=20_000, n_test=5_000, seed=0)
teacher_steps = budget(full=3000, fast=800)
teacher = Flow(maf(2, layers=5, hidden_sizes=(64, 64)), dim=2)
teacher_history = fit(
    teacher,
    moons.train,
    moons.test,
    steps=teacher_steps,
    lr=by_mode(full=3e-3, fast=5e-3),
    schedule=cosine_schedule(teacher_steps),
)
teacher = teacher.cpu()
teacher_nll = evaluate_nll(teacher, moons.test)
oracle = evaluate_oracle(moons)
print(tr("teacher (MAF) test NLL:  {nll}").format(nll=teacher_nll))
print(tr("oracle (data entropy):   {nll} ± {se:.3f}").format(nll=oracle, se=moons.oracle_nll_standard_error()))
print(tr("teacher training took {seconds:.0f} s").format(seconds=teacher_history.seconds))
expect_at_most(tr("teacher test NLL minus the entropy (nats)"), teacher_nll.total - oracle.total, 0.08)

# %% [markdown] key="student-predict"
# Now the student: an IAF of the same size. We start its MADEs with a zero last layer
# (`zero_last_layer=True`; by default `iaf` starts them randomly), so it starts as the identity map: its
# first samples are the standard Gaussian itself (the cell below checks it). It never
# sees a data point. Because its result depends on its random start, we train one student for each of
# a few seeds. (The students learn with a learning rate of $10^{-3}$; in fast mode, with only 600 steps,
# with $3 \cdot 10^{-3}$, so that they get somewhere.)
#
# **Predict before you run.** The reverse KL punishes the student for putting mass where the teacher has
# little ($\log q - \log p$ large), but hardly for leaving out places where the teacher has mass: the
# student rarely samples them. What could the student's samples get wrong, and what would that do to its
# NLL on the test data?

# %% key="student-train"
student_steps = budget(full=3000, fast=600)
student_seeds = range(budget(full=4, fast=2))


def new_student(seed: int) -> Flow:
    torch.manual_seed(seed)  # its random initial weights (except the zero last layer of each MADE)
    return Flow(iaf(2, layers=5, hidden_sizes=(64, 64), zero_last_layer=True), dim=2)


def distilled_student(seed: int, beta=None) -> tuple[Flow, DistillationHistory]:
    """A student trained on the teacher, with `seed` for its start and its noise; `beta` for annealing."""
    student = new_student(seed)
    history = distill(
        student,
        teacher,
        steps=student_steps,
        batch_size=512,
        lr=by_mode(full=1e-3, fast=3e-3),
        clip_grad_norm=1.0,
        beta=beta,
        schedule=cosine_schedule(student_steps),
        seed=seed,
    )
    return student.cpu(), history


with torch.no_grad():
    u_check = torch.randn(1_000, 2, generator=generator)
    x_check, _logdet = new_student(0).bijector.forward(u_check)
    log_q_start, log_p_start = log_densities_of_student_samples(new_student(0), teacher, 512, generator)
print(tr("fresh student: largest |x - u| of its samples: {err:.1e}").format(err=(x_check - u_check).abs().max().item()))
terms = log_q_start - log_p_start
print(
    tr("its first batch of 512: log q - log p has median {median:.3g} and maximum {largest:.3g} nats").format(
        median=terms.median().item(), largest=terms.max().item()
    )
)
plain_students = {seed: distilled_student(seed) for seed in student_seeds}

# %% key="student-curve"
fig, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
for seed, (_student, history) in plain_students.items():
    ax.plot(history.steps, history.kl, label=tr("seed {seed}").format(seed=seed))
ax.set_yscale("log")
ax.set_xlabel(tr("distillation step"))
ax.set_ylabel(tr("KL(student ‖ teacher) (nats)"))
ax.set_title(tr("Reverse KL estimate during distillation (mean over 25 steps)"))
ax.grid(True, which="both", alpha=0.3)
ax.legend(fontsize="small")
plt.show()

# %% [markdown] key="student-curve-explained"
# The first estimates are huge, and the line above the plot says why: the fresh student samples a standard
# Gaussian, and the teacher gives points far off the moons a tiny density, so a few terms
# $\log q - \log p$ are enormous while the median term is moderate. One such term dominates the mean of a
# whole batch. The KL then falls by orders of magnitude within a few hundred steps and keeps creeping
# down (the curve is on a log scale); now and then an average jumps up again, when a batch holds such a
# sample. We clip the norm of the gradient at 1 (`clip_grad_norm=1.0`), so that no single batch can move
# the student too far.
#
# The KL says how well the student matches the teacher on the student's own samples. What it hardly sees
# is mass the student leaves out. Below, for every seed: the KL on 20,000 fresh samples; the share of the
# student's samples on the upper moon (the data have about half there, and the teacher's share is
# printed too); the gap of the student's test NLL to the oracle; the share of test points to which the
# student gives almost no density, $\log q(x) < -10$; and the gap of the test NLL to the oracle on all
# the other test points.


# %% key="student-table"
def moons_report(flow: Flow) -> dict[str, float]:
    """What the table shows for one model: reverse KL, upper-moon share, test NLL gap, nearly left-out points,
    and the gap on the other test points alone (their oracle: the true log-density of the same points)."""
    with torch.no_grad():
        log_q = flow.log_prob(moons.test)
        samples = flow.sample(20_000, generator)
    kept = log_q >= -10
    return {
        "kl": distillation_loss(flow, teacher, 20_000, generator).item() if flow is not teacher else 0.0,
        "upper": moons.curve_shares(samples)[0].item(),
        "gap": -log_q.mean().item() - oracle.total,
        "left_out": 1 - kept.float().mean().item(),
        "gap_without": (moons.log_prob(moons.test)[kept] - log_q[kept]).mean().item(),
    }


def print_report(reports: dict[str, dict[str, float]]) -> None:
    headers = ["", tr("reverse KL"), tr("upper moon"), tr("NLL - oracle"), tr("log q < -10"), tr("without them")]
    rows = [
        [
            name,
            number(report["kl"], ".3f"),
            number(report["upper"], ".2f"),
            number(report["gap"], ".3g"),
            number(report["left_out"], ".2%"),
            number(report["gap_without"], ".3f"),
        ]
        for name, report in reports.items()
    ]
    print_table(headers, rows)


teacher_report = moons_report(teacher)
print(tr("data: upper moon {share}").format(share=number(moons.curve_shares(moons.test)[0].item(), ".2f")))
plain_reports = {
    tr("seed {seed}").format(seed=seed): moons_report(student) for seed, (student, _h) in plain_students.items()
}
print_report({tr("teacher"): teacher_report, **plain_reports})


def missed(reports: dict[str, dict[str, float]]) -> int:
    """How many students have a test NLL more than 1 nat above the teacher's."""
    return sum(report["gap"] > teacher_report["gap"] + 1 for report in reports.values())


print(
    tr("students whose test NLL is more than 1 nat above the teacher's: {missed} of {total}").format(
        missed=missed(plain_reports), total=len(plain_reports)
    )
)

# %% [markdown] key="student-table-explained"
# Read the rows with a small KL first: such a student agrees with the teacher on its own samples. Its
# test NLL can still be far above the teacher's, and how far differs from seed to seed. The test NLL
# scores the *data* under the student's density, and the reverse KL barely notices mass the student
# leaves out, a moon end cut short or too little mass on one moon, because the student seldom samples
# there. A test point in such a place gets a density so small that a few of them can dominate the mean:
# compare the gap to the oracle with the gap without them, in the last column. That is the *mode-seeking*
# side of the reverse KL. How often it strikes
# depends on the seed and on the settings; `python -m benchmarks.distillation` repeats this distillation
# over many seeds and two learning rates, and the README lists what it found.

# %% [markdown] key="anneal-intro"
# ## 6. Annealing: cover everything first, sharpen later
#
# A student that has left out part of the teacher's mass gets almost no signal to go back: it does not
# sample there. So let it start broad. Minimizing $\mathbb E_q[\log q - \beta \log p]$ with $\beta < 1$
# fits $q$ to the *flattened* teacher $p^\beta / Z_\beta$ ($Z_\beta$ makes it a density; it does not change the
# gradient). For $\beta = \tfrac14$ and a Gaussian teacher, for example, $p^\beta/Z_\beta$ is the same
# Gaussian twice as wide. Raising $\beta$ to 1 during training lets the student cover all of the teacher
# first and sharpen onto it afterwards; from then on the loss is the KL again. `distill` takes such a
# schedule: `beta=annealing(0.1, steps // 2)` raises $\beta$ from 0.1 to 1 over the first half of the
# steps.
#
# **Predict before you run.** Which columns of the table should change, and which should not?

# %% key="anneal-train"
annealed_students = {seed: distilled_student(seed, beta=annealing(0.1, student_steps // 2)) for seed in student_seeds}
annealed_reports = {
    tr("seed {seed}").format(seed=seed): moons_report(student) for seed, (student, _h) in annealed_students.items()
}
print_report({tr("teacher"): teacher_report, **annealed_reports})
for name, reports in ((tr("without annealing"), plain_reports), (tr("with annealing"), annealed_reports)):
    left_out = [r["left_out"] for r in reports.values()]
    print(
        tr(
            "{name}: {missed} of {total} students more than 1 nat above the teacher; nearly left out: {mean} on average"
        ).format(
            name=name, missed=missed(reports), total=len(reports), mean=number(sum(left_out) / len(left_out), ".2%")
        )
    )
expect_at_most(
    tr("largest reverse KL of the annealed students (nats)"), max(r["kl"] for r in annealed_reports.values()), 0.3
)
expect_at_most(
    tr("largest share of test points an annealed student nearly leaves out"),
    max(r["left_out"] for r in annealed_reports.values()),
    0.01,
)
expect_at_most(
    tr("worst NLL - oracle of the annealed students on the other test points (nats)"),
    max(r["gap_without"] for r in annealed_reports.values()),
    0.3,
)

# %% [markdown] key="anneal-explained"
# Compare the two lines above the targets: annealing makes the places the student leaves out rarer.
# After the full training every annealed student gives almost all test points a sensible density, and on
# those its test NLL is close to the oracle: that is what the targets check. It does not make gaps
# impossible. A handful of test points in a gap still ruin the mean test NLL of a student, annealed or not,
# and a student may still put a little too much mass on one moon. (With the budget of fast mode both
# kinds of students stay further from the teacher.) Below, the teacher beside the worst student of each
# kind (by test NLL).

# %% key="student-plot"
worst_plain = max(plain_students, key=lambda seed: plain_reports[tr("seed {seed}").format(seed=seed)]["gap"])
worst_annealed = max(annealed_students, key=lambda seed: annealed_reports[tr("seed {seed}").format(seed=seed)]["gap"])
shown = {
    tr("teacher (MAF)"): teacher,
    tr("student without annealing, seed {seed}").format(seed=worst_plain): plain_students[worst_plain][0],
    tr("student with annealing, seed {seed}").format(seed=worst_annealed): annealed_students[worst_annealed][0],
}
compare(
    shown,
    moons.test,
    nll={name: evaluate_nll(flow, moons.test).per_dim for name, flow in shown.items()},
    title=tr("two moons: densities (top), samples (bottom)"),
    generator=generator,
)

# %% [markdown] key="student-compare-explained"
# (In 2-D the test NLL of an IAF is still cheap to evaluate, two steps per layer; for audio, with $D$ in the
# tens of thousands, it is out of reach, and Parallel WaveNet's training was designed so that it never
# needs it.)

# %% [markdown] key="speed-intro"
# ## 7. What the student is for: sampling speed
#
# The teacher samples with the $D$-step recursion in every layer, the student with one pass per layer.
# Both have five layers of the same MADE size. We time 10,000 samples each (the annealed student of the
# first seed), and also the density of 10,000 points, where the roles swap.

# %% key="speed-code"
n_speed = 10_000
points = moons.test.repeat(2, 1)  # the 5,000 test points twice: (10000, 2)
student = annealed_students[0][0]
measured = seconds_in_turns(
    {
        (tr("teacher (MAF)"), "sample"): lambda: teacher.sample(n_speed, generator),
        (tr("teacher (MAF)"), "density"): lambda: teacher.log_prob(points),
        (tr("student (IAF)"), "sample"): lambda: student.sample(n_speed, generator),
        (tr("student (IAF)"), "density"): lambda: student.log_prob(points),
    }
)
print_table(
    ["", tr("sampling (ms)"), tr("density (ms)")],
    [
        [name, *(number(1e3 * measured[name, what], ".2f") for what in ("sample", "density"))]
        for name in (tr("teacher (MAF)"), tr("student (IAF)"))
    ],
)
speedup = measured[tr("teacher (MAF)"), "sample"] / measured[tr("student (IAF)"), "sample"]
print(tr("the student samples {speedup:.1f} times as fast as the teacher").format(speedup=speedup))

# %% [markdown] key="speed-explained"
# In two dimensions the recursion has only two steps: to sample, the teacher calls each layer's
# conditioner twice, the student once. The speed-up printed above comes from that ratio of 2, plus the
# Python loop of the recursion, which costs the teacher a little more. It is the ratio of section 3, $D$
# conditioner calls against one, at $D = 2$. For audio, $D$ is the number of samples in a clip, 24,000 for
# one second at 24 kHz, and so is the ratio. The densities go the other way: the teacher evaluates them
# fast, the student slowly.

# %% [markdown] key="summary"
# ## Summary
#
# - An IAF computes $(\mu_i, \alpha_i)$ from the earlier *noise* coordinates $u_{<i}$: sampling is one pass,
#   the density of an outside point needs a $D$-step recursion. A MAF is the mirror image.
# - They are one layer used in two directions: `iaf(...)` is `Invert(maf(...))`, with the same parameters.
# - Measured: the one-pass operations grow slowly with $D$ (a MADE of fixed width costs $384D + 128^2$
#   multiply-adds per point), the $D$-step ones with an exponent of about 1: $D$ times as many conditioner
#   calls.
# - An IAF gets the density of its own samples for free (`Flow.sample_and_log_prob`), and it agrees with the
#   slow `log_prob` of the same points.
# - Parallel WaveNet: fit a MAF teacher by maximum likelihood, then distil an IAF student by minimizing the
#   reverse KL on the student's own samples. Both steps use only fast directions, and the student samples
#   faster.
# - The reverse KL is mode-seeking: a student can match the teacher on its own samples (a small KL) and
#   still leave out part of the data, which only the test NLL shows; how often depends on the seed.
#   Annealing, $\mathbb E_q[\log q - \beta\log p]$ with $\beta$ rising to 1, made such places rarer: in the
#   full run every annealed student gave almost all test points a sensible density.

# %% [markdown] key="try-next"
# ## What to try next
#
# - In section 3, give the MADE hidden layers of width $2D$ instead of 128 and measure the growth exponents
#   again. What do you expect from the count of multiply-adds?
# - Distil into a smaller student (two layers, or hidden layers of 16 units). How do the KL and the samples
#   change?
# - Train the student with the forward KL instead, $\mathbb E_{x \sim p}[\log p(x) - \log q(x)]$, on teacher
#   samples. Which direction of the student does training need now, is it the fast one, and what happens
#   to the test NLL?
# - Distil a teacher trained on `load("eight_gaussians")`. Does the student keep all eight modes?
# - Leave out `clip_grad_norm=1.0` in `distill` and look at the KL curve.
# - Start the annealing at $\beta = 0.05$ or at $0.5$, or anneal over all the steps. Which seeds change?
#
# The exercise sheet of this lesson asks you to write `Invert` (as a class `Inverted`), IAF sampling with the density of the samples,
# and the distillation loss.

# %% [markdown] key="references"
# ## References
#
# - D. P. Kingma, T. Salimans, R. Jozefowicz, X. Chen, I. Sutskever, M. Welling. *Improved Variational
#   Inference with Inverse Autoregressive Flow.* NeurIPS 2016. [arXiv:1606.04934](https://arxiv.org/abs/1606.04934)
# - G. Papamakarios, T. Pavlakou, I. Murray. *Masked Autoregressive Flow for Density Estimation.* NeurIPS 2017.
#   [arXiv:1705.07057](https://arxiv.org/abs/1705.07057)
# - A. van den Oord, Y. Li, I. Babuschkin, K. Simonyan, O. Vinyals, K. Kavukcuoglu, et al. *Parallel WaveNet:
#   Fast High-Fidelity Speech Synthesis.* ICML 2018. [arXiv:1711.10433](https://arxiv.org/abs/1711.10433)
# - M. Germain, K. Gregor, I. Murray, H. Larochelle. *MADE: Masked Autoencoder for Distribution Estimation.*
#   ICML 2015. [arXiv:1502.03509](https://arxiv.org/abs/1502.03509)
# - G. Papamakarios, E. Nalisnick, D. J. Rezende, S. Mohamed, B. Lakshminarayanan. *Normalizing Flows for
#   Probabilistic Modeling and Inference.* JMLR 22(57), 2021. [arXiv:1912.02762](https://arxiv.org/abs/1912.02762)
