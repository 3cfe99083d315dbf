"""Plain data across the sandbox's wall: tensors as `.npz` arrays (never pickle), everything else as JSON.

The grader writes a task's inputs with `save_tensors`; the sandboxed worker reads them, calls the learner's
answer and sends what came back as one JSON line on its events pipe (`outputs_record`: a description
and the arrays as base64 `.npz`); the grader reads that with `load_outputs`. A value
that is not a real-valued tensor crosses only as the name of its type (`Opaque`), so an object that
pretends to be a tensor, or whose `==` is always true, reaches the judge as what it is. Sizes are
checked before anything is read, so a huge or malformed file cannot exhaust the grader's memory.
"""

from __future__ import annotations

import base64
import errno
import io
import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import torch

from nfcourse.checks.task import Failure, Opaque
from nfcourse.grading.untrusted import plain_text

MAX_BYTES = 16 * 2**20  # the most a task's returned arrays may take, packed and unpacked
RECORD_BYTES = 2 * MAX_BYTES  # the longest line the grader reads from the events pipe (base64 adds a third)
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
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ExchangeError(f"{path.name} is not a regular file")
    with os.fdopen(fd, "rb") as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        raise ExchangeError(f"{path.name} is larger than {limit} bytes")
    return data


def save_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    np.savez(path, **{name: value.detach().cpu().numpy() for name, value in tensors.items()})


def load_tensors(path: Path) -> dict[str, torch.Tensor | Opaque]:
    """Arrays of an `.npz` file as tensors (others as `Opaque`); `ExchangeError` if too large or unreadable."""
    return unpack_arrays(read_regular(path, MAX_BYTES))


def unpack_arrays(data: bytes) -> dict[str, torch.Tensor | Opaque]:
    """The arrays of `.npz` bytes as tensors (others as `Opaque`); `ExchangeError` if too large or unreadable."""
    if len(data) > MAX_BYTES:
        raise ExchangeError(f"the arrays take more than {MAX_BYTES} bytes")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_BYTES:
                raise ExchangeError(f"the arrays unpack to more than {MAX_BYTES} bytes")
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            loaded = {name: arrays[name] for name in arrays.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise ExchangeError(f"the arrays cannot be read: {error}") from error
    if not all(isinstance(array, np.ndarray) for array in loaded.values()):
        raise ExchangeError("the arrays file holds something other than arrays")
    return {
        name: torch.from_numpy(array.copy()) if array.dtype.kind in NUMERIC_KINDS else Opaque(f"array of {array.dtype}")
        for name, array in loaded.items()
    }


def plain_array(value: object) -> np.ndarray | None:
    """A real-valued tensor's numbers as a numpy array (an `nn.Parameter` is one too), or None for anything else.

    A tensor subclass counts as anything else: it may override every method.
    """
    if type(value) not in (torch.Tensor, torch.nn.Parameter) or value.is_complex():
        return None
    try:
        tensor = value.detach().cpu()
        if tensor.dtype in (torch.bfloat16, torch.float16):
            tensor = tensor.float()
        array = tensor.numpy()
    except (RuntimeError, TypeError):
        return None
    return array if array.dtype.kind in NUMERIC_KINDS else None


def outputs_record(task_id: str, outputs: dict[str, object] | Failure) -> dict[str, object]:
    """What the answer returned, as one JSON-ready event (worker side): tensors packed as base64 `.npz`."""
    if isinstance(outputs, Failure):
        failure = {"kind": outputs.kind, "detail": outputs.detail[:500], "error": outputs.error}
        return {"outputs": task_id, "description": {"failure": failure}}
    arrays, others = {}, {}
    for name, value in outputs.items():
        array = plain_array(value)
        if array is None:
            others[name] = type(value).__name__ if not isinstance(value, torch.Tensor) else "Tensor subclass"
        else:
            arrays[name] = array
    packed = io.BytesIO()
    np.savez(packed, **arrays)
    return {
        "outputs": task_id,
        "description": {"others": others},
        "arrays": base64.b64encode(packed.getvalue()).decode("ascii"),
    }


def load_outputs(record: object) -> dict[str, object] | Failure:
    """What the worker sent for a task (grader side); `ExchangeError` if it is malformed or too large."""
    description = record.get("description") if isinstance(record, dict) else None
    if not isinstance(description, dict):
        raise ExchangeError("the returned values are not described")
    if isinstance(failure := description.get("failure"), dict):
        kind = failure.get("kind")
        if kind not in ("not_implemented", "wrong_format", "error"):
            raise ExchangeError("the returned values name an unknown failure")
        return Failure(kind, plain_text(failure.get("detail", ""), 500), plain_text(failure.get("error", ""), 100))
    others = description.get("others", {})
    arrays = record.get("arrays")
    if not isinstance(others, dict) or not isinstance(arrays, str) or len(arrays) > RECORD_BYTES:
        raise ExchangeError("the returned values are malformed")
    try:
        packed = base64.b64decode(arrays, validate=True)
    except ValueError as error:
        raise ExchangeError(f"the returned arrays are not base64: {error}") from error
    outputs: dict[str, object] = {plain_text(name, 100): Opaque(plain_text(kind, 100)) for name, kind in others.items()}
    return outputs | unpack_arrays(packed)
