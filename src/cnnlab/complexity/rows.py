"""One row of a profile: a leaf layer call's counts, or a block's sums of them."""

from __future__ import annotations

from dataclasses import dataclass

from cnnlab.complexity.receptive_field import ReceptiveField


@dataclass
class LayerRow:
    """One leaf layer call (or a functional op inside a container).

    shape is one image's output (C x H x W, or features); activations and bytes are for the
    whole batch; macs are multiply-accumulates for the whole batch.
    """

    name: str
    kind: str
    category: str  # "conv", "fc" or "other"
    shape: tuple[int, ...]
    activations: int
    activation_bytes: int
    weights: int
    biases: int
    macs: int
    other_ops: int
    field: ReceptiveField | None
    cum_params: int = 0
    cum_macs: int = 0

    @property
    def params(self) -> int:
        """Parameters of the layer: weights + biases (elements, not bytes)."""
        return self.weights + self.biases

