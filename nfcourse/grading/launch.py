"""The first step of every sandboxed run, still trusted: join the run's cgroups, give up root, run the sandbox.

    python -I -S launch.py [--cgroup PROCS_FILE]... [--user UID:GID] -- /ABSOLUTE/COMMAND ARGUMENTS...

Run as a file with only the standard library (no site, no nfcourse import), so it starts in milliseconds.
It writes its own PID into each cgroup's `cgroup.procs` while it still may, then, with `--user`, drops
every supplementary group, the gid and the uid (real, effective and saved: there is no way back, and the
kernel clears all capabilities), and replaces itself with COMMAND.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> None:
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1 :]
    user = None
    for flag, value in zip(options[::2], options[1::2], strict=True):
        if flag == "--cgroup":
            with open(value, "w") as procs:
                procs.write(str(os.getpid()))
        elif flag == "--user":
            user = tuple(int(number) for number in value.split(":"))
    if user is not None:
        uid, gid = user
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        if os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid):
            sys.exit(f"launch.py: could not become {uid}:{gid}")
        if not os.access(command[0], os.X_OK):
            sys.exit(
                f"the unprivileged user {uid} cannot run {command[0]}: install bubblewrap, or the environment readably"
            )
    os.execv(command[0], command)  # an absolute path: after dropping root, the search path may be unreadable


if __name__ == "__main__":
    main(sys.argv[1:])
