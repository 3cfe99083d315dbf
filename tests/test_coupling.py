"""Coupling layers: masks, the block-triangular Jacobian, NICE's zero log-det, Real-NVP as an autoregressive layer."""

from __future__ import annotations

import pytest
import torch
from registry import randomised

from nfcourse.bijectors import (
    AdditiveCoupling,
    AffineAutoregressive,
    AffineCoupling,
    alternating_mask,
    checkerboard_mask,
    coupling_mask,
    half_mask,
    nice,
    realnvp,
)
from nfcourse.jacobian import jacobian


def points(n: int, dim: int, seed: int = 0) -> torch.Tensor:
    return 2 * torch.randn(n, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_masks() -> None:
    assert half_mask(5).tolist() == [1, 1, 0, 0, 0]
    assert half_mask(4, flip=True).tolist() == [0, 0, 1, 1]
    assert alternating_mask(5).tolist() == [1, 0, 1, 0, 1]
    assert checkerboard_mask(2, 3).tolist() == [1, 0, 1, 0, 1, 0]
    assert checkerboard_mask(3, 2, flip=True).reshape(3, 2).tolist() == [[0, 1], [1, 0], [0, 1]]
    torch.testing.assert_close(coupling_mask(6, "alternating", flip=True), 1 - alternating_mask(6))
    with pytest.raises(ValueError, match="mask must be one of half, alternating"):
        coupling_mask(4, "checkers")
    with pytest.raises(ValueError, match="zeros and ones"):
        AffineCoupling(torch.tensor([0.5, 1.0]))


@pytest.mark.parametrize("mask", [half_mask(5), alternating_mask(5, flip=True)], ids=["half", "alternating"])
def test_jacobian_is_identity_on_the_kept_block_and_diagonal_on_the_other(mask: torch.Tensor) -> None:
    layer = randomised(AffineCoupling(mask, (16,)))
    J = jacobian(layer.forward, points(6, 5))
    kept, changed = mask.bool(), ~mask.bool()
    torch.testing.assert_close(J[:, kept][:, :, kept], torch.eye(int(kept.sum()), dtype=J.dtype).expand(6, -1, -1))
    assert torch.all(J[:, kept][:, :, changed] == 0)  # the kept coordinates never see the others
    block = J[:, changed][:, :, changed]
    assert torch.all(block - torch.diag_embed(torch.diagonal(block, dim1=1, dim2=2)) == 0)
    assert J[:, changed][:, :, kept].abs().max() > 1e-3  # the off-diagonal block is where the network acts


def test_additive_coupling_preserves_volume_and_nice_scales_only_at_the_end() -> None:
    x = points(7, 4)
    layer = randomised(AdditiveCoupling(half_mask(4), (8,)))
    assert torch.equal(layer.inverse(x)[1], torch.zeros(7, dtype=torch.float64))
    flow = randomised(nice(4, layers=3, hidden_sizes=(8,)))
    *couplings, scale = flow
    assert all(isinstance(c, AdditiveCoupling) for c in couplings)
    torch.testing.assert_close(flow.inverse(x)[1], -scale.alpha.sum().expand(7))


def test_realnvp_alternates_its_masks_so_every_coordinate_is_changed() -> None:
    flow = realnvp(5, layers=2)
    first, second = flow
    torch.testing.assert_close(first.mask + second.mask, torch.ones(5))


def test_factories_share_maf_arguments_and_reject_bad_ones() -> None:
    assert len(realnvp(3, layers=4, permutation="reverse", normalization="batch")) == 4 + 3 * 2
    with pytest.raises(ValueError, match="permutation must be one of"):
        realnvp(3, permutation="sideways")
    with pytest.raises(ValueError, match="normalization must be one of"):
        nice(3, normalization="layer")
    with pytest.raises(ValueError, match="layers must be a positive whole number"):
        realnvp(3, layers=0)


def test_coupling_is_an_autoregressive_layer_whose_conditioner_sees_only_the_first_block() -> None:
    """MAF view: the affine autoregressive layer (D-pass sampling) with the coupling's conditioner is the same map."""
    coupling = randomised(AffineCoupling(half_mask(4), (16, 16)))
    autoregressive = AffineAutoregressive(coupling.conditioner, dim=4)
    u, x = points(9, 4, seed=1), points(9, 4, seed=2)
    for got, expected in zip(autoregressive.forward(u), coupling.forward(u), strict=True):
        torch.testing.assert_close(got, expected)
    for got, expected in zip(autoregressive.inverse(x), coupling.inverse(x), strict=True):
        torch.testing.assert_close(got, expected)


def test_coupling_is_also_an_iaf_layer() -> None:
    """IAF view: shift and log-scale computed from the noise u, in one pass, give the same samples and log-det."""
    coupling = randomised(AffineCoupling(alternating_mask(5), (16,)))
    u = points(9, 5, seed=3)
    mu, alpha = coupling.shift_and_log_scale(u)  # read from u, as an IAF does
    x, logdet = coupling.forward(u)
    torch.testing.assert_close(x, u * torch.exp(alpha) + mu)
    torch.testing.assert_close(logdet, alpha.sum(dim=1))
    torch.testing.assert_close(coupling.shift_and_log_scale(x)[1], alpha)  # ... and from x, as a MAF does
