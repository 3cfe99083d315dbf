"""Seeded typical mistakes of sheet 03: (task, (text in the solution, replacement), points kept, words naming it)."""

SAMPLE_IAF = "mu, alpha = conditioner(u)\n    x = u * torch.exp(alpha) + mu"
SAMPLE_MAF = (
    "x = torch.zeros_like(u)\n    for _step in range(u.shape[1]):\n"
    "        mu, alpha = conditioner(x)\n        x = u * torch.exp(alpha) + mu"
)
REVERSE_KL = "x, log_q = student.sample_and_log_prob(n, generator)\n    return (log_q - teacher.log_prob(x)).mean()"
FORWARD_KL = "x, log_p = teacher.sample_and_log_prob(n, generator)\n    return (log_p - student.log_prob(x)).mean()"
NO_GRAD = (
    "with torch.no_grad():\n        x, log_q = student.sample_and_log_prob(n, generator)\n"
    "    return (log_q - teacher.log_prob(x)).mean()"
)
NO_GRAD_TEACHER = (
    "x, log_q = student.sample_and_log_prob(n, generator)\n    with torch.no_grad():\n"
    "        log_p = teacher.log_prob(x)\n    return (log_q - log_p).mean()"
)

MISTAKES = [
    ("03.invert", ("x, logdet = self.bijector.inverse(u)", "x, logdet = self.bijector.forward(u)"), 2, "not swapped"),
    ("03.invert", ("u, logdet = self.bijector.forward(x)", "u, logdet = self.bijector.inverse(x)"), 2, "not swapped"),
    ("03.invert", ("return x, logdet", "return x, -logdet"), 3, "negated"),
    ("03.invert", ("return u, logdet", "return u, -logdet"), 3, "negated"),
    ("03.invert", ("return u, logdet", "return u, self.bijector.inverse(x)[1]"), 3, "other direction"),
    ("03.iaf_sample", (SAMPLE_IAF, SAMPLE_MAF), 0, "conditioner read x"),
    ("03.iaf_sample", ("log_base - alpha.sum(dim=1)", "log_base + alpha.sum(dim=1)"), 2, "wrong sign"),
    ("03.iaf_sample", ("return x, log_base - alpha.sum(dim=1)", "return x, -alpha.sum(dim=1)"), 2, "base density"),
    ("03.iaf_sample", ("-0.5 * (u**2)", "-0.5 * (x**2)"), 2, "evaluated at x"),
    ("03.iaf_sample", (" - 0.5 * u.shape[1] * math.log(2 * math.pi)", ""), 2, "constant of log N(u; 0, I)"),
    ("03.iaf_sample", ("0.5 * u.shape[1] * math.log", "0.5 * math.log"), 2, "once per coordinate"),
    ("03.iaf_sample", ("x = u * torch.exp(alpha) + mu", "x = (u - mu) * torch.exp(-alpha)"), 2, "density direction"),
    ("03.distillation", ("(log_q - teacher.log_prob(x))", "(teacher.log_prob(x) - log_q)"), 0, "sign is flipped"),
    ("03.distillation", (REVERSE_KL, FORWARD_KL), 0, "forward KL"),
    ("03.distillation", ("teacher.log_prob(x)", "teacher.log_prob(x.detach())"), 2, "teacher's term"),
    ("03.distillation", (".mean()", ".sum()"), 0, "summed"),
    ("03.distillation", (REVERSE_KL, NO_GRAD), 2, "No gradient reached"),
    ("03.distillation", (REVERSE_KL, NO_GRAD_TEACHER), 2, "torch.no_grad()"),
]
