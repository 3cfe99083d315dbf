r"""The graded tasks of sheet 01: autoregressive models as flows, and the cost of the naive model.

Each task draws its inputs (sizes included) from a generator, builds a random *autoregressive* conditioner
from them (output $i$ depends only on inputs $j < i$), calls the learner's answer, and judges the
returned values against a reference computed here, naming the typical mistakes:

    01.inverse   $u_i = (x_i - \mu_i)e^{-\alpha_i}$ and $-\sum_i\alpha_i$ in one pass    (4 points)
    01.sample    the sampling recursion $x_i = u_i e^{\alpha_i} + \mu_i$ and $+\sum_i\alpha_i$  (4 points)
    01.gaussian  $\log p(x) = \sum_i \log\mathcal N(x_i; \mu_i(x_{<i}), e^{2\alpha_i(x_{<i})})$  (3 points)
    01.count     the number of parameters of `NaiveConditioner(dim, hidden)`               (2 points)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from nfcourse.checks.compare import close, judge_values
from nfcourse.checks.lesson00 import constant_mistakes, normal_log_prob, sample_size
from nfcourse.checks.task import Part, Task, Tensors, pair_output
from nfcourse.conditioners import NaiveConditioner
from nfcourse.i18n import N_, _

Conditioner = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
Conditional = Callable[[int, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
ALPHA_RANGE = 0.8  # the random conditioners' log-scales lie in (-0.8, 0.8): no overflow, every mistake shows


def conditioner_inputs(generator: torch.Generator) -> Tensors:
    """Sizes, points and the weights of a random autoregressive conditioner (see `random_conditioner`)."""
    n, dim = sample_size(generator), int(torch.randint(3, 7, (), generator=generator))

    def draw(*shape: int, scale: float = 1.0) -> torch.Tensor:
        return scale * torch.randn(*shape, generator=generator, dtype=torch.float64)

    return {
        "x": draw(n, dim, scale=1.5),
        "u": draw(n, dim),
        "w_mu": draw(dim, dim),
        "b_mu": draw(dim, scale=0.5),
        "w_alpha": draw(dim, dim),
        "b_alpha": draw(dim, scale=0.5),
    }


def strictly_lower(weights: torch.Tensor) -> torch.Tensor:
    """Keep the entries below the diagonal: row i then reads only the inputs j < i."""
    return torch.tril(weights, diagonal=-1)


def random_conditioner(inputs: Tensors) -> Conditioner:
    r"""$\mu = W_\mu \tanh(x) + b_\mu$, $\alpha = 0.8\tanh(W_\alpha \tanh(x) + b_\alpha)$, $W$ strictly lower.

    Shapes: x: (N, D) -> mu, alpha: (N, D). Nonlinear, so that one pass and D passes give different x.
    """
    w_mu, w_alpha = strictly_lower(inputs["w_mu"]), strictly_lower(inputs["w_alpha"])
    b_mu, b_alpha = inputs["b_mu"], inputs["b_alpha"]

    def conditioner(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.tanh(x)
        mu = h @ w_mu.T.to(x.dtype) + b_mu.to(x.dtype)
        alpha = ALPHA_RANGE * torch.tanh(h @ w_alpha.T.to(x.dtype) + b_alpha.to(x.dtype))
        return mu, alpha

    return conditioner


def sample_by_recursion(u: torch.Tensor, conditioner: Conditioner, passes: int) -> torch.Tensor:
    r"""`passes` rounds of $x \leftarrow u\,e^{\alpha(x)} + \mu(x)$ from $x = 0$; $D$ rounds give the sample."""
    x = torch.zeros_like(u)
    for _pass in range(passes):
        mu, alpha = conditioner(x)
        x = u * torch.exp(alpha) + mu
    return x


def right_prefix(got: object, expected: torch.Tensor) -> int:
    """How many leading coordinates of `got` agree with `expected` in every row (0 if `got` is not comparable)."""
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        return 0
    got = got.detach().to(torch.float64)
    count = 0
    while count < expected.shape[1] and close(got[:, count], expected[:, count]):
        count += 1
    return count


# --- 01.inverse ---------------------------------------------------------------------------------------------


def inverse_call(answer: object, inputs: Tensors) -> dict[str, object]:
    u, logdet = pair_output(answer(inputs["x"], random_conditioner(inputs)), "autoregressive_inverse(x, conditioner)")
    return {"u": u, "logdet": logdet}


def inverse_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    x = inputs["x"]
    mu, alpha = random_conditioner(inputs)(x)
    expected_u = (x - mu) * torch.exp(-alpha)
    expected_logdet = -alpha.sum(dim=1)
    on_x = {"where": x, "where_name": "x"}
    return [
        judge_values(
            _("u = (x - mu) exp(-alpha)"),
            2,
            outputs["u"],
            label=_("the u of autoregressive_inverse"),
            expected=expected_u,
            **on_x,
            mistakes=[
                (
                    (x - mu) * torch.exp(alpha),
                    _("You multiplied by exp(alpha); the inverse divides by it: u_i = (x_i - mu_i) exp(-alpha_i)."),
                ),
                ((x + mu) * torch.exp(-alpha), _("You added the shift mu; the inverse subtracts it: x_i - mu_i.")),
                (
                    x * torch.exp(-alpha) - mu,
                    _("You scaled first, then shifted; the inverse subtracts mu first: (x_i - mu_i) exp(-alpha_i)."),
                ),
                (x - mu, _("The scaling is missing: after subtracting mu, multiply by exp(-alpha).")),
            ],
        ),
        judge_values(
            _("log-det of the inverse, - sum of alpha"),
            2,
            outputs["logdet"],
            label=_("the log-det of autoregressive_inverse"),
            expected=expected_logdet,
            **on_x,
            mistakes=[
                (
                    alpha.sum(dim=1),
                    _("The log-det has the wrong sign: +sum alpha belongs to sampling; the inverse has -sum alpha."),
                ),
                (-alpha.mean(dim=1), _("You averaged over the dimensions; the log-det is the sum of -alpha_i.")),
                (torch.zeros_like(expected_logdet), _("The log-det is 0, but each exp(-alpha_i) changes volume.")),
            ],
        ),
    ]


# --- 01.sample ----------------------------------------------------------------------------------------------


def sample_call(answer: object, inputs: Tensors) -> dict[str, object]:
    x, logdet = pair_output(answer(inputs["u"], random_conditioner(inputs)), "autoregressive_sample(u, conditioner)")
    return {"x": x, "logdet": logdet}


def prefix_message(got: object, expected: torch.Tensor) -> str | None:
    """A message for a sample whose first coordinates are right and a later one is not, else None."""
    right, dim = right_prefix(got, expected), expected.shape[1]
    if right == dim - 1:
        return _(
            "All coordinates but the last are right: the loop is one pass short (off by one). "
            "D coordinates need D passes of the conditioner."
        )
    if 0 < right < dim:
        return _(
            "The first {right} coordinates are right, coordinate {next} is not: each x_i must be computed from "
            "the final x_1, ..., x_(i-1), so call the conditioner again after every new coordinate."
        ).format(right=right, next=right + 1)
    return None


def sample_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    u = inputs["u"]
    conditioner = random_conditioner(inputs)
    dim = u.shape[1]
    expected = sample_by_recursion(u, conditioner, passes=dim)
    _mu, alpha = conditioner(expected)
    mu_zero, alpha_zero = conditioner(torch.zeros_like(u))
    mu_u, alpha_u = conditioner(u)
    divided = torch.zeros_like(u)
    for _pass in range(dim):
        mu_d, alpha_d = conditioner(divided)
        divided = u * torch.exp(-alpha_d) + mu_d
    one_pass = _(
        "Only the first coordinate is right: one conditioner pass (from x = 0) is not enough. Sampling is a "
        "recursion: x_i needs the final x_1, ..., x_(i-1), so loop over the D coordinates."
    )
    from_u = _(
        "You computed mu and alpha from the noise u; they are functions of the data x_(<i), which the loop builds up."
    )
    mistakes = [
        (u * torch.exp(alpha_zero) + mu_zero, one_pass),
        (u * torch.exp(alpha_u) + mu_u, from_u),
        (divided, _("You divided by exp(alpha); sampling multiplies: x_i = u_i exp(alpha_i) + mu_i.")),
    ]
    got, message = outputs["x"], prefix_message(outputs["x"], expected)
    if message is not None and not any(close(got.detach().to(torch.float64), wrong) for wrong, _m in mistakes):
        mistakes.append((got.detach().to(torch.float64), message))  # right on a prefix only: say where it breaks
    on_u = {"where": u, "where_name": "u"}
    values = judge_values(
        _("x by the sampling recursion"),
        3,
        got,
        label=_("the x of autoregressive_sample"),
        expected=expected,
        **on_u,
        mistakes=mistakes,
    )
    logdet = judge_values(
        _("log-det of sampling, + sum of alpha"),
        1,
        outputs["logdet"],
        label=_("the log-det of autoregressive_sample"),
        expected=alpha.sum(dim=1),
        **on_u,
        mistakes=[
            (
                -alpha.sum(dim=1),
                _("The log-det has the wrong sign: sampling multiplies by exp(alpha), so it is +sum alpha."),
            ),
            (alpha_zero.sum(dim=1), _("The log-det uses the alphas of one pass from x = 0; take them at the final x.")),
            (alpha_u.sum(dim=1), from_u),
        ],
    )
    return [values, logdet]


# --- 01.gaussian --------------------------------------------------------------------------------------------


def random_conditional(inputs: Tensors) -> Conditional:
    r"""`conditional(i, previous) -> (mu_i, alpha_i)`, each (N,), from `previous` = $x_{<i}$ of shape (N, k).

    $\mu_i = b_{\mu,i} + \sum_{j<k} W_{\mu,ij}\tanh(x_j)$, $\alpha_i = 0.8\tanh(b_{\alpha,i} + \sum_{j<k}
    W_{\alpha,ij}\tanh(x_j))$. It accepts any number k of columns, so a prefix of the wrong length shows.
    """
    w_mu, b_mu, w_alpha, b_alpha = inputs["w_mu"], inputs["b_mu"], inputs["w_alpha"], inputs["b_alpha"]

    def conditional(i: int, previous: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        i, k = int(i), previous.shape[1]
        h = torch.tanh(previous)  # (N, k)
        mu = h @ w_mu[i, :k].to(h.dtype) + b_mu[i]
        alpha = ALPHA_RANGE * torch.tanh(h @ w_alpha[i, :k].to(h.dtype) + b_alpha[i])
        return mu, alpha

    return conditional


def gaussian_call(answer: object, inputs: Tensors) -> dict[str, object]:
    return {"log_p": answer(inputs["x"], random_conditional(inputs))}


def chain_rule(x: torch.Tensor, conditional: Conditional, shift: int = 0, sign: float = -1.0) -> torch.Tensor:
    r"""$\sum_i \log\mathcal N(x_i; \mu_i, e^{2\alpha_i})$ with the conditionals reading $x_{<i+\text{shift}}$
    (shift 0 is right), and the log-det term written $\text{sign}\cdot\alpha_i$ (-1 is right)."""
    log_p = torch.zeros(len(x), dtype=x.dtype)
    for i in range(x.shape[1]):
        mu, alpha = conditional(i, x[:, : max(i + shift, 0)])
        z = (x[:, i] - mu) * torch.exp(-alpha)
        log_p = log_p - 0.5 * z**2 + sign * alpha - 0.5 * math.log(2 * math.pi)
    return log_p


def gaussian_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    x = inputs["x"]
    conditional = random_conditional(inputs)
    expected = chain_rule(x, conditional)
    pairs = [conditional(i, x[:, :i]) for i in range(x.shape[1])]
    mu, alpha = torch.stack([m for m, _a in pairs], dim=1), torch.stack([a for _m, a in pairs], dim=1)  # (N, D)
    multiplied = (x - mu) * torch.exp(alpha)
    mistakes = [
        (
            chain_rule(x, conditional, shift=1),
            _("The conditional of x_i read x_1, ..., x_i, itself included (off by one): pass x[:, :i]."),
        ),
        (
            chain_rule(x, conditional, shift=-1),
            _("The conditional of x_i missed x_(i-1) (off by one): it reads all earlier coordinates, x[:, :i]."),
        ),
        (
            chain_rule(x, conditional, sign=1.0),
            _("The log-det term has the wrong sign: each coordinate adds -alpha_i."),
        ),
        (chain_rule(x, conditional, sign=0.0), _("The term -alpha_i (the log of 1/sigma_i) is missing.")),
        (
            normal_log_prob(multiplied) - alpha.sum(dim=1),
            _("You multiplied by exp(alpha); standardizing divides: (x_i - mu_i) exp(-alpha_i)."),
        ),
        *constant_mistakes(expected, dim=x.shape[1]),
    ]
    label = "gaussian_autoregressive_log_prob(x, conditional)"
    return [
        judge_values(
            _("log p(x)"),
            3,
            outputs["log_p"],
            label=label,
            expected=expected,
            mistakes=mistakes,
            where=x,
            where_name="x",
        )
    ]


# --- 01.count -----------------------------------------------------------------------------------------------


def count_inputs(generator: torch.Generator) -> Tensors:
    cases = 3
    return {
        "dims": torch.randint(2, 13, (cases,), generator=generator).to(torch.float64),
        "hiddens": torch.randint(3, 17, (cases,), generator=generator).to(torch.float64),
    }


def count_call(answer: object, inputs: Tensors) -> dict[str, object]:
    pairs = zip(inputs["dims"].tolist(), inputs["hiddens"].tolist(), strict=True)
    return {"counts": torch.tensor([float(answer(int(dim), int(hidden))) for dim, hidden in pairs])}


def naive_count(dim: int, hidden: int, first_inputs: int = 1, biases: bool = True, all_inputs: bool = False) -> int:
    """Parameters of D networks inputs -> hidden -> hidden -> 2, network k reading max(k, first_inputs) inputs."""
    total = 0
    for k in range(dim):
        inputs = dim if all_inputs else max(k, first_inputs)
        total += inputs * hidden + hidden * hidden + hidden * 2 + (2 * hidden + 2 if biases else 0)
    return total


def count_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    pairs = [
        (int(dim), int(hidden)) for dim, hidden in zip(inputs["dims"].tolist(), inputs["hiddens"].tolist(), strict=True)
    ]
    expected = torch.tensor(
        [float(sum(p.numel() for p in NaiveConditioner(dim, hidden).parameters())) for dim, hidden in pairs],
        dtype=torch.float64,
    )

    def each(**options: object) -> torch.Tensor:
        return torch.tensor([float(naive_count(dim, hidden, **options)) for dim, hidden in pairs], dtype=torch.float64)

    two_outputs = torch.tensor(
        [float(naive_count(dim, hidden) - dim * (hidden + 1)) for dim, hidden in pairs], dtype=torch.float64
    )
    mistakes = [
        (each(first_inputs=0), _("The first network reads one constant input (it has no predecessors), not zero.")),
        (each(biases=False), _("The biases are missing: every linear layer has one per output.")),
        (each(all_inputs=True), _("Every network reads all D inputs here; network i reads only the i - 1 before it.")),
        (two_outputs, _("Each network has two outputs, mu_i and alpha_i, not one.")),
    ]
    return [
        judge_values(
            _("number of parameters"),
            2,
            outputs["counts"],
            label="naive_parameter_count(dim, hidden)",
            expected=expected,
            mistakes=mistakes,
            where=torch.stack([inputs["dims"], inputs["hiddens"]], dim=1),
            where_name="(dim, hidden)",
        )
    ]


TASKS = [
    Task(
        "01.inverse",
        N_("The density pass of an affine autoregressive layer"),
        "autoregressive_inverse",
        conditioner_inputs,
        inverse_call,
        inverse_judge,
        points=4,
        hint=N_("Call the conditioner once on x; then u = (x - mu) * exp(-alpha) and logdet = -alpha.sum(dim=1)."),
        references=("AffineAutoregressive",),
    ),
    Task(
        "01.sample",
        N_("The sequential sampling loop"),
        "autoregressive_sample",
        conditioner_inputs,
        sample_call,
        sample_judge,
        points=4,
        hint=N_(
            "Start from x = zeros; D times: mu, alpha = conditioner(x), set coordinate i; "
            "return x and alpha.sum(dim=1)."
        ),
        references=("AffineAutoregressive",),
    ),
    Task(
        "01.gaussian",
        N_("The log-density of a Gaussian autoregressive model"),
        "gaussian_autoregressive_log_prob",
        conditioner_inputs,
        gaussian_call,
        gaussian_judge,
        points=3,
        hint=N_(
            "For each i: mu, alpha = conditional(i, x[:, :i]); add -z^2/2 - alpha - log(2 pi)/2 with z standardized."
        ),
    ),
    Task(
        "01.count",
        N_("The number of parameters of the naive model"),
        "naive_parameter_count",
        count_inputs,
        count_call,
        count_judge,
        points=2,
        hint=N_("Network k reads max(k, 1) inputs; each linear layer has (inputs + 1) * outputs parameters."),
        references=("NaiveConditioner",),
    ),
]
