"""Complexity analysis: per-layer parameters, multiply-accumulates, memory, receptive fields.

Everything runs on shapes only (meta device or fake tensors), never on real activations.
"""

from cnnlab.analysis.receptive_field import ReceptiveField, input_box, receptive_fields

__all__ = ["ReceptiveField", "input_box", "receptive_fields"]
