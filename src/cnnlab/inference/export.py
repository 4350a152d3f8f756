"""ONNX export: torch.onnx (the dynamo exporter), an agreement check, and a cache of exports.

The exported graph takes ``images`` N x C x H x W (float32, normalized like the checkpoint) with
a dynamic batch dimension and returns ``logits`` N x num_classes. ``export_onnx`` refuses to
write a file whose outputs differ from torch's by more than ``tolerance`` on a test batch.

Cached exports live in ``~/.cache/cnnlab/onnx/`` (``$XDG_CACHE_HOME`` respected), named by a
hash of the weights, the model's registry name and arguments, the input size and the torch
version, so a retrained run or a new torch never reuses a stale file.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from cnnlab.errors import CnnlabError
from cnnlab.fileio import atomic_path, cache_dir
from cnnlab.inference.onnx_runtime import ort_session

TOLERANCE = 1e-4  # max |onnx - torch| over the logits of the check batch


def _quiet_export(model: nn.Module, example: torch.Tensor, path: Path) -> None:
    batch = torch.export.Dim("batch", min=1, max=4096)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter warns about its own internals
        program = torch.onnx.export(
            model, (example,), dynamo=True, input_names=["images"], output_names=["logits"],
            dynamic_shapes=({0: batch},), verbose=False, report=False)
    program.save(str(path))


def onnx_max_error(model: nn.Module, onnx_path: str | Path, x: torch.Tensor) -> float:
    """Largest |onnxruntime logits - torch logits| for the batch x (N x C x H x W)."""
    session = ort_session(onnx_path)
    with torch.inference_mode():
        expected = model.eval()(x).float().numpy()
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    return float(np.abs(got - expected).max())


def export_onnx(model: nn.Module, input_size: tuple[int, int, int] | list[int],
                path: str | Path, tolerance: float = TOLERANCE) -> Path:
    """Export ``model`` (CPU, eval mode) to ``path`` atomically and check it with ONNX Runtime.

    Args:
        model: a classifier taking N x C x H x W float32 images.
        input_size: C x H x W of one image.
        path: the .onnx file to write.
        tolerance: the largest accepted |onnx - torch| difference of the logits.

    Raises:
        CnnlabError: the exporter failed, or ONNX Runtime disagrees with torch.
    """
    path = Path(path)
    model = model.eval().to("cpu", memory_format=torch.contiguous_format)
    generator = torch.Generator().manual_seed(0)
    example = torch.randn(2, *input_size, generator=generator)
    with atomic_path(path) as tmp:
        try:
            _quiet_export(model, example, tmp)
        except Exception as err:  # noqa: BLE001 - the exporter raises many types
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise CnnlabError(f"ONNX export of {_name(model)} failed: {reason}") from None
        check = torch.randn(3, *input_size, generator=generator)  # another batch size
        error = onnx_max_error(model, tmp, check)
        if not error <= tolerance:
            raise CnnlabError(f"ONNX export of {_name(model)} disagrees with torch: max "
                              f"|difference| {error:.2e} > {tolerance:.0e}")
    return path


def weights_key(model: nn.Module, input_size: tuple[int, int, int] | list[int]) -> str:
    """A hex digest of everything the exported graph depends on."""
    digest = hashlib.sha256()
    header = {"model": _name(model), "args": {"num_classes": getattr(model, "num_classes", None),
                                              "in_channels": getattr(model, "in_channels", None)},
              "input": list(input_size), "torch": torch.__version__}
    digest.update(json.dumps(header, sort_keys=True).encode())
    for key, tensor in model.state_dict().items():
        digest.update(key.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:20]


def cached_onnx(model: nn.Module, input_size: tuple[int, int, int] | list[int]) -> Path:
    """The cached export of ``model`` (exported and checked on first use)."""
    path = cache_dir() / "onnx" / f"{_name(model)}-{weights_key(model, input_size)}.onnx"
    if not path.is_file():
        export_onnx(model, input_size, path)
    return path


def copy_atomically(source: str | Path, target: str | Path) -> Path:
    """Copy a file onto ``target`` through a temp file and a rename."""
    import shutil

    target = Path(target)
    if target.is_dir():
        raise CnnlabError(f"{target}: is a folder; give the .onnx file name to write")
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
    return target


def _name(model: nn.Module) -> str:
    return getattr(model, "registry_name", type(model).__name__)
