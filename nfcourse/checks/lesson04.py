r"""The graded tasks of sheet 04: an affine coupling layer, the masks of a Real-NVP stack, and a NICE density.

Each task draws its inputs (sizes included) from a generator, builds the networks the learner's code
receives from them (random weights, so nothing can be guessed), and judges the returned values against a
reference computed here, naming the typical mistakes. The mask $b$ marks the kept coordinates ($b_i = 1$):

    04.affine_coupling  $x = b \odot u + (1-b) \odot (u\,e^{\alpha} + \mu)$, $(\mu, \alpha) = c(b \odot u)$,
                        its inverse, log-dets $\pm\sum_i (1-b_i)\,\alpha_i$                              (4 points)
    04.masks            the masks of $K$ layers, "half" (first $\lfloor D/2\rfloor$ kept) or "alternating"
                        (even coordinates kept), flipped from one layer to the next                  (3 points)
    04.nice             $u$ and $\log p(x) = \log\mathcal N(u; 0, I) - \sum_i s_i$ of a NICE flow:
                        undo the scaling $e^{s}$, then the additive couplings, last layer first      (4 points)
"""

from __future__ import annotations

import torch

from nfcourse.checks.compare import judge_values
from nfcourse.checks.lesson00 import constant_mistakes, normal_log_prob, sample_size
from nfcourse.checks.lesson03 import draw_dim, load_weights, random_weights
from nfcourse.checks.task import Part, Task, Tensors, WrongFormat, pair_output
from nfcourse.conditioners.mlp import mlp
from nfcourse.i18n import N_, _

HIDDEN = 8


class CouplingNet:
    """A random network as the tasks hand it out: `net(h)` returns `(mu, alpha)`, or only `mu` (`shift_only`).

    It reads every coordinate of `h` and returns values on every coordinate, kept ones included: masking
    the input and the output is the learner's job.
    """

    def __init__(self, network: torch.nn.Module, dim: int, shift_only: bool = False) -> None:
        self.network, self.dim, self.shift_only = network, dim, shift_only

    def __call__(self, h: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            out = self.network(h.to(torch.float64))
        if self.shift_only:
            return out
        mu, alpha = out[:, : self.dim], out[:, self.dim :]
        return mu, torch.tanh(alpha)  # bounded log-scales, as in the library's layers


def network(dim: int, outputs: int) -> torch.nn.Module:
    return mlp(dim, (HIDDEN,), outputs, zero_last_layer=False)


def random_mask(dim: int, generator: torch.Generator) -> torch.Tensor:
    """A 0/1 mask of shape (dim,) with at least one kept and one transformed coordinate, not a plain half."""
    while True:
        mask = (torch.rand(dim, generator=generator) < 0.5).to(torch.float64)
        if 0 < mask.sum() < dim:
            return mask


# --- 04.affine_coupling -------------------------------------------------------------------------------------


def coupling_inputs(generator: torch.Generator) -> Tensors:
    dim, n = draw_dim(generator, 2, 6), sample_size(generator)
    inputs = {
        "mask": random_mask(dim, generator),
        "u": torch.randn(n, dim, generator=generator, dtype=torch.float64),
        "x": 1.5 * torch.randn(n, dim, generator=generator, dtype=torch.float64),
    }
    inputs.update(random_weights(network(dim, 2 * dim), "net", generator, scale=0.6))
    return inputs


def coupling_net(inputs: Tensors) -> CouplingNet:
    dim = len(inputs["mask"])
    return CouplingNet(load_weights(network(dim, 2 * dim), "net", inputs), dim)


def coupling_call(answer: object, inputs: Tensors) -> dict[str, object]:
    layer = answer(inputs["mask"], coupling_net(inputs))
    x, forward_logdet = pair_output(layer.forward(inputs["u"]), "forward(u)")
    u, inverse_logdet = pair_output(layer.inverse(inputs["x"]), "inverse(x)")
    return {"x": x, "forward_logdet": forward_logdet, "u": u, "inverse_logdet": inverse_logdet}


def coupling_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    b, u, x, net = inputs["mask"], inputs["u"], inputs["x"], coupling_net(inputs)
    keep, change = b, 1 - b

    def parts_of(h: torch.Tensor, read: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        return net(h if read is None else h * read)

    def logdet(alpha: torch.Tensor) -> torch.Tensor:
        return (change * alpha).sum(dim=1)

    mu, alpha = parts_of(u, keep)
    mu_all, alpha_all = parts_of(u, None)
    mu_other, alpha_other = parts_of(u, change)
    forward_x = keep * u + change * (u * torch.exp(alpha) + mu)
    forward_logdet = logdet(alpha)

    nu, beta = parts_of(x, keep)
    nu_all, beta_all = parts_of(x, None)
    nu_other, beta_other = parts_of(x, change)
    inverse_u = keep * x + change * (x - nu) * torch.exp(-beta)
    inverse_logdet = -logdet(beta)

    unmasked = _(
        "The network read the whole input; it may read only the kept coordinates, net(h * mask), so that the "
        "inverse sees the same input and can undo the layer."
    )
    other_half = _(
        "The network read the coordinates it transforms, net(h * (1 - mask)); it should read the kept ones (mask 1), "
        "which pass unchanged, so that the inverse can compute the same shift and scale."
    )
    kept_changed = _(
        "The kept coordinates (mask 1) changed too: the shift and the scale act only where mask is 0, "
        "mask * h + (1 - mask) * (...)."
    )
    all_coordinates = _(
        "The log-det sums alpha over every coordinate; the kept ones are not scaled, so sum (1 - mask) * alpha."
    )
    flipped = _(
        "The log-det has the wrong sign: the forward direction multiplies by exp(alpha), so its log-det is "
        "+sum((1 - mask) * alpha)."
    )
    flipped_back = _(
        "The log-det has the wrong sign: the inverse divides by exp(alpha), so its log-det is -sum((1 - mask) * alpha)."
    )
    shift_scaled = _("The shift is scaled too: x = u * exp(alpha) + mu, not (u + mu) * exp(alpha).")
    divided_first = _(
        "The inverse divides first and subtracts after; undo the forward map in reverse order: "
        "u = (x - mu) * exp(-alpha)."
    )
    multiplied = _("The inverse multiplies by exp(alpha); it must divide by it: u = (x - mu) * exp(-alpha).")
    on_u, on_x = {"where": u, "where_name": "u"}, {"where": x, "where_name": "x"}
    return [
        judge_values(
            _("forward values"),
            1,
            outputs["x"],
            label=_("the x of forward(u)"),
            expected=forward_x,
            mistakes=[
                (keep * u + change * (u * torch.exp(alpha_all) + mu_all), unmasked),
                (keep * u + change * (u * torch.exp(alpha_other) + mu_other), other_half),
                (u * torch.exp(alpha) + mu, kept_changed),
                (u * torch.exp(alpha_all) + mu_all, unmasked),
                (keep * u + change * (u + mu) * torch.exp(alpha), shift_scaled),
            ],
            **on_u,
        ),
        judge_values(
            _("log-det of forward"),
            1,
            outputs["forward_logdet"],
            label=_("the log-det of forward(u)"),
            expected=forward_logdet,
            mistakes=[
                (alpha.sum(dim=1), all_coordinates),
                (-forward_logdet, flipped),
                (logdet(alpha_all), unmasked),
                (alpha_all.sum(dim=1), unmasked),
                (logdet(alpha_other), other_half),
            ],
            **on_u,
        ),
        judge_values(
            _("inverse values"),
            1,
            outputs["u"],
            label=_("the u of inverse(x)"),
            expected=inverse_u,
            mistakes=[
                (keep * x + change * (x - nu_all) * torch.exp(-beta_all), unmasked),
                (keep * x + change * (x - nu_other) * torch.exp(-beta_other), other_half),
                ((x - nu) * torch.exp(-beta), kept_changed),
                ((x - nu_all) * torch.exp(-beta_all), unmasked),
                (keep * x + change * (x * torch.exp(-beta) - nu), divided_first),
                (keep * x + change * (x - nu) * torch.exp(beta), multiplied),
            ],
            **on_x,
        ),
        judge_values(
            _("log-det of inverse"),
            1,
            outputs["inverse_logdet"],
            label=_("the log-det of inverse(x)"),
            expected=inverse_logdet,
            mistakes=[
                (-inverse_logdet, flipped_back),
                (-beta.sum(dim=1), all_coordinates),
                (beta.sum(dim=1), all_coordinates),
                (-logdet(beta_all), unmasked),
                (-beta_all.sum(dim=1), unmasked),
                (-logdet(beta_other), other_half),
            ],
            **on_x,
        ),
    ]


# --- 04.masks -----------------------------------------------------------------------------------------------


def masks_inputs(generator: torch.Generator) -> Tensors:
    odd_dim = 2 * int(torch.randint(1, 3, (), generator=generator)) + 1  # 3 or 5: where halves are uneven
    return {
        "half_dim": torch.tensor(odd_dim),
        "half_layers": torch.randint(2, 6, (), generator=generator),
        "alternating_dim": torch.randint(2, 7, (), generator=generator),
        "alternating_layers": torch.randint(2, 6, (), generator=generator),
    }


def stacked(result: object, name: str) -> object:
    """The answer as one (K, D) tensor: a list or tuple of K masks is stacked; anything else is passed on."""
    if isinstance(result, list | tuple):
        if not all(isinstance(mask, torch.Tensor) for mask in result):
            raise WrongFormat(_("{name} should return a tensor of shape (K, D), one mask per row.").format(name=name))
        try:
            return torch.stack([mask.reshape(-1).to(torch.float64) for mask in result])
        except RuntimeError as error:
            message = _("{name} should return a tensor of shape (K, D), one mask per row.").format(name=name)
            raise WrongFormat(message) from error
    return result.to(torch.float64) if isinstance(result, torch.Tensor) else result


def masks_call(answer: object, inputs: Tensors) -> dict[str, object]:
    outputs = {}
    for pattern in ("half", "alternating"):
        dim, layers = int(inputs[f"{pattern}_dim"]), int(inputs[f"{pattern}_layers"])
        outputs[pattern] = stacked(answer(dim, layers, pattern), f"realnvp_masks({dim}, {layers}, '{pattern}')")
    return outputs


def layer_masks(first: torch.Tensor, second: torch.Tensor, layers: int) -> torch.Tensor:
    """`first`, `second`, `first`, ...: the masks of `layers` layers."""
    return torch.stack([first if k % 2 == 0 else second for k in range(layers)]).to(torch.float64)


def masks_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    same = _(
        "Every layer has the same mask, so the coordinates it keeps are never transformed: flip the mask from "
        "one layer to the next, mask_(k+1) = 1 - mask_k."
    )
    flipped = _(
        "The masks start with the flipped mask: layer 0 should keep (mask 1) the first floor(D/2) coordinates for "
        '"half" and the even coordinates 0, 2, ... for "alternating"; mask 1 marks a kept coordinate.'
    )
    rounded_up = _(
        "Layer 0 keeps ceil(D/2) coordinates; with odd D it should keep the first floor(D/2) = D // 2 coordinates."
    )
    last_half = _(
        "With odd D the middle coordinate is never kept: the next layer keeps exactly the coordinates the previous "
        "one transformed, mask_(k+1) = 1 - mask_k, not the last D // 2."
    )
    parts = []
    for pattern, points in (("half", 2), ("alternating", 1)):
        dim, layers = int(inputs[f"{pattern}_dim"]), int(inputs[f"{pattern}_layers"])
        position = torch.arange(dim)
        first = position < dim // 2 if pattern == "half" else position % 2 == 0
        first = first.to(torch.float64)
        mistakes = [
            (layer_masks(first, first, layers), same),
            (layer_masks(1 - first, first, layers), flipped),
        ]
        if pattern == "half":
            up = (position < (dim + 1) // 2).to(torch.float64)
            mistakes += [
                (layer_masks(up, 1 - up, layers), rounded_up),
                (layer_masks(first, (position >= dim - dim // 2).to(torch.float64), layers), last_half),
            ]
        parts.append(
            judge_values(
                _('masks "{pattern}"').format(pattern=pattern),
                points,
                outputs[pattern],
                label=f"realnvp_masks({dim}, {layers}, '{pattern}')",
                expected=layer_masks(first, 1 - first, layers),
                mistakes=mistakes,
                where=torch.arange(layers)[:, None],
                where_name=_("layer"),
            )
        )
    return parts


# --- 04.nice ------------------------------------------------------------------------------------------------


def nice_inputs(generator: torch.Generator) -> Tensors:
    dim, layers = draw_dim(generator, 2, 6), int(torch.randint(2, 5, (), generator=generator))
    inputs = {
        "x": 1.5 * torch.randn(sample_size(generator), dim, generator=generator, dtype=torch.float64),
        "masks": random_masks(dim, layers, generator),
        "log_scale": 0.5 * torch.randn(dim, generator=generator, dtype=torch.float64),
    }
    for k in range(layers):
        inputs.update(random_weights(network(dim, dim), f"layer{k}", generator, scale=0.6))
    return inputs


def random_masks(dim: int, layers: int, generator: torch.Generator) -> torch.Tensor:
    """Random masks of `layers` layers, shape (layers, dim), each different from the one before it.

    Two neighbouring layers with the same mask would commute, and undoing them in the wrong order would not show.
    """
    masks = [random_mask(dim, generator)]
    while len(masks) < layers:
        mask = random_mask(dim, generator)
        if not torch.equal(mask, masks[-1]):
            masks.append(mask)
    return torch.stack(masks)


def nice_nets(inputs: Tensors) -> list[CouplingNet]:
    """The shift networks of the task's additive coupling layers, in sampling order."""
    layers, dim = inputs["masks"].shape
    return [
        CouplingNet(load_weights(network(dim, dim), f"layer{k}", inputs), dim, shift_only=True) for k in range(layers)
    ]


def nice_call(answer: object, inputs: Tensors) -> dict[str, object]:
    nets = nice_nets(inputs)
    u, log_p = pair_output(answer(inputs["x"], inputs["masks"], nets, inputs["log_scale"]), "nice_log_prob")
    return {"u": u, "log_p": log_p}


def nice_inverse(inputs: Tensors, mistake: str = "") -> torch.Tensor:
    """Data to noise through the NICE flow; `mistake` names a typical wrong way to do it."""
    h, masks, s, nets = inputs["x"], inputs["masks"], inputs["log_scale"], nice_nets(inputs)
    if mistake == "multiply":
        h = h * torch.exp(s)
    elif mistake not in ("scale_last", "no_scale"):
        h = h * torch.exp(-s)
    order = range(len(nets)) if mistake == "sampling_order" else reversed(range(len(nets)))
    for k in order:
        b = masks[k]
        shift = nets[k](h if mistake == "unmasked" else h * b)
        if mistake == "kept_changed":
            h = h - shift
        elif mistake == "added":
            h = h + (1 - b) * shift
        else:
            h = h - (1 - b) * shift
    return h * torch.exp(-s) if mistake == "scale_last" else h


def nice_judge(inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
    x, s = inputs["x"], inputs["log_scale"]
    u = nice_inverse(inputs)
    log_det = s.sum()
    expected = normal_log_prob(u) - log_det
    messages = {
        "sampling_order": _(
            "The coupling layers are undone in sampling order; density evaluation undoes the last layer first."
        ),
        "scale_last": _(
            "The scaling is undone last; it is the last step of sampling, so density evaluation undoes it first."
        ),
        "no_scale": _("The scaling x = h * exp(s) is not undone: start with h = x * exp(-s)."),
        "multiply": _("The scaling is undone by multiplying with exp(s); divide by it: h = x * exp(-s)."),
        "added": _("The shift is added; the inverse of an additive coupling subtracts it."),
        "kept_changed": _(
            "The kept coordinates (mask 1) changed too: subtract the shift only where mask is 0, (1 - mask) * net(...)."
        ),
        "unmasked": _("The network read the whole input; it may read only the kept coordinates, net(h * mask)."),
    }
    variants = [(nice_inverse(inputs, mistake), message) for mistake, message in messages.items()]
    u_part = judge_values(
        _("noise u"),
        2,
        outputs["u"],
        label=_("the u of nice_log_prob"),
        expected=u,
        mistakes=variants,
        where=x,
        where_name="x",
    )
    log_p_part = judge_values(
        _("log p(x)"),
        2,
        outputs["log_p"],
        label=_("the log p of nice_log_prob"),
        expected=expected,
        mistakes=[
            (
                normal_log_prob(u) + log_det,
                _("The log-det has the wrong sign: the scaling stretches by exp(s), so log p(x) has -sum(s)."),
            ),
            (
                normal_log_prob(u),
                _(
                    "The log-det of the scaling, -sum(s), is missing; the additive layers add 0, "
                    "the scaling is the only change of volume."
                ),
            ),
            (normal_log_prob(x) - log_det, _("The base density is evaluated at x; it belongs to the noise u.")),
            *constant_mistakes(expected, dim=x.shape[1]),
            *[(normal_log_prob(wrong_u) - log_det, message) for wrong_u, message in variants],
        ],
        where=x,
        where_name="x",
    )
    return [u_part, log_p_part]


TASKS = [
    Task(
        "04.affine_coupling",
        N_("An affine coupling layer: both directions and their log-dets"),
        "AffineCouplingLayer",
        coupling_inputs,
        coupling_call,
        coupling_judge,
        points=4,
        hint=N_(
            "mu, alpha = net(u * mask); x = mask * u + (1 - mask) * (u * exp(alpha) + mu); log-det "
            "((1 - mask) * alpha).sum(dim=1). The inverse reads net(x * mask) and divides: (x - mu) * exp(-alpha)."
        ),
        references=("AffineCoupling", "AdditiveCoupling", "realnvp", "nice"),
    ),
    Task(
        "04.masks",
        N_("The masks of a Real-NVP stack"),
        "realnvp_masks",
        masks_inputs,
        masks_call,
        masks_judge,
        points=3,
        hint=N_(
            "Build the first mask (first D // 2 coordinates, or the even ones, set to 1), then flip it in every "
            "other layer: row k is mask if k is even, else 1 - mask."
        ),
        references=("half_mask", "alternating_mask", "coupling_mask", "checkerboard_mask", "coupling_stack"),
    ),
    Task(
        "04.nice",
        N_("The log-density of a NICE flow"),
        "nice_log_prob",
        nice_inputs,
        nice_call,
        nice_judge,
        points=4,
        hint=N_(
            "h = x * exp(-log_scale); for k from the last layer to the first: h = h - (1 - mask_k) * "
            "net_k(h * mask_k); log p = log N(h; 0, I) - log_scale.sum()."
        ),
        references=("nice", "AdditiveCoupling", "AffineCoupling", "ElementwiseAffine", "Flow", "Compose"),
    ),
]
