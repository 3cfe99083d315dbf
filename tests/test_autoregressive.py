"""MADE's autoregressive property, the cost structure of the autoregressive layer, MAF/IAF as one class,
and the distillation loss against exact KL divergences.

(The round trips and log-dets of AffineAutoregressive, MAF and IAF are in the contract test, via registry.py.)
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from registry import randomised

from nfcourse.bijectors import AffineAutoregressive, ElementwiseAffine, Invert, iaf, maf
from nfcourse.conditioners import MADE, NaiveConditioner, hidden_degrees, input_order, made_masks
from nfcourse.distillation import distillation_loss
from nfcourse.flow import Flow
from nfcourse.jacobian import jacobian


def conditioner_jacobian(conditioner: torch.nn.Module, dim: int, seed: int) -> torch.Tensor:
    """d output[k, i] / d x[j] for one random point, shape (outputs, D, D), float64."""
    x = torch.randn(1, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    outputs = conditioner(x).shape[1]
    rows = [jacobian(lambda z, k=k: conditioner(z)[:, k], x)[0] for k in range(outputs)]
    return torch.stack(rows)


def allowed(degrees: torch.Tensor) -> torch.Tensor:
    """allowed[i, j]: output i may depend on input j, i.e. j comes strictly before i in the order."""
    return degrees[None, :] < degrees[:, None]


@settings(max_examples=25, deadline=None)
@given(
    dim=st.integers(1, 7),
    hidden=st.lists(st.integers(1, 12), min_size=0, max_size=3),
    outputs=st.integers(1, 3),
    order=st.sampled_from(["natural", "reversed", "random"]),
    seed=st.integers(0, 10_000),
)
def test_made_jacobian_is_strictly_triangular_in_its_order(dim, hidden, outputs, order, seed) -> None:
    made = randomised(MADE(dim, hidden, outputs, order=order, seed=seed), seed=seed)
    jac = conditioner_jacobian(made, dim, seed)
    assert jac.shape == (outputs, dim, dim)
    assert torch.all(jac[:, ~allowed(made.degrees)] == 0)  # exactly zero, not just small


def test_made_uses_every_allowed_connection_and_no_other() -> None:
    """The masks' product is exactly the strict order relation (nothing more, nothing lost)."""
    degrees = input_order(5, "random", seed=4)
    masks = made_masks(degrees, [16, 16], outputs=1)
    reach = masks[0]
    for mask in masks[1:]:
        reach = (mask @ reach).clamp(max=1)
    assert torch.equal(reach.bool(), allowed(degrees))


@pytest.mark.parametrize("order", ["natural", "reversed", "random"])
def test_naive_conditioner_is_autoregressive_in_its_order(order: str) -> None:
    naive = randomised(NaiveConditioner(5, hidden=6, order=order))
    jac = conditioner_jacobian(naive, 5, seed=1)
    degrees = input_order(5, order)
    assert jac[:, ~allowed(degrees)].abs().max().item() == 0.0
    assert (jac[:, allowed(degrees)] != 0).all()


def test_inverse_is_one_conditioner_call_and_forward_is_d() -> None:
    calls = []
    layer = randomised(AffineAutoregressive(MADE(6, (12,)), 6))
    layer.conditioner.register_forward_hook(lambda *args: calls.append(1))
    x = torch.randn(4, 6, dtype=torch.float64)
    layer.inverse(x)
    assert len(calls) == 1
    layer.forward(x)
    assert len(calls) == 1 + 6


def test_inverse_logdet_is_minus_the_sum_of_log_scales() -> None:
    layer = randomised(AffineAutoregressive(MADE(3, (10,)), 3))
    x = torch.randn(8, 3, dtype=torch.float64)
    _mu, alpha = layer.shift_and_log_scale(x)
    assert torch.equal(layer.inverse(x)[1], -alpha.sum(dim=1))
    assert alpha.abs().max() < layer.bound


def test_maf_with_zero_last_layers_starts_as_the_identity_and_iaf_shares_its_class() -> None:
    flow = maf(3, layers=2, permutation="none", zero_last_layer=True)
    u = torch.randn(5, 3)
    x, logdet = flow.forward(u)
    assert torch.equal(x, u) and torch.equal(logdet, torch.zeros(5))
    student = iaf(3, layers=2)
    assert isinstance(student, Invert)
    assert all(type(a) is type(b) for a, b in zip(student.bijector, maf(3, layers=2), strict=True))


def test_maf_starts_randomly_by_default_away_from_the_identity_and_stays_autoregressive() -> None:
    flow = maf(3, layers=2, permutation="none")
    u = torch.randn(5, 3)
    x, logdet = flow.forward(u)
    assert not torch.allclose(x, u) and torch.all(logdet != 0)
    made = MADE(4, (64, 64), order="random", seed=3, zero_last_layer=False)
    jac = conditioner_jacobian(made.double(), 4, seed=0)
    assert torch.all(jac[:, ~allowed(made.degrees)] == 0) and torch.all(jac[:, allowed(made.degrees)] != 0)


def test_iaf_samples_with_log_density_match_log_prob_of_the_same_points() -> None:
    flow = Flow(randomised(iaf(4, layers=3, hidden_sizes=(16,))), 4)
    x, log_q = flow.sample_and_log_prob(50, torch.Generator().manual_seed(0))
    torch.testing.assert_close(log_q, flow.log_prob(x), atol=1e-8, rtol=1e-8)


def test_maf_rejects_an_unknown_permutation_and_made_an_unknown_order() -> None:
    with pytest.raises(ValueError, match="permutation must be one of"):
        maf(2, permutation="shuffle")
    with pytest.raises(ValueError, match="order must be one of"):
        MADE(3, order="sideways")
    with pytest.raises(ValueError, match=r"permutation of 1, \.\.\., 3"):
        MADE(3, order=[1, 1, 2])


def gaussian_flow(mu: list[float], log_sigma: list[float]) -> Flow:
    """The flow N(mu, diag(sigma^2)): one elementwise affine layer."""
    layer = ElementwiseAffine(len(mu)).double()
    with torch.no_grad():
        layer.mu.copy_(torch.tensor(mu))
        layer.raw_alpha.copy_(5 * torch.atanh(torch.tensor(log_sigma) / 5))  # undo the soft clamp
    return Flow(layer, len(mu))


def gaussian_kl(mu_q, log_sigma_q, mu_p, log_sigma_p) -> float:
    """KL(N(mu_q, sigma_q^2) || N(mu_p, sigma_p^2)), summed over independent coordinates, in closed form."""
    total = 0.0
    for mq, sq, mp, sp in zip(mu_q, log_sigma_q, mu_p, log_sigma_p, strict=True):
        total += sp - sq + (math.exp(2 * sq) + (mq - mp) ** 2) / (2 * math.exp(2 * sp)) - 0.5
    return total


@pytest.mark.parametrize("case", [([0.0, 1.0], [0.0, -0.5], [0.5, -1.0], [0.3, 0.2]), ([2.0], [0.4], [2.0], [0.4])])
def test_distillation_loss_is_an_unbiased_estimate_of_the_reverse_kl(case) -> None:
    """Mean of 200 estimates of 500 samples each within 4 standard errors of the exact KL (and 0 for q = p)."""
    mu_q, ls_q, mu_p, ls_p = case
    student, teacher = gaussian_flow(mu_q, ls_q), gaussian_flow(mu_p, ls_p)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        estimates = torch.stack([distillation_loss(student, teacher, 500, generator) for _ in range(200)])
    exact = gaussian_kl(mu_q, ls_q, mu_p, ls_p)
    standard_error = estimates.std().item() / math.sqrt(len(estimates))
    assert abs(estimates.mean().item() - exact) <= 4 * standard_error + 1e-12
    if exact == 0:
        assert estimates.abs().max().item() < 1e-12  # q = p: every sample's log-ratio is 0


def test_distillation_gradient_reaches_only_the_student() -> None:
    student = Flow(randomised(iaf(2, layers=2, hidden_sizes=(8,))), 2)
    teacher = Flow(randomised(maf(2, layers=2, hidden_sizes=(8,)), seed=1), 2).requires_grad_(False)
    distillation_loss(student, teacher, 64, torch.Generator().manual_seed(0)).backward()
    assert all(p.grad is not None for p in student.parameters())
    assert all(p.grad is None for p in teacher.parameters())


def test_distillation_gradient_matches_the_closed_form() -> None:
    """For Gaussians, d KL / d mu_q = (mu_q - mu_p) / sigma_p^2; the reparameterized estimate agrees."""
    student, teacher = gaussian_flow([0.7], [0.0]), gaussian_flow([0.0], [0.0])
    teacher.requires_grad_(False)
    distillation_loss(student, teacher, 20_000, torch.Generator().manual_seed(0)).backward()
    grad_mu = student.bijector.mu.grad.item()
    assert abs(grad_mu - 0.7) < 0.03  # standard error of the estimate: sigma_q / sigma_p^2 / sqrt(n) = 0.007


@pytest.mark.parametrize("dim", [3, 5, 8])
def test_the_off_by_one_hint_of_the_masks_task_says_what_such_masks_do(dim: int) -> None:
    """Self-check 02.masks says of a hidden rule with > instead of >=: no path from the input just before
    output i to output i, and the output of degree 2 sees no input. Both are checked on such masks."""
    degrees = torch.arange(1, dim + 1)
    hidden = hidden_degrees(3 * dim, dim)
    wrong_hidden = (hidden[:, None] > degrees[None, :]).float()  # (H, D)
    output = (degrees[:, None] > hidden[None, :]).float()  # (D, H)
    reaches = (output @ wrong_hidden) > 0  # reaches[i, j]: some path from input j to output i
    assert not any(reaches[i, i - 1] for i in range(1, dim))
    assert not reaches[1].any()
    assert reaches[2:, 0].all()  # and the first input still reaches every output from the third on
