r"""Probability density distillation (Parallel WaveNet): train a fast-sampling student on a slow-sampling teacher.

The student $q$ (an IAF) samples quickly and knows the density of its own samples; the teacher $p$
(a MAF trained by maximum likelihood) evaluates densities quickly. The student minimizes the reverse KL
divergence, estimated by Monte Carlo on its own samples:

Math:      $\mathrm{KL}(q \,\|\, p) = \mathbb E_{x \sim q}[\log q(x) - \log p(x)]
           \approx \frac1n \sum_{k=1}^n \big(\log q(x_k) - \log p(x_k)\big)$,  $x_k = f_q(u_k)$
Gradient:  reparameterized: $x_k$ is a differentiable function of the student's parameters
Reference: van den Oord et al., Parallel WaveNet: Fast High-Fidelity Speech Synthesis, 2017, arXiv:1711.10433
Lessons:   03
"""

from __future__ import annotations

import torch

from nfcourse.flow import Flow
from nfcourse.validation import check_positive_int


def distillation_loss(student: Flow, teacher: Flow, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""The Monte-Carlo estimate of $\mathrm{KL}(q_\text{student} \| p_\text{teacher})$ from `n` student samples.

    Unbiased for the KL; its gradient reaches the student through the samples. Freeze the teacher
    (`teacher.requires_grad_(False)`) so that an optimizer step changes only the student.
    """
    x, student_log_prob = student.sample_and_log_prob(check_positive_int(n, "n"), generator)
    return (student_log_prob - teacher.log_prob(x)).mean()
