"""Seeded typical mistakes of sheet 05: (task, (text in the solution, replacement), points kept, words naming it)."""

TRAINING_STATISTICS = "mean, var = x.mean(dim=0), x.var(dim=0, unbiased=False)\n        else:"
RUNNING_ALWAYS = "mean, var = self.running_mean, self.running_var\n        else:"
BATCH_ALWAYS = "mean, var = self.running_mean, self.running_var\n"
EVAL_UPDATE = "if not training:\n        return running_mean.clone(), running_var.clone()\n    "

MISTAKES = [
    ("05.bijector", ("x.var(dim=0, unbiased=False)", "x.var(dim=0)"), 3, "N - 1"),
    (
        "05.bijector",
        ("log_scale = self.gamma - 0.5 * torch.log(var + self.eps)", "log_scale = self.gamma - 0.5 * torch.log(var)"),
        2,
        "eps is missing",
    ),
    ("05.bijector", (TRAINING_STATISTICS, RUNNING_ALWAYS), 3, "batch's own mean"),
    (
        "05.bijector",
        (BATCH_ALWAYS, "mean, var = x.mean(dim=0), x.var(dim=0, unbiased=False)\n"),
        4,
        "running averages, not",
    ),
    (
        "05.bijector",
        ("return u, log_scale.sum().expand(x.shape[0])", "return u, -log_scale.sum().expand(x.shape[0])"),
        3,
        "wrong sign",
    ),
    ("05.bijector", ("(-log_scale.sum()).expand(u.shape[0])", "log_scale.sum().expand(u.shape[0])"), 4, "wrong sign"),
    (
        "05.bijector",
        (
            "log_scale = self.gamma - 0.5 * torch.log(var + self.eps)",
            "log_scale = self.gamma - torch.log(var + self.eps)",
        ),
        2,
        "1/2",
    ),
    (
        "05.bijector",
        (
            "x = (u - self.beta) * torch.exp(-log_scale) + self.running_mean",
            "x = (u - self.running_mean) * torch.exp(log_scale) + self.beta",
        ),
        4,
        "again",
    ),
    (
        "05.running",
        (
            "new_mean = (1 - momentum) * running_mean + momentum * mean",
            "new_mean = momentum * running_mean + (1 - momentum) * mean",
        ),
        2,
        "swapped",
    ),
    (
        "05.running",
        (
            "new_var = (1 - momentum) * running_var + momentum * var",
            "new_var = running_var - 0.95 * (running_var - var)",
        ),
        2,
        "differs",
    ),
    ("05.running", ("x.var(dim=0, unbiased=False)", "x.var(dim=0)"), 2, "N - 1"),
    ("05.running", (EVAL_UPDATE, ""), 2, "eval mode"),
    ("05.running", ("new_mean = (1 - momentum) * running_mean + momentum * mean", "new_mean = mean"), 2, "replaced"),
    (
        "05.actnorm",
        ("alpha = 0.5 * torch.log(x.var(dim=0, unbiased=False))", "alpha = x.std(dim=0, unbiased=False)"),
        1,
        "standard deviation itself",
    ),
    (
        "05.actnorm",
        ("alpha = 0.5 * torch.log(x.var(dim=0, unbiased=False))", "alpha = x.var(dim=0, unbiased=False)"),
        1,
        "is the variance",
    ),
    ("05.actnorm", ("alpha = 0.5 * torch.log(", "alpha = -0.5 * torch.log("), 1, "wrong sign"),
    ("05.actnorm", ("alpha = 0.5 * torch.log(", "alpha = torch.log("), 1, "log(var)/2"),
    ("05.actnorm", ("unbiased=False))\n    return mu", "unbiased=True))\n    return mu"), 1, "N - 1"),
    ("05.actnorm", ("mu = x.mean(dim=0)", "mu = -x.mean(dim=0)"), 2, "mu has the wrong sign"),
]
