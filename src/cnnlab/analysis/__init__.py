"""Complexity analysis: per-layer parameters, multiply-accumulates, memory, receptive fields.

Everything runs on shapes only (meta device or fake tensors), never on real activations.

    >>> from cnnlab.analysis import profile, receptive_fields
    >>> profile(model, (3, 224, 224)).macs        # multiply-accumulates of one image
"""

from cnnlab.analysis.profiler import LayerRow, Profile, profile
from cnnlab.analysis.receptive_field import ReceptiveField, input_box, receptive_fields

__all__ = ["LayerRow", "Profile", "ReceptiveField", "input_box", "profile", "receptive_fields"]
