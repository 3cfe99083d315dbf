r"""The graded tasks of sheet 00: densities under a change of variables, the PReLU bijector, and composition.

Each task draws its inputs (sizes included) from a generator, calls the learner's answer, and judges
the returned values against a reference computed here, naming the typical mistakes:

    00.lognormal  $\log p(x)$ of $x = e^u$, $u \sim \mathcal N(0,1)$         (2 points)
    00.linear     $\log p(x)$ of $x = Wu + b$, $u \sim \mathcal N(0, I)$       (3 points)
    00.prelu      PReLU: forward, inverse and both log-dets                     (4 points)
    00.chain      $\log p(x)$ of a composed flow from its layers' inverses      (3 points)
"""

from __future__ import annotations

import math

import torch

from nfcourse.bijectors import AffineLU, Bijector, Compose, ElementwiseAffine, PReLU
from nfcourse.checks.compare import judge_values
from nfcourse.checks.task import Part, Task, Tensors, pair_output
from nfcourse.flow import Flow, StandardNormal
from nfcourse.i18n import N_, _
from nfcourse.jacobian import brute_force_logdet

LOG_2PI = math.log(2 * math.pi)


def normal_log_prob(u: torch.Tensor) -> torch.Tensor:
    r"""$\log \mathcal N(u; 0, I)$ summed over the last dimension."""
    return -0.5 * (u**2).sum(-1) - 0.5 * u.shape[-1] * LOG_2PI


def constant_mistakes(expected: torch.Tensor, dim: int) -> list[tuple[torch.Tensor, str]]:
    r"""The typical mistakes with the constant $-\tfrac D2 \log 2\pi$ of $\log\mathcal N(u; 0, I)$, and their messages.

    Leaving it out, and (for $D > 1$) taking it once, $-\tfrac12 \log 2\pi$, instead of once per coordinate.
    """
    offset = 0.5 * dim * LOG_2PI
    message = _("Every value is {offset:.3f} = (D/2) log 2 pi too high: the constant of log N(u; 0, I) is missing.")
    mistakes = [(expected + offset, message.format(offset=offset))]
    if dim > 1:
        once = _(
            "Every value is {offset:.3f} = ((D-1)/2) log 2 pi too high: the constant -(1/2) log 2 pi of a standard "
            "normal density counts once per coordinate, so log N(u; 0, I) has -(D/2) log 2 pi."
        )
        mistakes.append((expected + offset - 0.5 * LOG_2PI, once.format(offset=offset - 0.5 * LOG_2PI)))
    return mistakes


def sample_size(generator: torch.Generator) -> int:
    return int(torch.randint(5, 41, (), generator=generator))


# --- 00.lognormal -------------------------------------------------------------------------------------------


def lognormal_inputs(generator: torch.Generator) -> Tensors:
    return {"x": torch.randn(sample_size(generator), generator=generator, dtype=torch.float64).exp()}


def lognormal_call(answer: object, inputs: Tensors) -> dict[str, object]:
    return {"log_p": answer(inputs["x"])}


def lognormal_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    x = inputs["x"]
    base = -0.5 * x.log() ** 2 - 0.5 * LOG_2PI  # log N(f^{-1}(x)) with f^{-1} = log
    expected = base - x.log()
    mistakes = [
        (base, _("The log-det term is missing: p(x) also carries |d log(x)/dx| = 1/x, that is - log x.")),
        (base + x.log(), _("The log-det term has the wrong sign: |d log(x)/dx| = 1/x contributes - log x.")),
        (expected.exp(), _("You returned the density p(x), not its logarithm.")),
        *constant_mistakes(expected, dim=1),
    ]
    answer = outputs["log_p"]
    label = "lognormal_log_prob(x)"
    return [
        judge_values(
            _("log p(x)"),
            2,
            answer,
            label=label,
            expected=expected,
            mistakes=mistakes,
            where=x[:, None],
            where_name="x",
        )
    ]


# --- 00.linear ----------------------------------------------------------------------------------------------


def linear_inputs(generator: torch.Generator) -> Tensors:
    n, dim = sample_size(generator), int(torch.randint(2, 5, (), generator=generator))
    rotation, _r = torch.linalg.qr(torch.randn(dim, dim, generator=generator, dtype=torch.float64))
    scales = torch.empty(dim, dtype=torch.float64).uniform_(0.5, 2.0, generator=generator)
    W = rotation * scales  # well conditioned: singular values between 0.5 and 2
    if torch.linalg.det(W) > 0:
        W[0] = -W[0]  # a negative determinant, so a missing |.| shows
    b = torch.randn(dim, generator=generator, dtype=torch.float64)
    x = 2 * torch.randn(n, dim, generator=generator, dtype=torch.float64)
    return {"x": x, "W": W, "b": b}


def linear_call(answer: object, inputs: Tensors) -> dict[str, object]:
    return {"log_p": answer(inputs["x"], inputs["W"], inputs["b"])}


def linear_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    x, W, b = inputs["x"], inputs["W"], inputs["b"]
    answer = outputs["log_p"]
    logabsdet = torch.linalg.slogdet(W).logabsdet
    u = torch.linalg.solve(W, (x - b).T).T  # u = W^{-1}(x - b)
    expected = normal_log_prob(u) - logabsdet
    name = _("log p(x)")
    if isinstance(answer, torch.Tensor) and answer.shape == (len(x),) and bool(torch.isnan(answer).all()):
        message = _("log p(x) is NaN everywhere: det W < 0 here, so take log|det W|, with the absolute value.")
        return [Part(name, 3, 0, message)]
    mistakes = [
        (normal_log_prob(u) + logabsdet, _("The log-det term has the wrong sign: it is - log|det W|.")),
        (normal_log_prob(u), _("The log-det term - log|det W| is missing.")),
        (normal_log_prob((x - b) @ W.T) - logabsdet, _("You applied W to x - b; the noise is u = W^-1 (x - b).")),
        (
            normal_log_prob(torch.linalg.solve(W.T, (x - b).T).T) - logabsdet,
            _("You computed W^-T (x - b); with one sample per row, u is torch.linalg.solve(W, (x - b).T).T."),
        ),
        *constant_mistakes(expected, dim=x.shape[1]),
    ]
    label = "linear_log_prob(x, W, b)"
    return [judge_values(name, 3, answer, label=label, expected=expected, mistakes=mistakes, where=x, where_name="x")]


# --- 00.prelu -----------------------------------------------------------------------------------------------


def prelu_inputs(generator: torch.Generator) -> Tensors:
    n, dim = sample_size(generator), int(torch.randint(2, 5, (), generator=generator))
    log_slope = torch.empty((), dtype=torch.float64).uniform_(0.3, 1.2, generator=generator)
    sign = 1.0 if torch.rand((), generator=generator) < 0.3 else -1.0  # slopes above and below 1
    return {
        "slope": (sign * log_slope).exp(),
        "u": 2 * torch.randn(n, dim, generator=generator, dtype=torch.float64),
        "x": 2 * torch.randn(n, dim, generator=generator, dtype=torch.float64),
    }


def prelu_call(answer: object, inputs: Tensors) -> dict[str, object]:
    bijector = answer(float(inputs["slope"]))
    x, forward_logdet = pair_output(bijector.forward(inputs["u"]), "forward(u)")
    u, inverse_logdet = pair_output(bijector.inverse(inputs["x"]), "inverse(x)")
    return {"x": x, "forward_logdet": forward_logdet, "u": u, "inverse_logdet": inverse_logdet}


def prelu_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    a, u, x = inputs["slope"], inputs["u"], inputs["x"]
    zeros = torch.zeros(len(u), dtype=torch.float64)

    def forward(v: torch.Tensor) -> torch.Tensor:
        return torch.where(v < 0, a * v, v)

    def inverse(v: torch.Tensor) -> torch.Tensor:
        return torch.where(v < 0, v / a, v)

    forward_logdet, inverse_logdet = brute_force_logdet(forward, u), brute_force_logdet(inverse, x)
    flipped = _("The log-det has the wrong sign.")
    wrong_side = _("The log-det counts the positive entries; the slope acts on the negative ones.")
    missing = _("The log-det is 0, but the slope changes volume where entries are negative.")
    on_u = {"where": u, "where_name": "u"}
    on_x = {"where": x, "where_name": "x"}
    return [
        judge_values(
            _("forward values"),
            1,
            outputs["x"],
            label=_("the x of forward(u)"),
            expected=forward(u),
            **on_u,
            mistakes=[
                (torch.where(u > 0, a * u, u), _("The slope is applied to the positive entries; it belongs to u < 0.")),
                (a * u, _("The slope is applied to every entry; it belongs only to u < 0.")),
            ],
        ),
        judge_values(
            _("inverse values"),
            1,
            outputs["u"],
            label=_("the u of inverse(x)"),
            expected=inverse(x),
            **on_x,
            mistakes=[(torch.where(x < 0, a * x, x), _("The inverse multiplies by the slope; it must divide by it."))],
        ),
        judge_values(
            _("log-det of forward (vs. the correct map's Jacobian)"),
            1,
            outputs["forward_logdet"],
            label=_("the log-det of forward(u)"),
            expected=forward_logdet,
            **on_u,
            mistakes=[(-forward_logdet, flipped), ((u > 0).sum(1) * a.log(), wrong_side), (zeros, missing)],
        ),
        judge_values(
            _("log-det of inverse (vs. the correct map's Jacobian)"),
            1,
            outputs["inverse_logdet"],
            label=_("the log-det of inverse(x)"),
            expected=inverse_logdet,
            **on_x,
            mistakes=[(-inverse_logdet, flipped), (-(x > 0).sum(1) * a.log(), wrong_side), (zeros, missing)],
        ),
    ]


# --- 00.chain -----------------------------------------------------------------------------------------------


def chain_inputs(generator: torch.Generator) -> Tensors:
    def draw(*shape: int) -> torch.Tensor:
        return 0.5 * torch.randn(*shape, generator=generator, dtype=torch.float64)

    return {
        "x": 3 * draw(sample_size(generator), 2),
        "lower": draw(2, 2),
        "upper": draw(2, 2),
        "raw_s": draw(2),
        "b": draw(2),
        "raw_log_slope": draw(2),
        "mu": draw(2),
        "raw_alpha": draw(2),
    }


def chain_layers(inputs: Tensors) -> list[Bijector]:
    """The three layers of the task, noise to data: AffineLU, then PReLU, then ElementwiseAffine."""
    linear, prelu, affine = AffineLU(2).double(), PReLU(2).double(), ElementwiseAffine(2).double()
    with torch.no_grad():
        for module, names in (
            (linear, ("lower", "upper", "raw_s", "b")),
            (prelu, ("raw_log_slope",)),
            (affine, ("mu", "raw_alpha")),
        ):
            for name in names:
                getattr(module, name).copy_(inputs[name])
    return [linear, prelu, affine]


def chain_call(answer: object, inputs: Tensors) -> dict[str, object]:
    return {"log_p": answer(inputs["x"], chain_layers(inputs))}


def chain_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    x, layers = inputs["x"], chain_layers(inputs)
    with torch.no_grad():
        expected = Flow(Compose(*layers), dim=2).log_prob(x)
        u, logdet = x, torch.zeros(len(x), dtype=torch.float64)
        for layer in layers:  # the wrong order: the first layer undone first
            u, step = layer.inverse(u)
            logdet = logdet + step
        wrong_order = StandardNormal(2).double().log_prob(u) + logdet
        u, inverse_logdet = Compose(*layers).inverse(x)
        base = StandardNormal(2).double().log_prob(u)
    mistakes = [
        (wrong_order, _("The layers are undone in sampling order; density evaluation undoes the last layer first.")),
        (base - inverse_logdet, _("The inverse log-dets are subtracted; they must be added.")),
        (base, _("The log-dets of the layers are missing.")),
        (inverse_logdet, _("The base density log N(u; 0, I) is missing.")),
        *constant_mistakes(expected, dim=2),
    ]
    label = "flow_log_prob(x, layers)"
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


TASKS = [
    Task(
        "00.lognormal",
        N_("Density of a transformed 1-D variable"),
        "lognormal_log_prob",
        lognormal_inputs,
        lognormal_call,
        lognormal_judge,
        points=2,
        hint=N_("Write log p(x) = log N(log x; 0, 1) + log|d log(x)/dx| and simplify the last term."),
    ),
    Task(
        "00.linear",
        N_("Density under an invertible linear map"),
        "linear_log_prob",
        linear_inputs,
        linear_call,
        linear_judge,
        points=3,
        hint=N_("Compute u = W^-1 (x - b) with torch.linalg.solve, then subtract log|det W| from log N(u; 0, I)."),
    ),
    Task(
        "00.prelu",
        N_("The PReLU bijector and its log-dets"),
        "PReLUBijector",
        prelu_inputs,
        prelu_call,
        prelu_judge,
        points=4,
        hint=N_("The slope touches only the negative entries: count them per sample with (u < 0).sum(dim=1)."),
        references=("PReLU",),
    ),
    Task(
        "00.chain",
        N_("Log-density of a composed flow"),
        "flow_log_prob",
        chain_inputs,
        chain_call,
        chain_judge,
        points=3,
        hint=N_("Loop over reversed(layers), call inverse and add up the log-dets; end with log N(u; 0, I)."),
        references=("Flow", "Compose"),
    ),
]
