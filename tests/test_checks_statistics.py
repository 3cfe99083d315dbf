"""The statistical judgement of task 07.roulette is fair: over several seeds the solution always passes, every
named biased estimator lies at least `SEPARATION` standard errors from the truth (so it always fails), and
the exact expectations the judgement uses are right; every seeded mistake is caught and named for several seeds."""

from __future__ import annotations

import pytest
import torch
from sheets import MISTAKES, answers

from nfcourse.checks import TASKS
from nfcourse.checks.lesson07 import (
    SEPARATION,
    Z_LIMIT,
    SymmetricBranch,
    exact_terms_of_series,
    expectations,
    mean_and_standard_error,
)
from nfcourse.jacobian import jacobian
from nfcourse.residual import exact_logdet

SEEDS = range(6)


def test_the_eigenvalue_traces_match_the_jacobian_of_the_branch() -> None:
    inputs = TASKS["07.roulette"].make_inputs(torch.Generator().manual_seed(3))

    def branch(x: torch.Tensor) -> torch.Tensor:  # SymmetricBranch without its product counter
        return inputs["lipschitz"] * torch.tanh(x @ inputs["w"].T + inputs["b"]) @ inputs["w"]

    counted = SymmetricBranch(inputs)
    assert torch.equal(counted(inputs["x"]), branch(inputs["x"]))
    jacobians = jacobian(branch, inputs["x"])
    power, traces = jacobians, exact_terms_of_series(inputs)
    for k in range(1, 6):
        assert torch.allclose(torch.diagonal(power, dim1=1, dim2=2).sum(dim=1), traces[:, k - 1], atol=1e-12)
        power = power @ jacobians
    truth, _biased = expectations(inputs)
    assert truth == pytest.approx(exact_logdet(branch, inputs["x"]).mean().item(), abs=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
def test_solution_passes_and_every_named_mistake_is_far_from_the_truth(seed: int) -> None:
    task = TASKS["07.roulette"]
    inputs = task.make_inputs(torch.Generator().manual_seed(1000 + seed))
    outputs = task.call(answers("07")["roulette_logdet"], inputs)
    result = task.judge(inputs, outputs)
    assert sum(part.earned for part in result) == task.points, result
    truth, biased = expectations(inputs)
    mean, error = mean_and_standard_error(outputs["estimates"])
    assert abs(mean - truth) <= Z_LIMIT * error
    for value, message in biased:
        assert abs(value - truth) >= SEPARATION * error, (message, abs(value - truth) / error)


ROULETTE_MISTAKES = [mistake for mistake in MISTAKES if mistake[0] == "07.roulette"]


@pytest.mark.parametrize(("task_id", "replace", "keeps", "names"), ROULETTE_MISTAKES, ids=lambda value: str(value)[:30])
@pytest.mark.parametrize("seed", range(1, 3))  # seed 0 is test_checks.py's
def test_every_seeded_roulette_mistake_is_caught_and_named_for_other_seeds(
    task_id, replace, keeps, names, seed
) -> None:
    result = TASKS[task_id].run(answers("07", replace=replace)["roulette_logdet"], torch.Generator().manual_seed(seed))
    assert sum(part.earned for part in result) == keeps, result
    assert any(names in part.message for part in result if part.earned < part.points), result
