r"""The graded tasks of sheet 07: the Russian roulette weights, the unbiased log-det estimator, and LipSwish.

    07.weights    $1 / P(N \ge k)$, $k = 1..n$: 1 for the `exact_terms` first terms, then
                  $(1 - p)^{-(k - \text{exact\_terms})}$                                         (3 points)
    07.roulette   $\sum_{k=1}^{N} \frac{(-1)^{k+1}}{k} \frac{v^\top J_g^k v}{P(N \ge k)}$ with a random $N$ and
                  probe $v$ drawn from the learner's generator: judged statistically           (5 points)
    07.lipswish   $f(x) = x\,\sigma(\beta x) / 1.1$ and its slope
                  $f'(x) = \big(\sigma(z) + z\,\sigma(z)(1 - \sigma(z))\big) / 1.1$, $z = \beta x$          (3 points)

How 07.roulette is judged. The answer is called `ROULETTE_DRAWS` times on the same points with one exact
term, each call with its own generator. Its error against the exact log-det (from the eigenvalues of the
Jacobian), averaged over the points,
is one number per call; the task is passed when the mean of these numbers lies within `Z_LIMIT` standard
errors of 0. A biased estimator's mean lies elsewhere, and the check names the mistake whose exact
expectation it matches (each mistake's expectation is computed here from the exact traces and the
distribution of N). The branch is $g(x) = L\,W^\top \tanh(W x + b)$ with W orthogonal: its Jacobian is
symmetric with eigenvalues in $(0, L]$, so the series' terms alternate and shrink, and every mistake below
moves the mean by at least `SEPARATION` standard errors at the sizes drawn (`tests/test_checks_statistics.py`
checks this, and that the solution passes, for several seeds). $L \le 0.65$ and $p \le 0.4$ keep
$L^2 < 1 - p$, so the estimator's variance is finite. The number of terms is read from the number of
vector-Jacobian products, counted by the branch's backward pass, in further calls with 3 or 4 exact
terms; `REPEATS` calls are repeated with the same seeds, to check that every draw uses the generator.
A mistaken estimator with a huge (or infinite) variance could hide its bias behind its own standard error,
so an answer whose estimates spread more than `SPREAD_LIMIT` times as much as those of the library's
`russian_roulette_logdet` (run here on the same inputs) fails too.
"""

from __future__ import annotations

import math

import torch

from nfcourse.checks.compare import judge_values
from nfcourse.checks.lesson00 import sample_size
from nfcourse.checks.lesson03 import draw_dim
from nfcourse.checks.lesson06 import orthogonal, uniform
from nfcourse.checks.task import Part, Task, Tensors, WrongFormat, tensor_output
from nfcourse.i18n import N_, _
from nfcourse.residual import russian_roulette_logdet
from nfcourse.stats import mean_and_error

ROULETTE_POINTS = 256  # many points average the probe's noise away; N's noise needs many calls
ROULETTE_DRAWS = 1500  # calls of the learner's estimator, with one exact term
SPREAD_LIMIT = 2.0  # an estimate may spread at most this many times as much as the library's
REFERENCE_DRAWS = 200  # calls of the library's estimator that measure its spread
REPEATS = 10  # calls repeated with the same seed: N agrees by chance with probability below 0.3 each time
TERM_DRAWS = 200  # calls with several exact terms, to check the law of N
Z_LIMIT = 5.0  # the solution fails by chance with probability about 6e-7 per grading
SEPARATION = 11.0  # every named mistake lies at least this many standard errors from the truth (tested)
SERIES_LENGTH = 200  # terms of the exact expectations; L <= 0.6 leaves less than 1e-40 beyond
SLOPE_BOUND = 1.1


# --- 07.weights ---------------------------------------------------------------------------------------------


def weights_inputs(generator: torch.Generator) -> Tensors:
    return {
        "n": torch.randint(6, 10, (), generator=generator),
        "p": uniform(generator, 0.2, 0.4),  # away from 0.5, where p and 1 - p would agree
        "exact_terms": torch.randint(3, 5, (), generator=generator),  # 3 or 4: each mistake's weights differ
    }


def weights_call(answer: object, inputs: Tensors) -> dict[str, object]:
    n, p, exact = int(inputs["n"]), float(inputs["p"]), int(inputs["exact_terms"])
    return {"one": answer(n, p, 1), "several": answer(n, p, exact)}


def weight_rule(
    n: int, p: float, exact: int, base: float | None = None, shift: int = 0, power: int = -1
) -> torch.Tensor:
    r"""$\text{base}^{\,\text{power}\cdot\max(0, k - \text{exact} + \text{shift})}$ for k = 1..n: the right weights by
    default (base 1 - p, power -1), a typical mistake's otherwise."""
    extra = (torch.arange(1, n + 1, dtype=torch.float64) - exact + shift).clamp(min=0)
    return (1 - p if base is None else base) ** (power * extra)


def weights_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    n, p, exact = int(inputs["n"]), float(inputs["p"]), int(inputs["exact_terms"])
    not_inverted = _("These are the probabilities P(N >= k); the weights are their inverses, 1 / P(N >= k).")
    shifted = _(
        "The exponent is off by one: term exact_terms + 1 is reached with probability 1 - p, so its weight is "
        "1 / (1 - p)."
    )
    swapped = _("p is the probability to stop after a term, so going on has probability 1 - p: use (1 - p), not p.")
    no_exact = _(
        "The first exact_terms terms are always computed: their weight is 1, and the exponent counts from there."
    )
    ones = _("Every weight is 1: the terms with k > exact_terms must be weighted by 1 / P(N >= k).")
    k = torch.arange(1, n + 1)[:, None]

    def mistakes(exact_terms: int) -> list[tuple[torch.Tensor, str]]:
        return [
            (weight_rule(n, p, exact_terms, power=1), not_inverted),
            (weight_rule(n, p, exact_terms, shift=1), shifted),
            (weight_rule(n, p, exact_terms, shift=-1), shifted),
            (weight_rule(n, p, exact_terms, base=p), swapped),
            (weight_rule(n, p, 1), no_exact),
            (weight_rule(n, p, 0), no_exact),
            (torch.ones(n, dtype=torch.float64), ones),
        ]

    return [
        judge_values(
            _("weights with one exact term"),
            1,
            outputs["one"],
            label=_("the weights"),
            expected=weight_rule(n, p, 1),
            mistakes=mistakes(1)[:4] + mistakes(1)[5:],
            where=k,
            where_name="k",
        ),
        judge_values(
            _("weights with several exact terms"),
            2,
            outputs["several"],
            label=_("the weights"),
            expected=weight_rule(n, p, exact),
            mistakes=mistakes(exact),
            where=k,
            where_name="k",
        ),
    ]


# --- 07.roulette --------------------------------------------------------------------------------------------


class CountProducts(torch.autograd.Function):
    """The identity, whose backward pass adds one to a counter: one vector-Jacobian product through g.

    Written with `setup_context` and a generated vmap rule, so that an answer using `torch.func` still runs.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(value: torch.Tensor, counter: list[int]) -> torch.Tensor:
        return value.view_as(value)

    @staticmethod
    def setup_context(ctx: torch.autograd.function.FunctionCtx, inputs: tuple, output: torch.Tensor) -> None:
        ctx.counter = inputs[1]

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        ctx.counter[0] += 1
        return grad, None


class SymmetricBranch:
    r"""$g(x) = L\,W^\top \tanh(W x + b)$, W orthogonal: a symmetric Jacobian with eigenvalues in $(0, L]$.

    `products[0]` counts the vector-Jacobian products taken through g since the last reset.
    """

    def __init__(self, inputs: Tensors) -> None:
        self.w, self.b, self.lipschitz = inputs["w"], inputs["b"], inputs["lipschitz"]
        self.products = [0]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        gx = self.lipschitz * torch.tanh(x @ self.w.T + self.b) @ self.w
        return CountProducts.apply(gx, self.products) if torch.is_grad_enabled() else gx


def roulette_inputs(generator: torch.Generator) -> Tensors:
    dim = draw_dim(generator, 2, 4)
    return {
        "w": orthogonal(dim, generator),
        "b": 0.1 * torch.randn(dim, generator=generator, dtype=torch.float64),
        "lipschitz": uniform(generator, 0.55, 0.65),
        "x": 0.3 * torch.randn(ROULETTE_POINTS, dim, generator=generator, dtype=torch.float64),
        "p": uniform(generator, 0.25, 0.4),  # away from 0.5, where p and 1 - p would agree
        "exact_terms": torch.randint(3, 5, (), generator=generator),  # for the law of N only
        "seed": torch.randint(0, 2**31 - 1, (), generator=generator),
    }


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def roulette_call(answer: object, inputs: Tensors) -> dict[str, object]:
    """`ROULETTE_DRAWS` calls with one exact term (the statistical judgement), `REPEATS` of them again with
    the same seeds, and `TERM_DRAWS` calls with `exact_terms` exact terms, of which only the products count."""
    g, x, p = SymmetricBranch(inputs), inputs["x"], float(inputs["p"])
    seed = int(inputs["seed"])

    def estimate(draw: int, exact_terms: int = 1) -> torch.Tensor:
        g.products[0] = 0
        value = answer(g, x.clone(), p, exact_terms, seeded(seed + draw))
        return tensor_output(value, _("the estimate"), (x.shape[0],))

    estimates = torch.stack([estimate(draw) for draw in range(ROULETTE_DRAWS)])
    repeated = torch.stack([estimate(draw) for draw in range(REPEATS)])
    products = []
    for draw in range(TERM_DRAWS):
        estimate(ROULETTE_DRAWS + draw, int(inputs["exact_terms"]))
        products.append(g.products[0])
    return {"estimates": estimates, "repeated": repeated, "products": torch.tensor(products, dtype=torch.float64)}


def stop_probabilities(p: float, exact: int, shift: int = 0) -> torch.Tensor:
    r"""$P(N \ge k)$ for k = 1..`SERIES_LENGTH` (with `shift`, the law of a mistaken N)."""
    return weight_rule(SERIES_LENGTH, p, exact + shift, power=1)


def exact_terms_of_series(inputs: Tensors) -> torch.Tensor:
    r"""$\operatorname{tr}(J_g^k)$ at every point for k = 1..`SERIES_LENGTH`, shape (points, SERIES_LENGTH).

    $J_g = L\,W^\top \operatorname{diag}(1 - \tanh^2(W x + b))\, W$ with W orthogonal, so its eigenvalues are
    $L (1 - \tanh^2(W x + b))$ (`tests/test_checks_statistics.py` checks them against autograd's Jacobian).
    """
    eigenvalues = inputs["lipschitz"] * (1 - torch.tanh(inputs["x"] @ inputs["w"].T + inputs["b"]) ** 2)
    k = torch.arange(1, SERIES_LENGTH + 1, dtype=torch.float64)
    return (eigenvalues[:, :, None] ** k).sum(dim=1)


def expected_mean(
    traces: torch.Tensor, reached: torch.Tensor, weights: torch.Tensor, coefficients: torch.Tensor
) -> float:
    r"""$\frac1{\text{points}} \sum_{\text{points}} \sum_k P(N \ge k)\, w_k\, c_k \operatorname{tr}(J^k)$: the
    expectation of an estimator that takes the terms it reaches with weights $w_k$ and coefficients $c_k$."""
    return float((traces * (reached * weights * coefficients)).sum(dim=1).mean())


def expectations(inputs: Tensors) -> tuple[float, list[tuple[float, str]]]:
    """The exact log-det averaged over the points, and the expectation of each named mistake with its message,
    for the calls of the statistical judgement (one exact term)."""
    p, exact = float(inputs["p"]), 1
    traces = exact_terms_of_series(inputs)
    k = torch.arange(1, SERIES_LENGTH + 1, dtype=torch.float64)
    ones, log_coefficients = torch.ones_like(k), (-1) ** (k + 1) / k
    reached, weights = stop_probabilities(p, exact), weight_rule(SERIES_LENGTH, p, exact)
    truth = expected_mean(traces, ones, ones, log_coefficients)
    mistaken_weights = [
        (
            ones,
            _("Your estimate is biased: it matches the series cut at a random N without the weights 1 / P(N >= k)."),
        ),
        (1 / weights, _("Your estimate is biased: the terms are multiplied by P(N >= k) instead of divided by it.")),
        (
            weight_rule(SERIES_LENGTH, p, exact, shift=1),
            _(
                "Your estimate is biased: the weights' exponent is off by one (the weight of term exact_terms + 1 "
                "should be 1 / (1 - p))."
            ),
        ),
        (
            weight_rule(SERIES_LENGTH, p, exact, base=p),
            _("Your estimate is biased: the weights use p where 1 - p belongs."),
        ),
    ]
    biased = [(expected_mean(traces, stop_probabilities(1 - p, exact), weights, log_coefficients), coin_message())]
    biased += [(expected_mean(traces, reached, w, log_coefficients), message) for w, message in mistaken_weights]
    biased += [
        (
            expected_mean(traces, reached, weights, 1 / k),
            _("The terms must alternate in sign: (-1)^(k+1), so + for k = 1, - for k = 2, and so on."),
        ),
        (
            expected_mean(traces, reached, weights, (-1) ** (k + 1)),
            _("Each term must be divided by k: the series of log(1 + z) is z - z^2/2 + z^3/3 - ..."),
        ),
        (-truth, _("The sign of every term is flipped: the first term, v^T J v, comes with a plus.")),
    ]
    return truth, biased


def mean_and_standard_error(estimates: torch.Tensor) -> tuple[float, float]:
    """Over the calls (rows), the mean of the estimates averaged over the points, and its standard error."""
    return mean_and_error(estimates.mean(dim=1).tolist())


def library_spread(inputs: Tensors) -> float:
    """The standard deviation, over `REFERENCE_DRAWS` calls, of the library's estimate averaged over the points."""
    g, x, p = SymmetricBranch(inputs), inputs["x"], float(inputs["p"])
    generator = seeded(int(inputs["seed"]) + 1)
    with torch.enable_grad():
        per_call = [
            russian_roulette_logdet(g, x, p=p, exact_terms=1, generator=generator).mean().item()
            for _draw in range(REFERENCE_DRAWS)
        ]
    return torch.tensor(per_call).std().item()


def coin_message() -> str:
    return _(
        "Your estimate is biased: the series goes on with probability p after each term; it should stop with "
        "probability p."
    )


def coin_swapped(products: torch.Tensor, p: float, exact: int) -> bool:
    """Whether the numbers of terms have the law of N with p and 1 - p swapped (mean exact + p / (1 - p))."""
    error = math.sqrt(p / (1 - p) ** 2 / len(products))  # the standard error of that law's mean
    return abs(products.mean().item() - (exact + p / (1 - p))) <= Z_LIMIT * error


def roulette_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    p, exact = float(inputs["p"]), int(inputs["exact_terms"])
    estimates = tensor_output(outputs["estimates"], _("the estimates"), (ROULETTE_DRAWS, inputs["x"].shape[0]))
    products = torch.as_tensor(outputs["products"], dtype=torch.float64)
    truth, biased = expectations(inputs)
    mean, error = mean_and_standard_error(estimates)
    spread, reference = error * math.sqrt(len(estimates)), library_spread(inputs)

    def near(value: float) -> bool:
        return abs(mean - value) <= Z_LIMIT * error + 1e-12

    swapped = coin_swapped(products, p, exact)  # the law of N tells this mistake from the missing weights
    candidates = sorted(
        (abs(mean - value), text) for value, text in biased if near(value) and (text == coin_message()) == swapped
    )
    named = candidates[0][1] if candidates else None  # the mistake whose expectation lies closest
    earned, message = 0, named
    if spread <= SPREAD_LIMIT * reference and near(truth):
        earned, message = 3, _("correct")
    elif named is None and spread > SPREAD_LIMIT * reference:
        message = _(
            "Your estimates spread far more than they should (standard deviation {spread:.4f}, against {reference:.4f} "
            "for a correct estimator): check the weights, and that the series stops with probability p after each term."
        ).format(spread=spread, reference=reference)
    elif named is None:
        message = _(
            "Your estimate is biased: over {draws:,d} calls its mean error is {mean:.4f} ± {error:.4f} (standard "
            "error), more than {z:g} standard errors from 0."
        ).format(draws=len(estimates), mean=mean - truth, error=error, z=Z_LIMIT)
    unbiased = Part(_("unbiased: the mean over many calls matches the exact log-det"), 3, earned, message)
    return [unbiased, terms_part(products, p, exact), repeat_part(estimates, outputs["repeated"])]


def terms_part(products: torch.Tensor, p: float, exact: int) -> Part:
    """One point: the number of vector-Jacobian products per call has the law of N (at least exact_terms, mean
    exact_terms + (1 - p) / p, within `Z_LIMIT` standard errors)."""
    name = _("the number of terms N is random, at least exact_terms, with mean exact_terms + (1 - p) / p")
    mean, spread = products.mean().item(), products.std().item()
    expected = exact + (1 - p) / p
    error = math.sqrt((1 - p) / p**2 / len(products))  # the standard error of the mean of N, from its law
    if spread == 0:
        return Part(
            name,
            1,
            0,
            _(
                "Every call took the same number of vector-Jacobian products ({count}). N must be random (after the "
                "exact terms, go on with probability 1 - p after each term), and each term takes exactly one product: "
                "do not build the Jacobian."
            ).format(count=int(mean)),
        )
    if products.min().item() < exact:
        return Part(
            name, 1, 0, _("Some calls used fewer than exact_terms terms: always compute the first exact_terms terms.")
        )
    if abs(mean - expected) > Z_LIMIT * error:
        return Part(
            name,
            1,
            0,
            _(
                "Your calls took {mean:.2f} vector-Jacobian products on average; N should have mean "
                "exact_terms + (1 - p) / p = {expected:.2f}. (Each term needs exactly one product.)"
            ).format(mean=mean, expected=expected),
        )
    return Part(name, 1, 1, _("correct"))


def repeat_part(estimates: torch.Tensor, repeated: object) -> Part:
    """One point: the draws come from the generator passed in (the same seeds give the same estimates, and
    different seeds give different ones)."""
    name = _("every random draw comes from the generator argument")
    again = tensor_output(repeated, _("the estimate"), (REPEATS, estimates.shape[1]))
    if not torch.equal(again, estimates[:REPEATS]) or bool((estimates == estimates[0]).all()):
        return Part(
            name,
            1,
            0,
            _(
                "Two calls with generators in the same state gave different estimates (or all calls gave the same). "
                "Draw N and v with the generator argument: torch.rand((), generator=generator) and "
                "torch.randn(x.shape, generator=generator, dtype=x.dtype)."
            ),
        )
    return Part(name, 1, 1, _("correct"))


# --- 07.lipswish --------------------------------------------------------------------------------------------


def lipswish_inputs(generator: torch.Generator) -> Tensors:
    return {
        "x": 3 * torch.randn(sample_size(generator), generator=generator, dtype=torch.float64),
        "beta": uniform(generator, 0.5, 3.0),
    }


def lipswish_call(answer: object, inputs: Tensors) -> dict[str, object]:
    value = answer(inputs["x"].clone(), float(inputs["beta"]))
    if not isinstance(value, tuple) or len(value) != 2:
        raise WrongFormat(_("lipswish should return a pair (values, slopes)."))
    return {"values": value[0], "slopes": value[1]}


def lipswish_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    x, beta = inputs["x"], float(inputs["beta"])
    z = beta * x
    s, s_x = torch.sigmoid(z), torch.sigmoid(x)
    swish_slope = s + z * s * (1 - s)
    no_bound = _("Divide by 1.1: without it the slope reaches about 1.1, and the function is not 1-Lipschitz.")
    no_beta = _("The sigmoid takes beta * x, not x.")
    product_rule = _(
        "Use the product rule: d/dx [x sigma(beta x)] = sigma(z) + x * beta * sigma(z) * (1 - sigma(z)), z = beta x."
    )
    chain_rule = _("The chain rule is missing a factor beta: d/dx sigma(beta x) = beta sigma(z) (1 - sigma(z)).")
    return [
        judge_values(
            _("the values f(x)"),
            1,
            outputs["values"],
            label=_("the values"),
            expected=x * s / SLOPE_BOUND,
            mistakes=[(x * s, no_bound), (x * s_x / SLOPE_BOUND, no_beta), (x * s_x, no_beta)],
            where=x[:, None],
            where_name="x",
        ),
        judge_values(
            _("the slopes f'(x)"),
            2,
            outputs["slopes"],
            label=_("the slopes"),
            expected=swish_slope / SLOPE_BOUND,
            mistakes=[
                (swish_slope, no_bound),
                (s / SLOPE_BOUND, product_rule),
                ((s + x * s * (1 - s)) / SLOPE_BOUND, chain_rule),
                ((s_x + x * s_x * (1 - s_x)) / SLOPE_BOUND, no_beta),
            ],
            where=x[:, None],
            where_name="x",
        ),
    ]


TASKS = [
    Task(
        "07.weights",
        N_("The Russian roulette weights"),
        "roulette_weights",
        weights_inputs,
        weights_call,
        weights_judge,
        points=3,
        hint=N_(
            "For k = 1..n: the weight is 1 if k <= exact_terms, else (1 - p) ** -(k - exact_terms); return them as "
            "a float64 tensor of shape (n,)."
        ),
        references=("survival_weights", "geometric_terms"),
    ),
    Task(
        "07.roulette",
        N_("The unbiased Russian roulette log-det"),
        "roulette_logdet",
        roulette_inputs,
        roulette_call,
        roulette_judge,
        points=5,
        hint=N_(
            "terms = exact_terms; while torch.rand((), generator=generator) < 1 - p: terms += 1. Then, as in sheet 06, "
            "w = v; for k = 1..terms: w = vector-Jacobian product; add (-1)**(k+1) * (w * v).sum(dim=1) / k, "
            "multiplied by the weight 1 / P(N >= k)."
        ),
        references=(
            "russian_roulette_logdet",
            "russian_roulette_logdet_with_neumann_gradient",
            "hutchinson_series",
            "roulette_series",
            "survival_weights",
            "geometric_terms",
            "exact_logdet",
        ),
    ),
    Task(
        "07.lipswish",
        N_("LipSwish and its slope"),
        "lipswish",
        lipswish_inputs,
        lipswish_call,
        lipswish_judge,
        points=3,
        hint=N_("z = beta * x, s = torch.sigmoid(z); values = x * s / 1.1; slopes = (s + z * s * (1 - s)) / 1.1."),
        references=("LipSwish",),
    ),
]
