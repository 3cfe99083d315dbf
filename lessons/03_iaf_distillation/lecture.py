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
# A MAF evaluates a density in one pass but samples in $D$ steps, one coordinate after another. This lesson
# turns the layer around: the Inverse Autoregressive Flow samples in one pass and pays with slow density
# evaluation. Then it combines the two, as Parallel WaveNet did for speech. After it you can:
#
# - write an IAF layer in plain PyTorch: one pass to sample, $D$ steps for the density of an outside point;
# - explain why an IAF is a MAF with its two directions swapped, and build one as `Invert(maf(...))`;
# - measure the cost of density evaluation and of sampling for MAF and IAF as $D$ grows, and name the
#   asymptotics you see;
# - get the density of an IAF's own samples for free, and check it against the slow way;
# - train a MAF teacher by maximum likelihood and distil it into an IAF student with the reverse KL
#   divergence, and compare the two in quality and speed.
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
from nfcourse.distillation import distill, distillation_loss
from nfcourse.flow import Flow
from nfcourse.i18n import tr
from nfcourse.jacobian import brute_force_logdet
from nfcourse.plotting import compare, plot_scaling
from nfcourse.runtime import budget, expect_at_most, seed_everything
from nfcourse.timing import seconds_per_call
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
# Here is one IAF layer from scratch, with a MADE as the conditioner (lesson 02) and a counter of its calls.


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
# agree on $\log q$ to round-off, the recursion recovers the noise exactly, and $\sum_i \alpha_i$ is the log-det
# of the full Jacobian, which autograd computed here by brute force.

# %% [markdown] key="invert-intro"
# ## 2. The library: an IAF is `Invert(maf(...))`
#
# Compare the IAF's density step, $u_i = (x_i - \mu_i(u_{<i}))\, e^{-\alpha_i(u_{<i})}$, with MAF's sampling
# step, $x_i = u_i\, e^{\alpha_i(x_{<i})} + \mu_i(x_{<i})$: the same recursion, with the roles of the letters
# exchanged and the affine map turned around. So we need no second class. Take a MAF layer and
# swap its two directions: its one-pass density direction becomes the sampling direction, its $D$-step
# sampling direction becomes the density direction. The library's `Invert(bijector)` does exactly that (its
# `forward` is `bijector.inverse`, its `inverse` is `bijector.forward`, log-dets included), and
# `iaf(...)` is one line, `Invert(maf(...))`, the way the large probability libraries build it too.
#
# One detail: the library's IAF sample is $x = (u - \mu(u))\,e^{-\alpha(u)}$, MAF's density formula, rather
# than $u\,e^{\alpha} + \mu$. Both are IAFs: put $\alpha' = -\alpha$ and $\mu' = -\mu\, e^{-\alpha}$ and one
# becomes the other, and the networks learn whichever shift and log-scale they need.

# %% key="invert-code"
maf_layer = randomize(AffineAutoregressive(MADE(dim, (64, 64)), dim)).double()
iaf_layer = Invert(maf_layer)  # no new parameters: the very same network
with torch.no_grad():
    x_iaf, logdet_iaf = iaf_layer.forward(u)
    x_maf, logdet_maf = maf_layer.inverse(u)
    u_iaf, _logdet = iaf_layer.inverse(x_iaf)
print(
    tr("Invert(layer).forward(u) equals layer.inverse(u):"),
    torch.equal(x_iaf, x_maf),
    torch.equal(logdet_iaf, logdet_maf),
)
print(tr("largest |inverse(forward(u)) - u|: {err:.1e}").format(err=(u_iaf - u).abs().max().item()))
print(
    tr("shared parameters:"), all(p is q for p, q in zip(iaf_layer.parameters(), maf_layer.parameters(), strict=True))
)

flow_bijector = iaf(dim, layers=3, hidden_sizes=(64, 64))
print(
    tr("iaf(...) is a {outer} around a {inner} of:").format(
        outer=type(flow_bijector).__name__, inner=type(flow_bijector.bijector).__name__
    )
)
print("   ", [type(layer).__name__ for layer in flow_bijector.bijector])

# %% [markdown] key="scaling-intro"
# ## 3. The trade-off, measured
#
# One autoregressive layer, its MADE with two hidden layers of 128 units (enough for $D$ up to 128), a
# batch of 256 points, and $D$ from 2 to 64. We time the four operations with `seconds_per_call` (median of
# 7 runs after a warm-up): MAF density (`inverse`), MAF sampling (`forward`), and the same for
# `Invert` of that layer, the IAF. We also count the conditioner calls of each.
#
# **Predict before you run.** On a log-log plot, which of the four lines are flat, and which grow with slope 1?
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
seconds = {name: [] for name in operations}
calls = {name: [] for name in operations}
for dim_d in sizes:
    layer = randomize(AffineAutoregressive(MADE(dim_d, (128, 128)), dim_d), scale=0.05)
    points = batch[:, :dim_d]
    for name, operation in operations.items():
        seconds[name].append(seconds_per_call(lambda op=operation, lay=layer, pts=points: op(lay, pts), repeats=7))
        counter = {"n": 0}
        hook = layer.conditioner.register_forward_hook(lambda *_args, c=counter: c.__setitem__("n", c["n"] + 1))
        with torch.no_grad():
            operation(layer, points)
        hook.remove()
        calls[name].append(counter["n"])

print(tr("   D | MAF density ms | MAF sampling ms | IAF density ms | IAF sampling ms | calls (density, sampling)"))
for k, dim_d in enumerate(sizes):
    ms = [1e3 * seconds[name][k] for name in operations]
    counted = [calls[name][k] for name in operations]
    print(
        f"{dim_d:4d} | {ms[0]:14.2f} | {ms[1]:15.2f} | {ms[2]:14.2f} | {ms[3]:15.2f} | "
        f"MAF {counted[0]}, {counted[1]}; IAF {counted[2]}, {counted[3]}"
    )


def loglog_slope(values: list[float]) -> float:
    """Least-squares slope of log(cost) against log(D) over D >= 8, where fixed overheads matter less."""
    pairs = [(math.log(d), math.log(v)) for d, v in zip(sizes, values, strict=True) if d >= 8]
    mean_x, mean_y = sum(p[0] for p in pairs) / len(pairs), sum(p[1] for p in pairs) / len(pairs)
    return sum((a - mean_x) * (b - mean_y) for a, b in pairs) / sum((a - mean_x) ** 2 for a, _b in pairs)


for name in operations:
    print(tr("{name}: measured slope {slope:.2f}").format(name=name, slope=loglog_slope(seconds[name])))
slow_over_fast = seconds[tr("IAF density")][-1] / seconds[tr("IAF sampling")][-1]
print(tr("at D = {d}: IAF density is {ratio:.0f}x slower than IAF sampling").format(d=sizes[-1], ratio=slow_over_fast))

# %% key="scaling-plot"
fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
plot_scaling(sizes, seconds, ylabel=tr("seconds per call (256 points)"), guides=(0, 1), ax=ax)
ax.set_title(tr("One autoregressive layer: MAF and IAF"))
ax.set_xticks(sizes, [str(d) for d in sizes])
ax.set_xticks([], minor=True)
plt.show()

# %% [markdown] key="scaling-explained"
# The counts say it exactly: MAF density and IAF sampling take one conditioner call, MAF sampling and IAF
# density take $D$. The times follow. The one-pass operations stay almost flat over this range: with the
# hidden width fixed at 128, one MADE pass costs about $D \cdot 128 + 128^2$ multiply-adds per point, and
# the $128^2$ of the middle layer dominates. The $D$-step operations grow with a slope of about 1 (the
# printed slopes; a busy machine or memory effects at large $D$ can push them a little higher): $D$ times a
# nearly constant pass. (If the hidden width grew in proportion to $D$, as it must eventually, one
# pass would cost $O(D^2)$ and $D$ passes $O(D^3)$: the factor $D$ between the two would remain.) Since the IAF *is* the inverted
# MAF layer, its lines are MAF's with the labels swapped: one network, two speeds, and the choice of
# direction decides which job gets the fast one.

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
# Each flow is fast at one job. A MAF can be trained by maximum likelihood, because that needs the density
# of the data: its fast direction. But it samples slowly. An IAF samples fast, but maximum likelihood on data
# would need its slow direction at every training step. Parallel WaveNet (van den Oord et al., 2017) used
# both. First train a MAF-like **teacher** $p$ on the data. Then train an IAF **student** $q$ without data,
# by making it agree with the frozen teacher on the student's own samples:
#
# $$\mathrm{KL}(q \,\|\, p) = \mathbb E_{x \sim q}\big[\log q(x) - \log p(x)\big]
# \approx \frac1n \sum_{k=1}^n \big(\log q(x_k) - \log p(x_k)\big), \qquad x_k = f_q(u_k).$$
#
# Every term is cheap: $x_k$ and $\log q(x_k)$ come from the student's one-pass sampling (section 4), and
# $\log p(x_k)$ from the teacher's one-pass density. The gradient reaches the student through $x_k$, which is
# a differentiable function of its parameters. This is `nfcourse.distillation.distillation_loss`, and
# `distill(student, teacher, steps=...)` is a training loop around it, as short as `fit`.
#
# We do it on two moons. The teacher first: a MAF of five layers, as in lesson 02.

# %% key="teacher-train"
moons = load("moons", n_train=20_000, n_test=5_000, seed=0)
teacher_steps = budget(full=3000, fast=300)
teacher = Flow(maf(2, layers=5, hidden_sizes=(64, 64)), dim=2)
teacher_history = fit(
    teacher, moons.train, moons.test, steps=teacher_steps, lr=3e-3, schedule=cosine_schedule(teacher_steps)
)
teacher = teacher.cpu()
teacher_nll = evaluate_nll(teacher, moons.test)
oracle = evaluate_oracle(moons)
print(tr("teacher (MAF) test NLL:  {nll}").format(nll=teacher_nll))
print(tr("oracle (data entropy):   {nll} ± {se:.3f}").format(nll=oracle, se=moons.oracle_nll_standard_error()))
print(tr("teacher training took {seconds:.0f} s").format(seconds=teacher_history.seconds))
expect_at_most(tr("teacher test NLL minus the entropy (nats)"), teacher_nll.total - oracle.total, 0.08)

# %% [markdown] key="student-predict"
# Now the student: an IAF of the same size, started as the identity, so its first samples are the standard
# Gaussian. It never sees a data point.
#
# **Predict before you run.** The reverse KL punishes the student for putting mass where the teacher has
# little ($\log q - \log p$ large), but hardly for leaving out places where the teacher has mass: those are
# rarely sampled by the student. What could the student's samples get wrong, and what would that do to its
# NLL on the test data?

# %% key="student-train"
student_steps = budget(full=3000, fast=300)
student = Flow(iaf(2, layers=5, hidden_sizes=(64, 64)), dim=2)
student_history = distill(
    student,
    teacher,
    steps=student_steps,
    batch_size=512,
    lr=1e-3,
    clip_grad_norm=1.0,
    schedule=cosine_schedule(student_steps),
)
student, teacher = student.cpu(), teacher.cpu()
with torch.no_grad():  # a fresh estimate on many samples, after training
    final_kl = distillation_loss(student, teacher, 20_000, generator).item()
print(tr("distillation took {seconds:.0f} s").format(seconds=student_history.seconds))
print(tr("reverse KL estimate over the first 25 steps: {first:.3g} nats").format(first=student_history.kl[0]))
print(tr("reverse KL estimate after training, on 20,000 fresh samples: {kl:.3f} nats").format(kl=final_kl))
expect_at_most(tr("reverse KL of student to teacher after training (nats)"), final_kl, 0.3)

# %% key="student-curve"
fig, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
ax.plot(student_history.steps, student_history.kl, color="C0")
ax.set_yscale("log")
ax.set_xlabel(tr("distillation step"))
ax.set_ylabel(tr("KL(student || teacher), nats"))
ax.set_title(tr("Reverse KL estimate during distillation (mean over 25 steps)"))
ax.grid(True, which="both", alpha=0.3)
plt.show()

# %% [markdown] key="student-curve-explained"
# The first estimates are huge: the fresh student samples a standard Gaussian, and the teacher gives points
# far off the moons a tiny density, so $\log q - \log p$ is large there. The KL then falls by orders of
# magnitude within a few hundred steps and keeps creeping down (the curve is on a log scale). Now and then
# an average jumps up: one student sample landed where the teacher's density is tiny, and a single huge
# $\log q - \log p$ dominates the batch. Gradient clipping keeps such gradients, and the enormous first ones,
# from wrecking the optimizer's state.

# %% key="student-compare"
student_nll_seconds = seconds_per_call(lambda: evaluate_nll(student, moons.test), repeats=3)
student_nll = evaluate_nll(student, moons.test)
with torch.no_grad():
    student_log_q = student.log_prob(moons.test)
print(tr("teacher (MAF) test NLL:  {nll}").format(nll=teacher_nll))
print(tr("student (IAF) test NLL:  {nll}").format(nll=student_nll))
print(tr("median over the test points of -log q: {median:.3f} nats").format(median=-student_log_q.median().item()))
print(
    tr("share of test points with log q < -10: {share:.4f}").format(share=(student_log_q < -10).float().mean().item())
)
print(
    tr("the student's test NLL took {ms:.1f} ms to compute (the slow direction)").format(ms=1e3 * student_nll_seconds)
)

# %% key="student-plot"
compare(
    {tr("teacher (MAF)"): teacher, tr("student (IAF)"): student},
    moons.test,
    nll={tr("teacher (MAF)"): teacher_nll.per_dim, tr("student (IAF)"): student_nll.per_dim},
    title=tr("two moons: densities (top), samples (bottom)"),
    generator=generator,
)

# %% [markdown] key="student-compare-explained"
# Side by side, the student's samples follow the two moons, where the teacher's are: the distillation worked
# where it was asked to, on the student's own samples. Look at the ends of the moons, though. After the full
# training the student cuts some of them short and joins the moons with a faint bridge of density. The test
# NLL asks about exactly those places: it scores the *data* under the student's density. Compare the mean
# NLL with the median and with the share of test points that the student gives almost no density: the few
# points where the teacher (and the data) have mass but the student's samples never go dominate the mean.
# That is the mode-seeking side of the reverse KL, which the prediction above asked about. (In 2-D the test
# NLL of an IAF is still cheap to evaluate, two steps per layer; for audio, with $D$ in the tens of thousands,
# it is out of reach, and Parallel WaveNet's training was designed so that it never needs it.)

# %% [markdown] key="speed-intro"
# Finally the point of the exercise: sampling speed. The teacher samples with the $D$-step recursion in every
# layer, the student with one pass per layer. Both have five layers of the same MADE size. We time 10,000
# samples each, and also the density of 10,000 points, where the roles swap.

# %% key="speed-code"
n_speed = 10_000
points = moons.test.repeat(2, 1)  # the 5,000 test points twice: (10000, 2)
timings = {
    tr("teacher (MAF)"): (
        seconds_per_call(lambda: teacher.sample(n_speed, generator)),
        seconds_per_call(lambda: teacher.log_prob(points)),
    ),
    tr("student (IAF)"): (
        seconds_per_call(lambda: student.sample(n_speed, generator)),
        seconds_per_call(lambda: student.log_prob(points)),
    ),
}
print(tr("                 sampling ms | density ms"))
for name, (t_sample, t_density) in timings.items():
    print(f"{name:15s}  {1e3 * t_sample:11.2f} | {1e3 * t_density:10.2f}")
speedup = timings[tr("teacher (MAF)")][0] / timings[tr("student (IAF)")][0]
print(
    tr("the student samples {speedup:.1f}x faster than the teacher (D = 2, so at most about 2x)").format(
        speedup=speedup
    )
)

# %% [markdown] key="speed-explained"
# In two dimensions the recursion has only two steps, so the student can be at most about twice as fast, and
# that is roughly what we measure. The gain is the ratio of section 3: $D$ conditioner calls against one.
# For 24,000 audio samples per second of speech that ratio is what turned WaveNet from a research demo into a
# product. The densities go the other way: the teacher evaluates them fast, the student slowly.

# %% [markdown] key="summary"
# ## Summary
#
# - An IAF computes $(\mu_i, \alpha_i)$ from the earlier *noise* coordinates $u_{<i}$: sampling is one pass,
#   the density of an outside point needs a $D$-step recursion. A MAF is the mirror image.
# - They are one layer used in two directions: `iaf(...)` is `Invert(maf(...))`, with the same parameters.
# - Measured: the one-pass operations stay almost flat in $D$ (a MADE of fixed width), the $D$-step ones grow
#   with slope about 1: $D$ times as many conditioner calls.
# - An IAF knows the density of its own samples for free (`Flow.sample_and_log_prob`), and it agrees with the
#   slow `log_prob` of the same points.
# - Parallel WaveNet: fit a MAF teacher by maximum likelihood, then distil an IAF student by minimizing the
#   reverse KL on the student's own samples. Both steps use only fast directions. The student samples as
#   well as the teacher, faster; its density of the data can suffer where it left out mass.

# %% [markdown] key="try-next"
# ## What to try next
#
# - In section 3, give the MADE hidden layers of width $2D$ instead of 128 and measure the slopes again.
# - Distil into a smaller student (two layers, or hidden layers of 16 units). How do the KL and the samples
#   change?
# - Train the student with the forward KL instead, $\mathbb E_{x \sim p}[\log p(x) - \log q(x)]$, on teacher
#   samples. Which direction of the student is slow now, and what happens to its test NLL?
# - Distil a teacher trained on `load("eight_gaussians")`. Does the student keep all eight modes?
# - Leave out `clip_grad_norm=1.0` in `distill` and look at the KL curve.
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
