"""The grader on hosts with weaker isolation: it still grades correctly (or refuses clearly), never runs the
learner's code as root, and its report says which protections were not enforced."""

from __future__ import annotations

import shutil

import pytest
from sheets import sheet_notebook, write_notebook

from nfcourse.grading import isolation, sandbox
from nfcourse.grading.grader import grade
from nfcourse.grading.report import text

CHECKS = (
    "import os, socket\nassert 0 not in os.getresuid(), 'runs as root'\n"
    "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=1)\n    NET = True\n"
    "except OSError:\n    NET = False\n"
    "def lognormal_log_prob(x):\n    assert not NET, 'network reached'\n    return x * 0\n"
)


@pytest.mark.parametrize("how", ["unshare", "none"])
def test_weaker_isolation_grades_or_refuses_and_says_what_is_missing(tmp_path, monkeypatch, how: str) -> None:
    starts = isolation.python_starts(how, tmp_path)  # as root, `nobody` may be unable to reach the Python
    if how == "unshare" and not (shutil.which("unshare") and starts):
        pytest.skip("this host does not allow unprivileged user namespaces for the worker's user")
    monkeypatch.setattr(sandbox, "isolation", lambda: how)
    result = grade(write_notebook(sheet_notebook("00", replace={"00.lognormal": (None, CHECKS)}), tmp_path / "a.ipynb"))
    report = text(result)
    assert "Not enforced on this machine" in report
    assert f"Sandbox: {how}" in report  # the isolation in force, named
    active = {protection["name"]: protection["active"] for protection in result.protections}
    assert active["no network"] is (how == "unshare")
    assert not active["own file system: only Python, the course package and the job's folder"]
    assert "runs as root" not in report
    if starts:
        assert result.earned == 10, report
        if how == "unshare":
            assert "network reached" not in report
    else:  # a root grader whose Python `nobody` cannot reach: it refuses rather than run the code as root
        assert result.earned == 0 and "cannot run" in report, report
