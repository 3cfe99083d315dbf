r"""How reliable is distillation? Plain reverse KL against annealing, over many seeds (a benchmark, not a test).

    python -m benchmarks.distillation [--teachers 0 1] [--students 0 1 2 3] [--lrs 0.001 0.003]
                                      [--steps 3000] [--workers 2] [--quick]

The set-up of lesson 03: a MAF teacher (5 MADE layers of 64 x 64, 3,000 steps of maximum likelihood on
two moons, learning rate 3e-3, one teacher per `--teachers` seed), and for every teacher and every
`--students` seed an IAF student of the same size, trained by `nfcourse.distillation.distill` for
`--steps` steps (batch 512, gradient norm clipped at 1, cosine schedule), once with the plain reverse KL
and once annealed (`annealing(0.1, steps // 2)`), for each learning rate in `--lrs`. Every student is
judged like the lesson's table: the reverse KL on 20,000 fresh samples, the gap of its test NLL to the
oracle (5,000 test points), and the share of its samples on the upper moon against the teacher's.

One row per learning rate and method, over all its students: the median and the largest KL and NLL gap,
how many students missed the teacher's test NLL by more than 1 nat (a part of the data left out), the
largest share of test points a student nearly leaves out ($\log q < -10$), the largest NLL gap on the
other test points, and the largest difference between a student's upper-moon share and its teacher's.
`--workers` students train at a time, each on one CPU thread.
"""

from __future__ import annotations

import argparse
import statistics
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from itertools import product

import torch

from nfcourse.bijectors import iaf, maf
from nfcourse.datasets import load
from nfcourse.distillation import annealing, distill, distillation_loss
from nfcourse.flow import Flow
from nfcourse.runtime import seed_everything
from nfcourse.training import cosine_schedule, evaluate_nll, evaluate_oracle, fit

METHODS = ("plain", "annealed")


@dataclass(frozen=True)
class Outcome:
    lr: float
    method: str
    teacher: int
    student: int
    kl: float
    gap: float  # student's test NLL minus the oracle (nats)
    teacher_gap: float
    left_out: float  # share of test points with log q < -10
    gap_without: float  # the gap on the other test points (their oracle: the true density there)
    share_difference: float  # |student's upper-moon share - teacher's|


@cache  # one training per teacher seed and worker process
def teacher_for(seed: int, steps: int) -> Flow:
    moons = load("moons", n_train=20_000, n_test=5_000, seed=0)
    seed_everything(seed)
    teacher = Flow(maf(2, layers=5, hidden_sizes=(64, 64)), dim=2)
    fit(teacher, moons.train, steps=steps, lr=3e-3, schedule=cosine_schedule(steps), progress=False, device="cpu")
    return teacher.eval()


def run(job: tuple[float, str, int, int, int]) -> Outcome:
    """Train one teacher (cached per process) and one student; judge the student."""
    lr, method, teacher_seed, student_seed, steps = job
    torch.set_num_threads(1)
    moons = load("moons", n_train=20_000, n_test=5_000, seed=0)
    teacher = teacher_for(teacher_seed, 3000)
    torch.manual_seed(student_seed)
    student = Flow(iaf(2, layers=5, hidden_sizes=(64, 64), zero_last_layer=True), dim=2)
    beta = annealing(0.1, steps // 2) if method == "annealed" else None
    distill(
        student,
        teacher,
        steps=steps,
        batch_size=512,
        lr=lr,
        clip_grad_norm=1.0,
        beta=beta,
        schedule=cosine_schedule(steps),
        seed=student_seed,
        progress=False,
        device="cpu",
    )
    generator = torch.Generator().manual_seed(0)
    oracle = evaluate_oracle(moons).total
    with torch.no_grad():
        kl = distillation_loss(student, teacher, 20_000, generator).item()
        shares = [moons.curve_shares(flow.sample(20_000, generator))[0].item() for flow in (student, teacher)]
        log_q = student.log_prob(moons.test)
    kept = log_q >= -10
    return Outcome(
        lr=lr,
        method=method,
        teacher=teacher_seed,
        student=student_seed,
        kl=kl,
        gap=evaluate_nll(student, moons.test).total - oracle,
        teacher_gap=evaluate_nll(teacher, moons.test).total - oracle,
        left_out=1 - kept.float().mean().item(),
        gap_without=(moons.log_prob(moons.test)[kept] - log_q[kept]).mean().item(),
        share_difference=abs(shares[0] - shares[1]),
    )


def table(outcomes: list[Outcome]) -> str:
    head = "| lr | method | students | KL median / max | NLL - oracle median / max | missed by > 1 nat | left out max"
    rows = [head + " | without them max | share diff. max |", "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for lr, method in sorted({(o.lr, o.method) for o in outcomes}):
        group = [o for o in outcomes if (o.lr, o.method) == (lr, method)]
        kls, gaps = [o.kl for o in group], [o.gap for o in group]
        missed = sum(o.gap - o.teacher_gap > 1 for o in group)
        rows.append(
            f"| {lr:g} | {method} | {len(group)} | {statistics.median(kls):.3f} / {max(kls):.3g} | "
            f"{statistics.median(gaps):.3f} / {max(gaps):.3g} | {missed} | {max(o.left_out for o in group):.2%} | "
            f"{max(o.gap_without for o in group):.3f} | {max(o.share_difference for o in group):.2f} |"
        )
    return "\n".join(rows)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--teachers", type=int, nargs="+", default=[0, 1])
    options.add_argument("--students", type=int, nargs="+", default=[0, 1, 2, 3])
    options.add_argument("--lrs", type=float, nargs="+", default=[1e-3, 3e-3])
    options.add_argument("--steps", type=int, default=3000)
    options.add_argument("--workers", type=int, default=2)
    options.add_argument("--quick", action="store_true", help="one teacher, two students, 300 steps: a smoke run")
    args = options.parse_args()
    if args.quick:
        args.teachers, args.students, args.steps = args.teachers[:1], args.students[:2], 300
    jobs = list(product(args.lrs, METHODS, args.teachers, args.students, [args.steps]))
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        outcomes = list(pool.map(run, jobs))
    print(f"{len(args.teachers)} teachers x {len(args.students)} students, {args.steps} distillation steps")
    print(table(outcomes))
    for outcome in outcomes:
        print(
            f"lr {outcome.lr:g} {outcome.method:8s} teacher {outcome.teacher} student {outcome.student}: "
            f"KL {outcome.kl:.3f}, NLL - oracle {outcome.gap:.3g} ({outcome.gap_without:.3f} without the "
            f"{outcome.left_out:.2%} left out), share difference {outcome.share_difference:.2f}"
        )


if __name__ == "__main__":
    main()
