"""Pretrained weights by torchvision's names: ``--weights torchvision`` or ``IMAGENET1K_V2``.

A registry model whose ``ModelInfo.torchvision`` names a torchvision model can load that model's
published weights. torchvision's weights API (the model's ``Weights`` enum) gives each file's
URL and metadata; torch.hub's downloader writes the file into torch's hub cache,
``torch.hub.get_dir()/checkpoints``, checking the SHA-256 prefix the file name carries; the file
is then read like any weights file (``checkpoint.load_state_file``: torch.load with
weights_only=True). torchvision's own ``get_state_dict`` is not used because it unpickles
without weights_only by default, prints to stdout and trusts a cached file without its hash.
"""

from __future__ import annotations

import hashlib
import http.client
import math
import re
import urllib.error
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlparse

import torch.hub
from torchvision.models import get_model_weights

from cnnlab.console import progress_enabled
from cnnlab.errors import CnnlabError, note
from cnnlab.models.registry import list_models, model_info

KEYWORDS = ("torchvision", "DEFAULT")  # both mean torchvision's default weights for the model
_WEIGHT_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


@dataclass(frozen=True)
class PretrainedWeights:
    """One published weights file of torchvision for a cnnlab model (accuracies in percent on
    ImageNet-1K val at torchvision's eval transform: resize ``resize`` then crop ``crop``)."""

    model: str
    name: str
    default: bool
    url: str
    acc1: float | None
    acc5: float | None
    parameters: int | None
    gflops: float | None
    file_mb: float | None
    resize: int | None
    crop: int | None
    recipe: str
    notes: str

    @property
    def cache_path(self) -> Path:
        """Where torch's hub cache keeps the file (the path to place it at when offline)."""
        return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(self.url).path).name

    def to_dict(self) -> dict:
        return {**asdict(self), "cache_path": str(self.cache_path),
                "cached": self.cache_path.is_file()}


def is_weight_name(spec: object) -> bool:
    """True for ``torchvision``, ``DEFAULT`` or an upper-case name such as ``IMAGENET1K_V2``;
    anything else is a file path (``./IMAGENET1K_V1`` names a file called so)."""
    return isinstance(spec, str) and (spec in KEYWORDS or bool(_WEIGHT_NAME.fullmatch(spec)))


def _number(value: object) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) \
        else float(value)  # type: ignore[arg-type]


def available_weights(model: str) -> list[PretrainedWeights]:
    """torchvision's published weights for registry model ``model`` (empty when it has none)."""
    info = model_info(model)
    if info.torchvision is None:
        return []
    enum = get_model_weights(info.torchvision)
    found = []
    for entry in enum:
        meta = entry.meta
        metrics = meta.get("_metrics", {}).get("ImageNet-1K", {})
        evaluation = entry.transforms()  # torchvision's ImageClassification preset
        found.append(PretrainedWeights(
            model=model, name=entry.name, default=entry is enum.DEFAULT, url=entry.url,
            acc1=_number(metrics.get("acc@1")), acc5=_number(metrics.get("acc@5")),
            parameters=meta.get("num_params"), gflops=_number(meta.get("_ops")),
            file_mb=_number(meta.get("_file_size")), resize=evaluation.resize_size[0],
            crop=evaluation.crop_size[0], recipe=meta.get("recipe", ""),
            notes=" ".join(meta.get("_docs", "").split())))
    return found


def find_weights(model: str, spec: str) -> PretrainedWeights:
    """The weights ``spec`` (a KEYWORD or an enum name) names for ``model``; CnnlabError when
    the model has no torchvision weights or none of that name."""
    found = available_weights(model)
    if not found:
        with_weights = [n for n in list_models() if model_info(n).torchvision]
        raise CnnlabError(f"{model} has no torchvision weights (models that have them: "
                          f"{', '.join(with_weights)}); give a weights file instead")
    for weights in found:
        if weights.name == spec or (spec in KEYWORDS and weights.default):
            return weights
    raise CnnlabError(f"{model} has no torchvision weights {spec!r}; it has "
                      f"{', '.join(w.name for w in found)} (or `torchvision` for the default)")


def fetch(weights: PretrainedWeights) -> Path:
    """The weights file in torch's hub cache, downloaded first when absent; its SHA-256 must
    start with the hash in its name, or nothing is kept. CnnlabError names the URL and the
    exact path to place the file at when the download fails (offline)."""
    path = weights.cache_path
    match = torch.hub.HASH_REGEX.search(path.name)
    if match is None:
        raise CnnlabError(f"{weights.url}: the file name carries no hash to check; refused")
    prefix = match.group(1)
    if path.is_file():
        _check_cached(path, prefix)
        return path
    offline = f"to use it offline, place that file at {path}"
    note(f"downloading {weights.url} -> {path}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(weights.url, str(path), prefix,
                                       progress=progress_enabled())
    except urllib.error.HTTPError as err:
        raise CnnlabError(f"cannot download {weights.url}: HTTP {err.code} {err.reason}; "
                          f"{offline}") from None
    except urllib.error.URLError as err:
        raise CnnlabError(f"cannot download {weights.url} ({err.reason}); {offline}") from None
    except (http.client.HTTPException, ConnectionError, TimeoutError) as err:
        raise CnnlabError(f"download of {weights.url} broke off ({type(err).__name__}); "
                          f"nothing was kept; {offline}") from None
    except RuntimeError as err:  # torch.hub: 'invalid hash value (expected "..", got "..")'
        got = re.search(r'got "([0-9a-f]{8})', str(err))
        found = f"starts with {got.group(1)}" if got else "differs"
        raise CnnlabError(f"{weights.url}: the downloaded file's SHA-256 {found}, not {prefix} "
                          f"as its name says (truncated or altered); nothing was kept; "
                          f"{offline}") from None
    except OSError as err:
        raise CnnlabError(f"cannot write {path}: {err.strerror or err}") from None
    return path


def _check_cached(path: Path, prefix: str) -> None:
    # A file placed by hand (offline) is checked as a download would be.
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    if not digest.hexdigest().startswith(prefix):
        raise CnnlabError(f"{path}: its SHA-256 {digest.hexdigest()[:16]}... does not start "
                          f"with {prefix} as its name says; delete it to download it again")
