r"""How much memory autograd keeps for the backward pass: the bytes of the tensors it saves.

Every operation recorded for backpropagation saves some tensors (its inputs, its outputs) until the
backward pass has used them. `torch.autograd.graph.saved_tensors_hooks` calls a function on each tensor as
it is saved; summing the sizes of the distinct storages gives the memory one call keeps alive, the quantity
that grows with the number of terms when backpropagating through a Russian roulette log-det, and stays
flat with the Neumann gradient.

Reference: PyTorch, Hooks for saved tensors (docs: autograd, saved_tensors_hooks)
Lessons:   07
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def saved_bytes(fn: Callable[[], object]) -> int:
    """Run `fn()` and return the bytes of the distinct storages autograd saved for backward meanwhile.

    A tensor saved twice, or two views of one storage, count once. Parameters that an operation saves
    (a weight in a matrix product) count too: they are part of what the graph keeps.
    """
    storages: dict[int, torch.UntypedStorage] = {}  # kept referenced, so no address is reused meanwhile

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        fn()
    return sum(storage.nbytes() for storage in storages.values())
