r"""Probability density distillation (Parallel WaveNet): train a fast-sampling student on a slow-sampling teacher.

The student $q$ (an IAF) samples quickly and knows the density of its own samples; the teacher $p$
(a MAF trained by maximum likelihood) evaluates densities quickly. The student minimizes the reverse KL
divergence, estimated by Monte Carlo on its own samples:

Math:      $\mathrm{KL}(q \,\|\, p) = \mathbb E_{x \sim q}[\log q(x) - \log p(x)]
           \approx \frac1n \sum_{k=1}^n \big(\log q(x_k) - \log p(x_k)\big)$,  $x_k = f_q(u_k)$
Gradient:  reparameterized: $x_k = f_q(u_k)$ with $u_k \sim \mathcal N(0, I)$, whose law does not depend on
           the student's parameters, so the gradient of the average is the average of the gradients
Annealing: the reverse KL is mode-seeking: a student may leave out part of the teacher's mass for good.
           Minimizing $\mathbb E_q[\log q - \beta \log p]$ instead fits $q$ to the flattened teacher
           $p^\beta / Z_\beta$; raising $\beta$ from below 1 to 1 during training (`annealing`) lets the
           student cover all of the teacher first and sharpen afterwards. At $\beta = 1$ it is the KL again.
Training:  `distill(student, teacher, steps=...)`, a short loop like `nfcourse.training.fit`, without data
Reference: van den Oord et al., Parallel WaveNet: Fast High-Fidelity Speech Synthesis, 2018, arXiv:1711.10433
Lessons:   03
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from nfcourse.flow import Flow
from nfcourse.i18n import _
from nfcourse.runtime import device as default_device
from nfcourse.training import NonFiniteLossError, SchedulerFactory, progress_bar
from nfcourse.validation import check_positive_int


def distillation_loss(
    student: Flow, teacher: Flow, n: int, generator: torch.Generator | None = None, beta: float = 1.0
) -> torch.Tensor:
    r"""The Monte-Carlo estimate of $\mathrm{KL}(q_\text{student} \| p_\text{teacher})$ from `n` student samples.

    Unbiased for the KL; its gradient reaches the student through the samples and through their
    log-density under the student. Freeze the teacher
    (`teacher.requires_grad_(False)`) so that an optimizer step changes only the student. With
    `beta` $< 1$ it estimates $\mathbb E_q[\log q - \beta \log p]$, the loss of annealed distillation
    (see the module docstring), which is not a KL.
    """
    log_q, log_p = log_densities_of_student_samples(student, teacher, n, generator)
    return (log_q - beta * log_p).mean()


def log_densities_of_student_samples(
    student: Flow, teacher: Flow, n: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""$\log q(x_k)$ and $\log p(x_k)$, each of shape (n,), at `n` samples $x_k = f_q(u_k)$ of the student."""
    x, log_q = student.sample_and_log_prob(check_positive_int(n, "n"), generator)
    return log_q, teacher.log_prob(x)


def annealing(start: float, steps: int) -> Callable[[int], float]:
    r"""The schedule $\beta_t = \min\big(1,\ \beta_0 + (1 - \beta_0)\, t / T\big)$, from $\beta_0$ up to 1.

    $\beta_0$ is `start`, $T$ is `steps`. Pass it to `distill(..., beta=annealing(0.1, steps // 2))`; after
    step $T$ the loss is the KL.
    """
    check_positive_int(steps, "steps")
    if not 0 < start <= 1:
        raise ValueError(_("The annealing must start at a beta in (0, 1], got {start}.").format(start=start))
    return lambda step: min(1.0, start + (1 - start) * step / steps)


@dataclass
class DistillationHistory:
    """What `distill` recorded: the reverse-KL estimate (nats, per sample) averaged over every `log_every` steps.

    With annealing the loss differs from the KL while $\beta < 1$; `kl` is always the KL estimate itself.
    """

    steps: list[int] = field(default_factory=list)
    kl: list[float] = field(default_factory=list)
    seconds: float = 0.0


def distill(
    student: Flow,
    teacher: Flow,
    *,
    steps: int,
    batch_size: int = 256,
    lr: float = 1e-3,
    schedule: SchedulerFactory | None = None,
    clip_grad_norm: float | None = None,
    beta: Callable[[int], float] | None = None,
    log_every: int = 25,
    seed: int = 0,
    device: torch.device | str | None = None,
    progress: bool = True,
) -> DistillationHistory:
    r"""Train `student` to match the frozen `teacher` by minimizing $\mathrm{KL}(q \,\|\, p)$ on its own samples.

    Math:   each step draws $u_k \sim \mathcal N(0, I)$, $x_k = f_q(u_k)$, $k = 1..B$, and takes one Adam step on
            $\frac1B \sum_k \big(\log q(x_k) - \beta_t \log p(x_k)\big)$ (`distillation_loss`); $\beta_t = 1$
            unless `beta`, a schedule such as `annealing(0.1, steps // 2)`, gives $\beta_t$ for step $t = 1, 2, \dots$
    Cost:   one student forward pass (samples and their log-density) and one teacher density pass per step:
            both are the fast directions when the student is an IAF and the teacher a MAF

    No data is needed: the teacher alone says where the student should put its mass. The teacher's
    parameters are frozen during training (their `requires_grad` flags are restored at the end) and a
    non-finite loss raises `NonFiniteLossError`.
    """
    counts = {"steps": steps, "batch_size": batch_size, "log_every": log_every}
    for name, value in counts.items():
        check_positive_int(value, name)
    if student.dim != teacher.dim:
        raise ValueError(
            _("The student has dimension {student} but the teacher {teacher}.").format(
                student=student.dim, teacher=teacher.dim
            )
        )
    where = torch.device(device) if device is not None else default_device()
    student.to(where).train()
    teacher.to(where).eval()
    flags = [parameter.requires_grad for parameter in teacher.parameters()]
    teacher.requires_grad_(False)
    generator = torch.Generator(device=where).manual_seed(seed)
    optimizer = torch.optim.Adam(student.parameters(), lr=lr)
    scheduler = schedule(optimizer) if schedule is not None else None
    history, window = DistillationHistory(), []
    start = time.perf_counter()
    bar = progress_bar(steps, _("distillation"), progress)
    try:
        for step in bar:
            log_q, log_p = log_densities_of_student_samples(student, teacher, batch_size, generator)
            beta_now = beta(step) if beta is not None else 1.0
            loss = (log_q - beta_now * log_p).mean()
            if not torch.isfinite(loss):
                raise NonFiniteLossError(
                    _(
                        "Distillation stopped at step {step}: the KL estimate became {loss}. Try a lower learning "
                        "rate (now {lr:g}) or gradient clipping (clip_grad_norm=1.0)."
                    ).format(step=step, loss=loss.item(), lr=optimizer.param_groups[0]["lr"])
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(student.parameters(), clip_grad_norm)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            window.append((log_q - log_p).mean().item())
            if step % log_every == 0 or step == steps:
                history.steps.append(step)
                history.kl.append(sum(window) / len(window))
                bar.set_postfix_str(_("KL {kl:.3f} nats").format(kl=history.kl[-1]))
                window = []
    finally:
        for parameter, flag in zip(teacher.parameters(), flags, strict=True):
            parameter.requires_grad_(flag)
    history.seconds = time.perf_counter() - start
    return history
