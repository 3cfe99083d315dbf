"""Seeded typical mistakes of sheet 00: (task, (text in the solution, replacement), points kept, words naming it)."""

MISTAKES = [
    ("00.lognormal", ("- torch.log(x)\n", "+ torch.log(x)\n"), 0, "wrong sign"),
    ("00.lognormal", ("- torch.log(x)\n", "\n"), 0, "log-det term is missing"),
    (
        "00.lognormal",
        (
            "return -0.5 * u**2 - 0.5 * math.log(2 * math.pi) - torch.log(x)",
            "return 1 / x * torch.exp(-0.5 * u**2) / math.sqrt(2 * math.pi)",
        ),
        0,
        "not its logarithm",
    ),
    ("00.linear", ("- torch.linalg.slogdet(W).logabsdet", "+ torch.linalg.slogdet(W).logabsdet"), 0, "wrong sign"),
    ("00.linear", ("- torch.linalg.slogdet(W).logabsdet", "- torch.log(torch.linalg.det(W))"), 0, "absolute value"),
    ("00.linear", ("torch.linalg.solve(W, (x - b).T).T", "(x - b) @ W.T"), 0, "u = W^-1 (x - b)"),
    ("00.linear", ("torch.linalg.solve(W, (x - b).T).T", "torch.linalg.solve(W.T, (x - b).T).T"), 0, "W^-T (x - b)"),
    ("00.linear", ("- 0.5 * x.shape[1] * math.log(2 * math.pi)", ""), 0, "constant of log N(u; 0, I) is missing"),
    ("00.lognormal", ("- 0.5 * math.log(2 * math.pi)", ""), 0, "constant of log N(u; 0, I) is missing"),
    ("00.chain", ("- 0.5 * x.shape[1] * math.log(2 * math.pi)", ""), 0, "constant of log N(u; 0, I) is missing"),
    ("00.prelu", ("return x, negative.sum(dim=1)", "return x, -negative.sum(dim=1)"), 3, "wrong sign"),
    ("00.prelu", ("negative = u < 0", "negative = u > 0"), 2, "positive entries"),
    ("00.prelu", ("x / self.slope, x)", "x * self.slope, x)"), 3, "must divide"),
    ("00.prelu", ("-negative.sum(dim=1) * math", "-1.0 * negative * math"), 3, "sum over the dimensions"),
    ("00.chain", ("reversed(layers)", "layers"), 0, "last layer first"),
    ("00.chain", ("logdet = logdet + step", "logdet = logdet - step"), 0, "must be added"),
    (
        "00.chain",
        ("return -0.5 * (x**2).sum(dim=1) - 0.5 * x.shape[1] * math.log(2 * math.pi) + logdet", "return logdet"),
        0,
        "base density",
    ),
]
