"""The grader on hosts with weaker isolation: with only `unshare`, or with none, it still grades correctly
and its report says which protections were not enforced."""

from __future__ import annotations

import shutil

import pytest
from sheets import sheet_notebook, write_notebook

from nfcourse.grading import sandbox
from nfcourse.grading.grader import grade
from nfcourse.grading.report import text


@pytest.mark.parametrize("how", ["unshare", "none"])
def test_weaker_isolation_grades_and_says_what_is_missing(tmp_path, monkeypatch, how: str) -> None:
    if how == "unshare" and not (shutil.which("unshare") and sandbox._works([*sandbox.UNSHARE, "true"])):
        pytest.skip("this host does not allow unprivileged user namespaces")
    monkeypatch.setattr(sandbox, "isolation", lambda: how)
    code = (
        "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=1)\n    NET = True\n"
        "except OSError:\n    NET = False\n"
    )
    code += "def lognormal_log_prob(x):\n    assert not NET, 'network reached'\n    return x * 0\n"
    result = grade(write_notebook(sheet_notebook("00", replace={"00.lognormal": (None, code)}), tmp_path / "a.ipynb"))
    report = text(result)
    assert result.earned == 10, report
    assert "Not enforced on this machine" in report
    active = {protection["name"]: protection["active"] for protection in result.protections}
    assert active["no network"] is (how == "unshare")
    assert not active["read-only file system, other submissions and results hidden"]
    if how == "unshare":
        assert "network reached" not in report
