"""Seeded typical mistakes of sheet 04: (task, (text in the solution, replacement), points kept, words naming it)."""

ALTERNATE = "rows = [first if k % 2 == 0 else ~first for k in range(layers)]"
SCALE_FIRST = (
    "h = x * torch.exp(-log_scale)\n"
    "    for mask, net in zip(reversed(masks), reversed(nets), strict=True):\n"
    "        h = h - (1 - mask) * net(h * mask)\n"
)
SCALE_LAST = (
    "h = x\n"
    "    for mask, net in zip(reversed(masks), reversed(nets), strict=True):\n"
    "        h = h - (1 - mask) * net(h * mask)\n"
    "    h = h * torch.exp(-log_scale)\n"
)

MISTAKES = [
    ("04.affine_coupling", ("self.net(u * self.mask)", "self.net(u)"), 2, "read the whole input"),
    ("04.affine_coupling", ("self.net(x * self.mask)", "self.net(x)"), 2, "read the whole input"),
    ("04.affine_coupling", ("self.net(u * self.mask)", "self.net(u * (1 - self.mask))"), 2, "it transforms"),
    ("04.affine_coupling", ("self.net(x * self.mask)", "self.net(x * (1 - self.mask))"), 2, "it transforms"),
    (
        "04.affine_coupling",
        ("x = self.mask * u + (1 - self.mask) * (u * torch.exp(alpha) + mu)", "x = u * torch.exp(alpha) + mu"),
        3,
        "kept coordinates (mask 1) changed",
    ),
    (
        "04.affine_coupling",
        ("u = self.mask * x + (1 - self.mask) * (x - nu) * torch.exp(-beta)", "u = (x - nu) * torch.exp(-beta)"),
        3,
        "kept coordinates (mask 1) changed",
    ),
    ("04.affine_coupling", ("return x, ((1 - self.mask) * alpha)", "return x, (alpha)"), 3, "every coordinate"),
    ("04.affine_coupling", ("return u, -((1 - self.mask) * beta)", "return u, -(beta)"), 3, "every coordinate"),
    ("04.affine_coupling", ("return x, ((1 - self.mask)", "return x, -((1 - self.mask)"), 3, "wrong sign"),
    ("04.affine_coupling", ("return u, -((1 - self.mask)", "return u, ((1 - self.mask)"), 3, "wrong sign"),
    ("04.affine_coupling", ("(u * torch.exp(alpha) + mu)", "(u + mu) * torch.exp(alpha)"), 3, "shift is scaled"),
    ("04.affine_coupling", ("(x - nu) * torch.exp(-beta)", "(x * torch.exp(-beta) - nu)"), 3, "divides first"),
    ("04.affine_coupling", ("torch.exp(-beta)", "torch.exp(beta)"), 3, "must divide"),
    ("04.masks", (ALTERNATE, "rows = [first for k in range(layers)]"), 0, "same mask"),
    ("04.masks", ("first if k % 2 == 0 else ~first", "~first if k % 2 == 0 else first"), 0, "flipped mask"),
    ("04.masks", ("position < dim // 2", "position < (dim + 1) // 2"), 1, "ceil(D/2)"),
    ("04.masks", ("position % 2 == 0", "position % 2 == 1"), 2, "flipped mask"),
    (
        "04.masks",
        ("else ~first for", "else (position >= dim - dim // 2 if pattern == 'half' else ~first) for"),
        1,
        "middle coordinate",
    ),
    (
        "04.nice",
        ("zip(reversed(masks), reversed(nets), strict=True)", "zip(masks, nets, strict=True)"),
        0,
        "sampling order",
    ),
    ("04.nice", (SCALE_FIRST, SCALE_LAST), 0, "undone last"),
    ("04.nice", ("h = x * torch.exp(-log_scale)", "h = x"), 0, "not undone"),
    ("04.nice", ("torch.exp(-log_scale)", "torch.exp(log_scale)"), 0, "multiplying"),
    ("04.nice", ("h = h - (1 - mask)", "h = h + (1 - mask)"), 0, "shift is added"),
    ("04.nice", ("(1 - mask) * net(h * mask)", "net(h * mask)"), 0, "kept coordinates (mask 1) changed"),
    ("04.nice", ("net(h * mask)", "net(h)"), 0, "read the whole input"),
    ("04.nice", ("log_base - log_scale.sum()", "log_base + log_scale.sum()"), 2, "wrong sign"),
    ("04.nice", ("return h, log_base - log_scale.sum()", "return h, log_base"), 2, "is missing"),
    ("04.nice", (" - 0.5 * h.shape[1] * math.log(2 * math.pi)", ""), 2, "constant of log N(u; 0, I)"),
    ("04.nice", ("0.5 * h.shape[1] * math.log", "0.5 * math.log"), 2, "once per coordinate"),
    ("04.nice", ("-0.5 * (h**2)", "-0.5 * (x**2)"), 2, "evaluated at x"),
]
