"""Every sheet's self-checks: full points for the solution, zero for the blank sheet, and the seeded
typical mistakes each lose exactly their points with a message that names them. The last tests use
sheet 00 to check the self-check machinery itself (reports, hints, junk answers)."""

from __future__ import annotations

import pytest
import torch
from sheets import MISTAKES, answers

from nfcourse.checks import TASKS, check
from nfcourse.checks.task import Part

SEEDS = range(5)  # the grader's inputs differ from the self-check's: several seeds stand for that


def parts(task_id: str, answer: object, seed: int = 0) -> list[Part]:
    return TASKS[task_id].run(answer, torch.Generator().manual_seed(seed))


def earned(result: list[Part]) -> int:
    return sum(part.earned for part in result)


def lesson_of(task_id: str) -> str:
    return task_id.split(".")[0]  # "02.made_masks" -> "02"


@pytest.mark.parametrize("task", TASKS.values(), ids=lambda task: task.id)
@pytest.mark.parametrize("seed", SEEDS)
def test_solution_earns_full_points(task, seed: int) -> None:
    result = parts(task.id, answers(lesson_of(task.id))[task.answer], seed)
    assert earned(result) == task.points, result


@pytest.mark.parametrize("task", TASKS.values(), ids=lambda task: task.id)
def test_blank_sheet_earns_zero_and_says_not_implemented(task) -> None:
    result = parts(task.id, answers(lesson_of(task.id), "blank")[task.answer])
    assert earned(result) == 0 and "not implemented yet" in result[0].name


@pytest.mark.parametrize(("task_id", "replace", "keeps", "names"), MISTAKES)
def test_seeded_mistake_loses_its_points_and_is_named(task_id: str, replace, keeps, names) -> None:
    task = TASKS[task_id]
    source_answers = answers(lesson_of(task_id), replace=replace)
    result = parts(task_id, source_answers[task.answer])
    assert earned(result) == keeps, result
    messages = " ".join(part.message for part in result if part.earned < part.points)
    assert names in messages, messages


def test_answer_right_only_for_the_self_check_inputs_scores_nothing_elsewhere() -> None:
    """A lookup table of the self-check's answers passes the self-check but not the grader's seeds."""
    from nfcourse.checks.selfcheck import SELF_CHECK_SEED

    solution = answers("00")["lognormal_log_prob"]
    seen_x = TASKS["00.lognormal"].make_inputs(torch.Generator().manual_seed(SELF_CHECK_SEED))["x"]
    table = dict(zip(seen_x.tolist(), solution(seen_x).tolist(), strict=True))

    def memorised(x: torch.Tensor) -> torch.Tensor:
        return torch.tensor([table.get(value, 0.0) for value in x.tolist()], dtype=torch.float64)

    assert earned(parts("00.lognormal", memorised, SELF_CHECK_SEED)) == 2
    assert all(earned(parts("00.lognormal", memorised, seed)) == 0 for seed in SEEDS)


def test_self_check_prints_a_report_with_points(capsys: pytest.CaptureFixture[str]) -> None:
    check("00.prelu", answers("00")["PReLUBijector"])
    out = capsys.readouterr().out
    assert "Self-check 00.prelu" in out and "Points: 4/4" in out


def test_answers_that_crash_or_return_junk_get_zero_without_an_exception() -> None:
    def crashes(x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("boom")

    assert earned(parts("00.lognormal", crashes)) == 0
    assert "RuntimeError: boom" in parts("00.lognormal", crashes)[0].message
    assert earned(parts("00.lognormal", lambda x: [1.0])) == 0
    assert earned(parts("00.prelu", lambda slope: None)) == 0


def test_a_failed_self_check_prints_the_task_hint(capsys: pytest.CaptureFixture[str]) -> None:
    check("00.chain", answers("00", replace=("reversed(layers)", "layers"))["flow_log_prob"])
    out = capsys.readouterr().out
    assert "Hint: Loop over reversed(layers)" in out and "Points: 0/3" in out


def test_a_blank_answer_gets_no_hint_only_the_request_to_write_one(capsys: pytest.CaptureFixture[str]) -> None:
    check("00.lognormal", answers("00", "blank")["lognormal_log_prob"])
    out = capsys.readouterr().out
    assert "not implemented yet" in out and "Hint:" not in out


def test_a_wrong_row_is_named_by_its_integer_index() -> None:
    from nfcourse.checks.lesson02 import judge_mask

    expected = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]], dtype=torch.float64)
    wrong = expected.clone()
    wrong[1] = torch.tensor([0.25, 1.0], dtype=torch.float64)
    message = judge_mask("mask", wrong, "M", expected, mistakes=[]).message
    assert "row = [1] " in message and "[1.0]" not in message, message
