r"""The graded tasks of sheet 03: `Invert`, IAF sampling with the density of its samples, the distillation loss.

Each task draws its inputs (sizes included) from a generator, builds the bijectors and networks the
learner's code receives from them (random weights, so nothing can be guessed), and judges the returned
values against a reference computed here, naming the typical mistakes:

    03.invert        forward of the inverted bijector = wrapped inverse, and the other way round   (4 points)
    03.iaf_sample    $x = u\,e^{\alpha(u)} + \mu(u)$, $\log q(x) = \log\mathcal N(u) - \sum_i\alpha_i$  (4 points)
    03.distillation  $\frac1n\sum_k \log q(x_k) - \log p(x_k)$ on the student's samples, and its gradient (3 points)
"""

from __future__ import annotations

import torch
from torch import nn

from nfcourse.bijectors import AffineAutoregressive, Bijector, iaf, maf
from nfcourse.checks.compare import judge_values
from nfcourse.checks.lesson00 import constant_mistakes, normal_log_prob, sample_size
from nfcourse.checks.lesson02 import Conditioner
from nfcourse.checks.task import Part, Task, Tensors, WrongFormat, pair_output
from nfcourse.conditioners import MADE
from nfcourse.distillation import distillation_loss
from nfcourse.flow import Flow
from nfcourse.i18n import N_, _


def draw_dim(generator: torch.Generator, low: int = 3, high: int = 5) -> int:
    return int(torch.randint(low, high + 1, (), generator=generator))


def random_weights(module: nn.Module, prefix: str, generator: torch.Generator, scale: float) -> Tensors:
    """Random values for every parameter of `module`, keyed `prefix.name`, to be copied in by `load_weights`."""
    return {
        f"{prefix}.{name}": scale * torch.randn(parameter.shape, generator=generator, dtype=torch.float64)
        for name, parameter in module.named_parameters()
    }


def load_weights(module: nn.Module, prefix: str, inputs: Tensors) -> nn.Module:
    """Copy the drawn weights (keys `prefix.name`) into `module`, in float64, and return it."""
    module = module.double()
    with torch.no_grad():
        for name, parameter in module.named_parameters():
            parameter.copy_(inputs[f"{prefix}.{name}"])
    return module


# --- 03.invert ----------------------------------------------------------------------------------------------


def autoregressive_layer(dim: int) -> AffineAutoregressive:
    return AffineAutoregressive(MADE(dim, hidden_sizes=(8,)), dim)


def invert_inputs(generator: torch.Generator) -> Tensors:
    dim, n = draw_dim(generator), sample_size(generator)
    inputs = {
        "u": torch.randn(n, dim, generator=generator, dtype=torch.float64),
        "x": 1.5 * torch.randn(n, dim, generator=generator, dtype=torch.float64),
    }
    inputs.update(random_weights(autoregressive_layer(dim), "layer", generator, scale=0.5))
    return inputs


def invert_bijector(inputs: Tensors) -> Bijector:
    return load_weights(autoregressive_layer(inputs["u"].shape[1]), "layer", inputs)


def invert_call(answer: object, inputs: Tensors) -> dict[str, object]:
    inverted = answer(invert_bijector(inputs))
    with torch.no_grad():
        x, forward_logdet = pair_output(inverted.forward(inputs["u"]), "forward(u)")
        u, inverse_logdet = pair_output(inverted.inverse(inputs["x"]), "inverse(x)")
    return {"x": x, "forward_logdet": forward_logdet, "u": u, "inverse_logdet": inverse_logdet}


def invert_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    u, x, wrapped = inputs["u"], inputs["x"], invert_bijector(inputs)
    with torch.no_grad():
        wrapped_inverse_at_u, wrapped_forward_at_u = wrapped.inverse(u), wrapped.forward(u)
        wrapped_forward_at_x, wrapped_inverse_at_x = wrapped.forward(x), wrapped.inverse(x)
    not_swapped = _("The directions are not swapped: forward of the inverted bijector is the wrapped one's inverse.")
    not_swapped_back = _(
        "The directions are not swapped: inverse of the inverted bijector is the wrapped one's forward."
    )
    negated = _(
        "The log-det is negated: the wrapped method already returns log|det J| of the direction it computes, "
        "which is the direction you are asked for; pass it on unchanged."
    )
    other_direction = _(
        "The log-det comes from the wrapped bijector's other direction (the one not swapped), evaluated at the "
        "input: take the values and the log-det from the same swapped call."
    )
    on_u, on_x = {"where": u, "where_name": "u"}, {"where": x, "where_name": "x"}
    return [
        judge_values(
            _("forward values"),
            1,
            outputs["x"],
            label=_("the x of forward(u)"),
            expected=wrapped_inverse_at_u[0],
            mistakes=[(wrapped_forward_at_u[0], not_swapped)],
            **on_u,
        ),
        judge_values(
            _("log-det of forward"),
            1,
            outputs["forward_logdet"],
            label=_("the log-det of forward(u)"),
            expected=wrapped_inverse_at_u[1],
            mistakes=[(-wrapped_inverse_at_u[1], negated), (wrapped_forward_at_u[1], other_direction)],
            **on_u,
        ),
        judge_values(
            _("inverse values"),
            1,
            outputs["u"],
            label=_("the u of inverse(x)"),
            expected=wrapped_forward_at_x[0],
            mistakes=[(wrapped_inverse_at_x[0], not_swapped_back)],
            **on_x,
        ),
        judge_values(
            _("log-det of inverse"),
            1,
            outputs["inverse_logdet"],
            label=_("the log-det of inverse(x)"),
            expected=wrapped_forward_at_x[1],
            mistakes=[(-wrapped_forward_at_x[1], negated), (wrapped_inverse_at_x[1], other_direction)],
            **on_x,
        ),
    ]


# --- 03.iaf_sample ------------------------------------------------------------------------------------------


def iaf_inputs(generator: torch.Generator) -> Tensors:
    dim = draw_dim(generator)
    inputs = {"u": torch.randn(sample_size(generator), dim, generator=generator, dtype=torch.float64)}
    inputs.update(random_weights(MADE(dim, hidden_sizes=(8,)), "made", generator, scale=0.6))
    return inputs


def iaf_conditioner(inputs: Tensors) -> Conditioner:
    """The task's conditioner: a random MADE, `conditioner(h) -> (mu, alpha)` with bounded alpha."""
    return Conditioner(load_weights(MADE(inputs["u"].shape[1], hidden_sizes=(8,)), "made", inputs))


def iaf_call(answer: object, inputs: Tensors) -> dict[str, object]:
    x, log_q = pair_output(answer(inputs["u"], iaf_conditioner(inputs)), "iaf_sample_and_log_prob")
    return {"x": x, "log_q": log_q}


def maf_recursion(u: torch.Tensor, conditioner: Conditioner) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The mistake of conditioning on x: MAF's sampling, $x_i = u_i e^{\alpha_i(x_{<i})} + \mu_i(x_{<i})$."""
    x = torch.zeros_like(u)
    for _step in range(u.shape[1]):
        mu, alpha = conditioner(x)
        x = u * torch.exp(alpha) + mu
    return x, alpha


def iaf_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    u, conditioner = inputs["u"], iaf_conditioner(inputs)
    mu, alpha = conditioner(u)
    x = u * torch.exp(alpha) + mu
    log_det = alpha.sum(dim=1)
    expected = normal_log_prob(u) - log_det
    x_maf, alpha_maf = maf_recursion(u, conditioner)
    on_x = _(
        "The conditioner read x: that is MAF's D-step sampling. In an IAF (mu, alpha) come from the noise, "
        "conditioner(u), in one pass."
    )
    divided = _("x = (u - mu) * exp(-alpha) is the density direction of a MAF; here x = u * exp(alpha) + mu.")
    x_part = judge_values(
        _("samples x"),
        2,
        outputs["x"],
        label=_("the x of iaf_sample_and_log_prob"),
        expected=x,
        mistakes=[(x_maf, on_x), ((u - mu) * torch.exp(-alpha), divided)],
        where=u,
        where_name="u",
    )
    log_q_part = judge_values(
        _("log-density of the samples"),
        2,
        outputs["log_q"],
        label=_("the log q of iaf_sample_and_log_prob"),
        expected=expected,
        mistakes=[
            (
                normal_log_prob(u) + log_det,
                _("The log-det has the wrong sign: the samples' density is divided by exp(sum alpha), so subtract it."),
            ),
            (-log_det, _("The base density log N(u; 0, I) is missing: log q(x) = log N(u; 0, I) - sum(alpha).")),
            (
                normal_log_prob(x) - log_det,
                _("The base density is evaluated at x; it belongs to the noise: log N(u; 0, I)."),
            ),
            (normal_log_prob(u), _("The log-det -sum(alpha) is missing.")),
            (normal_log_prob(u) - alpha_maf.sum(dim=1), on_x),
            *constant_mistakes(expected, dim=u.shape[1]),
        ],
        where=u,
        where_name="u",
    )
    return [x_part, log_q_part]


# --- 03.distillation ----------------------------------------------------------------------------------------


def student_flow(dim: int) -> Flow:
    return Flow(iaf(dim, layers=2, hidden_sizes=(8,), zero_last_layer=True), dim)


def teacher_flow(dim: int) -> Flow:
    return Flow(maf(dim, layers=2, hidden_sizes=(8,), zero_last_layer=True), dim)


def distillation_inputs(generator: torch.Generator) -> Tensors:
    dim = draw_dim(generator, 2, 3)
    inputs = {
        "dim": torch.tensor(dim),
        "n": torch.tensor(sample_size(generator)),
        "seed": torch.randint(2**30, (), generator=generator),
    }
    inputs.update(random_weights(student_flow(dim), "student", generator, scale=0.3))
    inputs.update(random_weights(teacher_flow(dim), "teacher", generator, scale=0.3))
    return inputs


def distillation_models(inputs: Tensors) -> tuple[Flow, Flow]:
    """The student (an IAF, trainable) and the teacher (a MAF, frozen) rebuilt from the drawn weights."""
    dim = int(inputs["dim"])
    student = load_weights(student_flow(dim), "student", inputs)
    teacher = load_weights(teacher_flow(dim), "teacher", inputs).requires_grad_(False)
    return student, teacher


def student_gradient(student: Flow, loss: object) -> torch.Tensor:
    """d loss / d (student parameters), flattened; NaN where no gradient reached the student."""
    student.zero_grad(set_to_none=True)
    if isinstance(loss, torch.Tensor) and loss.requires_grad and loss.numel() == 1:
        loss.reshape(()).backward()
    return torch.cat(
        [(p.grad if p.grad is not None else torch.full_like(p, float("nan"))).reshape(-1) for p in student.parameters()]
    )


def distillation_call(answer: object, inputs: Tensors) -> dict[str, object]:
    student, teacher = distillation_models(inputs)
    generator = torch.Generator().manual_seed(int(inputs["seed"]))
    loss = answer(student, teacher, int(inputs["n"]), generator)
    if isinstance(loss, torch.Tensor) and loss.numel() != 1:
        raise WrongFormat(
            _("distillation_loss should return one number (a tensor of shape ()), not shape {shape}.").format(
                shape=tuple(loss.shape)
            )
        )
    value = loss.detach().reshape(1) if isinstance(loss, torch.Tensor) else loss
    return {"loss": value, "gradient": student_gradient(student, loss)}


def distillation_variants(inputs: Tensors) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """(value, gradient) of the right loss and of the typical mistakes, on the same noise as the answer."""
    n, seed = int(inputs["n"]), int(inputs["seed"])
    variants = {}

    def record(name: str, compute: object) -> None:
        student, teacher = distillation_models(inputs)
        loss = compute(student, teacher, torch.Generator().manual_seed(seed))
        variants[name] = (loss.detach().reshape(1), student_gradient(student, loss))

    def forward_kl(student: Flow, teacher: Flow, generator: torch.Generator) -> torch.Tensor:
        x, log_p = teacher.sample_and_log_prob(n, generator)
        return (log_p - student.log_prob(x)).mean()

    def on_teacher_samples(student: Flow, teacher: Flow, generator: torch.Generator) -> torch.Tensor:
        x = teacher.sample(n, generator)
        return (student.log_prob(x) - teacher.log_prob(x)).mean()

    def detached(student: Flow, teacher: Flow, generator: torch.Generator) -> torch.Tensor:
        x, log_q = student.sample_and_log_prob(n, generator)
        return (log_q - teacher.log_prob(x.detach())).mean()

    record("right", lambda student, teacher, generator: distillation_loss(student, teacher, n, generator))
    record("forward_kl", forward_kl)
    record("teacher_samples", on_teacher_samples)
    record("detached", detached)
    return variants


def distillation_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    variants = distillation_variants(inputs)
    value, gradient = variants["right"]
    n = int(inputs["n"])
    flipped = _("The sign is flipped: the loss is the mean of log q(x) - log p(x), student minus teacher.")
    forward = _(
        "That is the forward KL, KL(teacher || student), on the teacher's samples. The student is trained on its "
        "own samples: x, log_q = student.sample_and_log_prob(n, generator)."
    )
    teacher_samples = _(
        "The points come from the teacher; the reverse KL averages over the student's own samples, so that "
        "its gradient reaches the student through them."
    )
    summed = _("The terms are summed; the loss is their mean over the n samples.")
    value_part = judge_values(
        _("value of the KL estimate"),
        2,
        outputs["loss"],
        label=_("the value of distillation_loss"),
        expected=value,
        mistakes=[
            (-value, flipped),
            (variants["forward_kl"][0], forward),
            (variants["teacher_samples"][0], teacher_samples),
            (n * value, summed),
        ],
        where=torch.tensor([[n]]),
        where_name=_("number of samples n"),
    )
    answer_gradient = outputs["gradient"]
    name = _("gradient for the student")
    if isinstance(answer_gradient, torch.Tensor) and bool(torch.isnan(answer_gradient).all()):
        message = _(
            "No gradient reached the student: compute the loss from student.sample_and_log_prob, without "
            "torch.no_grad() or .detach(), so that training can change the student."
        )
        return [value_part, Part(name, 1, 0, message)]
    gradient_part = judge_values(
        name,
        1,
        answer_gradient,
        label=_("the student's gradient"),
        expected=gradient,
        mistakes=[
            (-gradient, flipped),
            (variants["forward_kl"][1], forward),
            (variants["teacher_samples"][1], teacher_samples),
            (n * gradient, summed),
            (
                variants["detached"][1],
                _(
                    "The gradient misses the teacher's term: log p(x) was computed without a gradient (x.detach() "
                    "or torch.no_grad()), so the student is never pulled towards the teacher's density."
                ),
            ),
        ],
        where=torch.arange(len(gradient))[:, None],
        where_name=_("parameter"),
    )
    return [value_part, gradient_part]


TASKS = [
    Task(
        "03.invert",
        N_("Invert: a bijector with its directions swapped"),
        "Inverted",
        invert_inputs,
        invert_call,
        invert_judge,
        points=4,
        hint=N_("forward(u) returns self.bijector.inverse(u) as it is, values and log-det; inverse(x) the same way."),
        references=("Invert", "iaf"),
    ),
    Task(
        "03.iaf_sample",
        N_("IAF sampling with the log-density of the samples"),
        "iaf_sample_and_log_prob",
        iaf_inputs,
        iaf_call,
        iaf_judge,
        points=4,
        hint=N_("mu, alpha = conditioner(u); x = u * exp(alpha) + mu; log q = log N(u; 0, I) - alpha.sum(dim=1)."),
        references=("iaf", "AffineAutoregressive", "Invert", "Flow"),
    ),
    Task(
        "03.distillation",
        N_("The distillation loss: reverse KL on the student's samples"),
        "distillation_loss",
        distillation_inputs,
        distillation_call,
        distillation_judge,
        points=3,
        hint=N_("x, log_q = student.sample_and_log_prob(n, generator); return (log_q - teacher.log_prob(x)).mean()."),
        references=("distillation_loss", "distill"),
    ),
]
