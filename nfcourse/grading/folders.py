"""The job folder from outside: its size, and its removal, whatever the learner's code left in it.

Both work without recursion and through file descriptors, one at a time, never following a link, so a
tree of any depth, with names too long for a path, links out of the folder or odd files, costs bounded
work and never an exception.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
MAX_DEPTH = 64  # a deeper tree in the job folder counts as over the disk limit


def folder_size(folder: Path, most: int) -> int:
    """Bytes under `folder`, stopping early once past `most` (entries count 4 KiB each, links are not followed).

    Iterative, and every folder is opened one name at a time from `folder` (no path grows long, one file
    descriptor at a time); a tree deeper than MAX_DEPTH counts as over the limit.
    """
    total, pending = 0, [()]  # the folders still to read, as names from `folder` down
    while pending and total <= most:
        names = pending.pop()
        if len(names) > MAX_DEPTH:
            return most + 1
        try:
            fd = open_below(folder, names)
        except OSError:  # removed or replaced meanwhile
            continue
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    total += 4096 + entry.stat(follow_symlinks=False).st_size
                    if entry.is_dir(follow_symlinks=False):
                        pending.append((*names, entry.name))
        except OSError:
            continue
        finally:
            os.close(fd)
    return total


def open_below(folder: Path, names: tuple[str, ...]) -> int:
    """A file descriptor of the folder `folder/names[0]/names[1]/...`, never through a link."""
    fd = os.open(folder, FOLDER)
    for name in names:
        try:
            child = os.open(name, FOLDER, dir_fd=fd)
        finally:
            os.close(fd)
        fd = child
    return fd


def remove_tree(folder: Path) -> None:
    """Delete `folder` and everything in it, however deep, never following a link; never raises.

    It holds one file descriptor at a time: down into the first subfolder, back up through `..` once a
    folder is empty. It stops at the first entry it cannot remove, so it always ends.
    """
    names: list[str] = []  # the path from `folder` down to where it is
    try:
        fd = os.open(folder, FOLDER)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(folder)  # a file or a link, not a folder
        return
    try:
        while True:
            with os.scandir(fd) as entries:
                entry = next((entry.name for entry in entries), None)
            if entry is None and not names:
                break
            if entry is None:  # empty: up one level, and remove it there
                parent = os.open("..", FOLDER, dir_fd=fd)
                os.close(fd)
                fd = parent
                os.rmdir(names.pop(), dir_fd=fd)
                continue
            try:
                child = os.open(entry, FOLDER, dir_fd=fd)
            except OSError as error:
                if error.errno not in (errno.ENOTDIR, errno.ELOOP):
                    raise
                os.unlink(entry, dir_fd=fd)
                continue
            os.close(fd)
            fd = child
            names.append(entry)
        os.close(fd)
        os.rmdir(folder)
    except OSError:
        with contextlib.suppress(OSError):
            os.close(fd)
