"""Seeded typical mistakes of sheet 02: (task, (text in the solution, replacement), points kept, words naming it)."""

MISTAKES = [
    ("02.masks", ("(hidden[:, None] >= degrees[None, :])", "(hidden[:, None] > degrees[None, :])"), 2, "Off by one"),
    ("02.masks", ("(degrees[:, None] > hidden[None, :])", "(degrees[:, None] >= hidden[None, :])"), 2, "Off by one"),
    (
        "02.masks",
        ("return hidden, hidden_mask, output_mask", "return hidden, hidden_mask.T, output_mask"),
        2,
        "transposed",
    ),
    (
        "02.masks",
        ("return hidden, hidden_mask, output_mask", "return hidden, hidden_mask, output_mask.T"),
        2,
        "transposed",
    ),
    ("02.masks", ("% (dim - 1) + 1", "% dim + 1"), 2, "run up to D"),
    (
        "02.masks",
        ("(hidden[:, None] >= degrees[None, :])", "(hidden[:, None] >= torch.arange(1, dim + 1)[None, :])"),
        2,
        "positions",
    ),
    (
        "02.masked_linear",
        ("self.weight * self.mask, self.bias)", "self.weight, self.bias)"),
        0,
        "does not use the mask",
    ),
    (
        "02.masked_linear",
        ("self.weight * self.mask, self.bias)", "self.weight.data * self.mask, self.bias)"),
        2,
        "No gradient",
    ),
    ("02.masked_linear", ("self.weight * self.mask, self.bias)", "self.weight * self.mask)"), 1, "bias is missing"),
    ("02.maf_log_prob", ("            h = h[:, torch.argsort(permutation)]\n", "            pass\n"), 0, "permutation"),
    ("02.maf_log_prob", ("h[:, torch.argsort(permutation)]", "h[:, permutation]"), 0, "wrong direction"),
    ("02.maf_log_prob", ("logdet = logdet - alpha.sum(dim=1)", "logdet = logdet + alpha.sum(dim=1)"), 2, "wrong sign"),
    ("02.maf_log_prob", ("enumerate(reversed(conditioners))", "enumerate(conditioners)"), 0, "last layer first"),
    ("02.maf_log_prob", ("torch.exp(-alpha)", "torch.exp(alpha)"), 0, "divides by the scale"),
    ("02.maf_log_prob", (" - 0.5 * h.shape[1] * math.log(2 * math.pi)", ""), 2, "constant of log N(u; 0, I)"),
]
