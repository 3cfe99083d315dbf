"""The distillation loop `distill`: it lowers the reverse KL, leaves the teacher alone, and stops loudly on NaN."""

from __future__ import annotations

import pytest
import torch
from registry import randomised

from nfcourse.bijectors import ElementwiseAffine, iaf, maf
from nfcourse.distillation import annealing, distill, distillation_loss
from nfcourse.flow import Flow
from nfcourse.training import NonFiniteLossError


def gaussian_teacher() -> Flow:
    """N((1, -2), diag(0.5^2, 2^2)) as a flow of one elementwise affine layer."""
    layer = ElementwiseAffine(2)
    with torch.no_grad():
        layer.mu.copy_(torch.tensor([1.0, -2.0]))
        layer.raw_alpha.copy_(5 * torch.atanh(torch.tensor([0.5, 2.0]).log() / 5))  # undo the soft clamp
    return Flow(layer, 2)


def test_distill_brings_a_gaussian_student_to_the_gaussian_teacher() -> None:
    """A student that can represent the teacher ends with a reverse KL near 0 (exact start: about 2.3 nats)."""
    student, teacher = Flow(ElementwiseAffine(2), 2), gaussian_teacher()
    with torch.no_grad():
        start = distillation_loss(student, teacher, 20_000, torch.Generator().manual_seed(1)).item()
    history = distill(student, teacher, steps=600, batch_size=256, lr=3e-2, progress=False, device="cpu")
    with torch.no_grad():
        end = distillation_loss(student, teacher, 20_000, torch.Generator().manual_seed(1)).item()
    assert start > 1.0 and end < 0.01
    torch.testing.assert_close(student.bijector.mu.detach(), torch.tensor([1.0, -2.0]), atol=0.05, rtol=0)
    assert len(history.steps) == len(history.kl) == 600 // 25 and history.steps[-1] == 600


def test_distill_changes_only_the_student_and_restores_the_teachers_flags() -> None:
    student = Flow(iaf(2, layers=2, hidden_sizes=(8,)), 2).double()
    teacher = Flow(randomised(maf(2, layers=2, hidden_sizes=(8,)), seed=1), 2)
    before = {name: value.clone() for name, value in teacher.state_dict().items()}
    student_before = [p.detach().clone() for p in student.parameters()]
    distill(student, teacher, steps=5, batch_size=32, progress=False, device="cpu")
    assert all(torch.equal(before[name], value) for name, value in teacher.state_dict().items())
    assert any(not torch.equal(a, b) for a, b in zip(student_before, student.parameters(), strict=True))
    assert all(p.requires_grad for p in teacher.parameters())


def test_distill_stops_with_a_clear_message_when_the_kl_is_not_finite() -> None:
    student, teacher = Flow(ElementwiseAffine(2), 2), gaussian_teacher()
    with torch.no_grad():
        teacher.bijector.mu.fill_(float("nan"))
    with pytest.raises(NonFiniteLossError, match="Distillation stopped at step 1"):
        distill(student, teacher, steps=3, progress=False, device="cpu")
    assert all(p.requires_grad for p in teacher.parameters())


def test_distill_rejects_a_teacher_of_another_dimension() -> None:
    with pytest.raises(ValueError, match="dimension 2 but the teacher 3"):
        distill(Flow(ElementwiseAffine(2), 2), Flow(ElementwiseAffine(3), 3), steps=1, progress=False)


def test_annealing_rises_linearly_from_its_start_to_one_and_stays_there() -> None:
    beta = annealing(0.2, steps=100)
    assert beta(0) == pytest.approx(0.2) and beta(50) == pytest.approx(0.6)
    assert beta(100) == 1.0 and beta(5000) == 1.0
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        annealing(0.0, steps=100)


def test_a_student_at_beta_fits_the_flattened_teacher() -> None:
    r"""At constant $\beta$ the minimizer of $E_q[\log q - \beta \log p]$ is $p^\beta / Z$: for a Gaussian teacher,
    the same mean and standard deviations $\sigma / \sqrt\beta$, here (0.5, 2) / 0.5 = (1, 4)."""
    student, teacher = Flow(ElementwiseAffine(2), 2), gaussian_teacher()
    distill(student, teacher, steps=800, batch_size=256, lr=3e-2, beta=lambda step: 0.25, progress=False, device="cpu")
    scale = student.bijector.alpha.detach().exp()
    torch.testing.assert_close(student.bijector.mu.detach(), torch.tensor([1.0, -2.0]), atol=0.1, rtol=0)
    torch.testing.assert_close(scale, torch.tensor([1.0, 4.0]), atol=0, rtol=0.05)


def test_the_history_records_the_kl_not_the_annealed_loss() -> None:
    """The first step's samples are the same with and without annealing, so is the KL recorded for them."""
    histories = []
    for beta in (None, annealing(0.2, steps=10)):
        student = Flow(ElementwiseAffine(2), 2)
        histories.append(distill(student, gaussian_teacher(), steps=1, log_every=1, beta=beta, progress=False))
    assert histories[0].kl == histories[1].kl


def test_distillation_loss_with_beta_weights_the_teachers_term() -> None:
    student, teacher = Flow(ElementwiseAffine(2), 2), gaussian_teacher()
    generator = torch.Generator().manual_seed(3)
    x, log_q = student.sample_and_log_prob(100, torch.Generator().manual_seed(3))
    expected = (log_q - 0.3 * teacher.log_prob(x)).mean()
    torch.testing.assert_close(distillation_loss(student, teacher, 100, generator, beta=0.3), expected)
