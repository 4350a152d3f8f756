"""Building blocks shared by several families."""

from __future__ import annotations

from torch import nn


def local_response_norm(size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0,
                        convention: str = "paper") -> nn.LocalResponseNorm:
    """Local response normalization across channels (Krizhevsky et al. 2012, section 3.3).

    The AlexNet paper writes b = a / (k + alpha * sum(a^2))^beta over ``size`` neighbouring
    channels. torch (like Caffe) divides alpha by ``size``. ``convention="paper"`` takes alpha as
    the paper writes it and converts; ``"caffe"`` passes it through (Caffe prototxt values,
    e.g. GoogLeNet's).
    """
    if convention not in ("paper", "caffe"):
        raise ValueError(f"unknown LRN convention {convention!r}")
    torch_alpha = alpha * size if convention == "paper" else alpha
    return nn.LocalResponseNorm(size=size, alpha=torch_alpha, beta=beta, k=k)
