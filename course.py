#!/usr/bin/env python3
"""The course's front door: set everything up, then open the course or run the tests.

    python3 course.py lab            set up, then open the course map in JupyterLab
    python3 course.py test           set up, then run every test (notebooks in fast mode)
    python3 course.py test --full    the same with the notebooks' full training budgets and targets
    python3 course.py site           set up, then build the course website into build/site/
    python3 course.py site --full    the same from full-mode outputs (for publishing)
    python3 course.py site --check   build it, then test it in headless Chromium (tests/site/)
    python3 course.py site --full --repository https://github.com/OWNER/NAME   with "Open in Colab" links

Set-up reuses the Python environment you are in when it is a virtual or conda environment;
otherwise it creates (or reuses) `.venv/` beside this file and restarts itself there. It installs
the course with `pip install -e ".[dev]"` (`".[dev,site]"` for the website), which installs PyTorch
only when it is missing, and remembers (by a hash of pyproject.toml and the extras) that it did so,
so a second run starts at once.
Extra arguments go to JupyterLab or pytest, e.g. `python3 course.py lab --no-browser --port 8899`.
Only the standard library is used here, so this file runs with any Python 3.10+.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
COURSE_MAP = "index.ipynb"
USAGE = __doc__.split("\n\n")[1]


def in_environment() -> bool:
    """True inside a virtual environment or an activated conda environment."""
    in_venv = sys.prefix != sys.base_prefix
    in_conda = os.environ.get("CONDA_PREFIX") == sys.prefix
    return in_venv or in_conda


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def enter_environment() -> None:
    """Re-run this script inside `.venv/` (created first if needed), unless already in an environment."""
    if in_environment():
        return
    if not venv_python().exists():
        print(f"Creating a virtual environment in {VENV} ...", flush=True)
        try:
            venv.EnvBuilder(with_pip=True).create(VENV)
        except (OSError, subprocess.CalledProcessError) as error:
            sys.exit(
                f"Could not create {VENV}: {error}\n"
                "On Debian/Ubuntu install the venv module first (sudo apt install python3-venv), "
                "or activate any Python 3.10+ environment and run this command again."
            )
    os.execv(venv_python(), [str(venv_python()), str(Path(__file__).resolve()), *sys.argv[1:]])


def install(extras: tuple[str, ...] = ("dev",)) -> None:
    """`pip install -e .[<extras>]` once per version of pyproject.toml and set of extras (torch only if missing).

    The stamp lists the extras installed; a run that needs no more than those starts at once.
    """
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = Path(sys.prefix) / f".nfcourse-installed-{ROOT.name}"
    lines = stamp.read_text().splitlines() if stamp.exists() else []
    current = lines[:2] == [str(ROOT), digest]
    installed = set((lines[2:] or ["dev"])[0].split(",")) if current else set()  # an older stamp meant [dev]
    if set(extras) <= installed:
        return
    extras = tuple(sorted(installed | set(extras)))
    print("Installing the course and its dependencies (once; a few minutes the first time) ...", flush=True)
    pip = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check"]
    subprocess.run([*pip, "-q", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[{','.join(extras)}]"], check=True)
    stamp.write_text(f"{ROOT}\n{digest}\n{','.join(extras)}")


def lab(args: list[str]) -> int:
    """Open JupyterLab at the course map; it runs until you stop it (Ctrl-C).

    JupyterLab replaces this process, so stopping this process (a signal, a closed terminal) stops JupyterLab.
    """
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={ROOT}", *args, str(ROOT / COURSE_MAP)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI machines often run as root
        command.insert(3, "--allow-root")
    os.chdir(ROOT)
    os.execv(sys.executable, command)
    return 1  # not reached: execv does not return


def test(args: list[str]) -> int:
    """Run the library tests and every notebook with nbval, in fast mode (or full mode with `--full`), in parallel.

    In full mode every training run gets the budget a learner runs, and every target a lesson states
    (`expect_at_most`) is checked: `python3 course.py test --full notebooks/en` runs the English lectures
    that way. The parallel workers (one per CPU core) and the notebook kernels they start get one PyTorch
    thread each, unless OMP_NUM_THREADS is already set: with PyTorch's default (one thread per core in every
    process) the threads outnumber the cores and wait on each other, which made the run several times slower.
    """
    full = "--full" in args
    args = [arg for arg in args if arg != "--full"]
    env = {key: value for key, value in os.environ.items() if key != "NFCOURSE_FAST"}
    if not full:
        env["NFCOURSE_FAST"] = "1"
    env.setdefault("OMP_NUM_THREADS", "1")
    command = [sys.executable, "-m", "pytest", "-n", "auto", "--dist", "loadscope", *args]
    return subprocess.call(command, cwd=ROOT, env=env)


def site(args: list[str]) -> int:
    """Build the course website into build/site/ (`python -m tools.site`), and with `--check` test it in a browser.

    The notebooks' outputs come from the last test run where they still match the notebooks (`python3
    course.py test` leaves them in build/executed/); the others run now, one kernel per core. `--full`
    takes full-mode outputs, for publishing. `--check` then serves the site on this machine and runs
    tests/site/ in headless Chromium (Debian: `apt-get install chromium chromium-driver`).
    """
    check = "--check" in args
    args = [arg for arg in args if arg != "--check"]
    env = {**os.environ}
    env.setdefault("OMP_NUM_THREADS", "1")
    code = subprocess.call([sys.executable, "-m", "tools.site", *args], cwd=ROOT, env=env)
    if code or not check:
        return code
    env["NFCOURSE_SITE"] = str(ROOT / "build" / "site")
    return subprocess.call([sys.executable, "-m", "pytest", "tests/site"], cwd=ROOT, env=env)


COMMANDS = {"lab": lab, "test": test, "site": site}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(USAGE)
        return 2
    if sys.version_info < (3, 10):  # noqa: UP036 (this file may be started by an older Python)
        sys.exit(f"The course needs Python 3.10 or newer; this is {sys.version.split()[0]}.")
    enter_environment()
    command, args = sys.argv[1], sys.argv[2:]
    install(("dev", "site") if command == "site" else ("dev",))
    return COMMANDS[command](args)


if __name__ == "__main__":
    sys.exit(main())
