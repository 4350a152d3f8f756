"""Complexity: per-layer parameters, multiply-accumulates, memory, receptive fields.

Profiles and theoretical receptive fields run on shapes only (meta device or fake tensors),
never on real activations; the effective receptive field (``receptive_field_map``) runs the model
on one image.

    >>> from cnnlab.complexity import profile, receptive_fields
    >>> profile(model, (3, 224, 224)).macs        # multiply-accumulates of one image
"""

from cnnlab.complexity.profiler import Profile, profile
from cnnlab.complexity.receptive_field import ReceptiveField, input_box, receptive_fields
from cnnlab.complexity.rows import LayerRow

__all__ = ["LayerRow", "Profile", "ReceptiveField", "input_box", "profile", "receptive_fields"]
