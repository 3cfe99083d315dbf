"""Plain data across the sandbox's wall: tensors as `.npz` arrays (never pickle), everything else as JSON.

The grader writes a task's inputs with `save_tensors`; the sandboxed worker reads them, calls the learner's
answer and writes what came back with `save_outputs`; the grader reads that with `load_outputs`. A value
that is not a real-valued tensor crosses only as the name of its type (`Opaque`), so an object that
pretends to be a tensor, or whose `==` is always true, reaches the judge as what it is. Sizes are
checked before anything is read, so a huge or malformed file cannot exhaust the grader's memory.
"""

from __future__ import annotations

import errno
import io
import json
import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import torch

from nfcourse.checks.task import Failure, Opaque

MAX_BYTES = 64 * 2**20  # the largest outputs file the grader reads (the sandbox cannot write larger ones)
NUMERIC_KINDS = "biuf"  # numpy's kinds for bool, signed and unsigned integers, floats


class ExchangeError(ValueError):
    """A file from the sandbox is missing, too large or malformed."""


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of `path` if it is a regular file (not a link, device or pipe) of at most `limit` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ExchangeError(f"{path.name} is a symbolic link, not a regular file") from error
        raise ExchangeError(f"{path.name} cannot be opened: {error.strerror}") from error
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ExchangeError(f"{path.name} is not a regular file")
        data = file.read(limit + 1)
    if len(data) > limit:
        raise ExchangeError(f"{path.name} is larger than {limit} bytes")
    return data


def save_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    np.savez(path, **{name: value.detach().cpu().numpy() for name, value in tensors.items()})


def load_tensors(path: Path) -> dict[str, torch.Tensor | Opaque]:
    """Arrays of an `.npz` file as tensors (others as `Opaque`); `ExchangeError` if too large or unreadable."""
    data = read_regular(path, MAX_BYTES)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_BYTES:
                raise ExchangeError(f"{path.name} unpacks to more than {MAX_BYTES} bytes")
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            loaded = {name: arrays[name] for name in arrays.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise ExchangeError(f"{path.name} cannot be read: {error}") from error
    if not all(isinstance(array, np.ndarray) for array in loaded.values()):
        raise ExchangeError(f"{path.name} holds something other than arrays")
    return {
        name: torch.from_numpy(array.copy()) if array.dtype.kind in NUMERIC_KINDS else Opaque(f"array of {array.dtype}")
        for name, array in loaded.items()
    }


def plain_array(value: object) -> np.ndarray | None:
    """A real-valued tensor's numbers as a numpy array, or None for anything else (subclasses included)."""
    if type(value) is not torch.Tensor or value.is_complex():  # a subclass may override every method
        return None
    try:
        tensor = value.detach().cpu()
        if tensor.dtype in (torch.bfloat16, torch.float16):
            tensor = tensor.float()
        array = tensor.numpy()
    except (RuntimeError, TypeError):
        return None
    return array if array.dtype.kind in NUMERIC_KINDS else None


def save_outputs(folder: Path, task_id: str, outputs: dict[str, object] | Failure) -> None:
    """Write what the answer returned (worker side): `<task>.npz` for tensors and `<task>.json` for the rest."""
    if isinstance(outputs, Failure):
        description = {"failure": {"kind": outputs.kind, "detail": outputs.detail[:500], "error": outputs.error}}
        (folder / f"{task_id}.json").write_text(json.dumps(description), encoding="utf-8")
        return
    arrays, others = {}, {}
    for name, value in outputs.items():
        array = plain_array(value)
        if array is None:
            others[name] = type(value).__name__ if not isinstance(value, torch.Tensor) else "Tensor subclass"
        else:
            arrays[name] = array
    np.savez(folder / f"{task_id}.npz", **arrays)
    (folder / f"{task_id}.json").write_text(json.dumps({"others": others}), encoding="utf-8")


def load_outputs(folder: Path, task_id: str) -> dict[str, object] | Failure:
    """Read what the worker wrote for `task_id` (grader side); `ExchangeError` if it is missing or malformed."""
    path = folder / f"{task_id}.json"
    try:
        description = json.loads(read_regular(path, 100_000).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ExchangeError(f"{path.name} is not JSON: {error}") from error
    if not isinstance(description, dict):
        raise ExchangeError(f"{path.name} is not a JSON object")
    if isinstance(failure := description.get("failure"), dict):
        kind = failure.get("kind")
        if kind not in ("not_implemented", "wrong_format", "error"):
            raise ExchangeError(f"{path.name} names an unknown failure")
        return Failure(kind, str(failure.get("detail", ""))[:500], str(failure.get("error", ""))[:100])
    others = description.get("others", {})
    if not isinstance(others, dict):
        raise ExchangeError(f"{path.name} is malformed")
    outputs: dict[str, object] = {str(name): Opaque(str(kind)[:100]) for name, kind in others.items()}
    return outputs | load_tensors(folder / f"{task_id}.npz")
