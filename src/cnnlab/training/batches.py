"""Where a training step's batch comes from.

Standard batches (``cnnlab.data.loaders.TrainBatches``) are uint8, augmented per step, and
normalized by the trainer. With ``in_memory`` (airbench's design) the whole training split sits
on the device as normalized float32; each epoch draws one mirrored and translated copy of it
with a few batched tensor operations, and a batch is one index operation into that copy. No
per-sample Python either way for in-memory datasets; the in-memory one also skips the per-step
uint8 -> float conversion and host -> device copy.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F

from cnnlab.data.augment import check_names
from cnnlab.data.folder import Batch, FileDataset
from cnnlab.data.loaders import Sharding, TrainBatches
from cnnlab.data.memory import InMemoryDataset
from cnnlab.errors import CnnlabError
from cnnlab.training.config import TrainConfig
from cnnlab.training.distributed import DistContext


def augment(x: torch.Tensor, generator: torch.Generator, flip: bool | torch.Tensor,
            translate: int, fill: torch.Tensor) -> torch.Tensor:
    """Random mirror and translation of every image of N x C x H x W (new tensor, same shape).

    ``flip``: True mirrors each image with probability 1/2 (drawn from ``generator``); a bool
    tensor of N mirrors exactly those images.
    Each image moves by (dy, dx) in [-translate, translate]^2; uncovered pixels get ``fill``
    (1 x C x 1 x 1: the normalized value of black). Images with the same shift are moved
    together, so the cost is (2 * translate + 1)^2 slicing operations, whatever N is.
    """
    n = x.shape[0]
    if isinstance(flip, torch.Tensor):
        x = torch.where(flip.to(x.device).view(-1, 1, 1, 1), x.flip(-1), x)
    elif flip:
        mirror = (torch.rand(n, generator=generator) < 0.5).to(x.device)
        x = torch.where(mirror.view(-1, 1, 1, 1), x.flip(-1), x)
    if translate <= 0:
        return x
    pad = translate
    padded = F.pad(x - fill, (pad, pad, pad, pad)) + fill
    shifts = torch.randint(0, 2 * pad + 1, (2, n), generator=generator).to(x.device)
    out = torch.empty_like(x)
    height, width = x.shape[-2:]
    for dy in range(2 * pad + 1):
        for dx in range(2 * pad + 1):
            idx = ((shifts[0] == dy) & (shifts[1] == dx)).nonzero().flatten()
            if idx.numel():
                out[idx] = padded[idx, :, dy:dy + height, dx:dx + width]
    return out


class DeviceBatches:
    """Normalized float32 batches of an in-memory training set kept on ``device``.

    One generator seeded with ``seed`` draws, per epoch, the flips, then the shifts, then the
    order; ``state_dict`` holds its state at the start of the epoch in progress, so a resumed
    run redraws that epoch exactly. The last partial batch is dropped.

    ``alternate_flip`` (airbench's alternating flip): one random mirror mask, drawn once from
    ``seed``, is used in even epochs and its complement in odd ones, so every pair of epochs
    shows each image both ways instead of the same way half the time.
    """

    def __init__(self, data: InMemoryDataset, batch_size: int, *, seed: int, flip: bool,
                 translate: int, device: torch.device, channels_last: bool,
                 alternate_flip: bool = False) -> None:
        self.flip, self.translate, self.channels_last = flip, translate, channels_last
        self.mirror = None
        if flip and alternate_flip:  # its own generator: the main one's stream stays the same
            mask_rng = torch.Generator().manual_seed(seed + 1)
            self.mirror = torch.rand(len(data), generator=mask_rng) < 0.5
        self.images = data.normalize(data.images.to(device))
        self.labels = data.labels.to(device)
        mean, std = (torch.tensor(v, device=device).view(1, -1, 1, 1)
                     for v in (data.mean, data.std))
        self.fill = -mean / std  # black, normalized
        self.global_n = min(batch_size, len(data))
        self.steps_per_epoch = len(data) // self.global_n
        self.generator = torch.Generator().manual_seed(seed)
        self._epoch_start: torch.Tensor | None = None

    def epoch(self, epoch: int, start_step: int = 0) -> Iterator[tuple[int, Batch]]:
        """(step, batch) for steps ``start_step`` .. ``steps_per_epoch - 1`` of this epoch."""
        self._epoch_start = self.generator.get_state()
        flip = self.flip if self.mirror is None else self.mirror ^ bool(epoch % 2)
        x = augment(self.images, self.generator, flip, self.translate, self.fill)
        order = torch.randperm(x.shape[0], generator=self.generator).to(x.device)
        for step in range(start_step, self.steps_per_epoch):
            idx = order[step * self.global_n:(step + 1) * self.global_n]
            batch = x[idx]
            if self.channels_last:
                batch = batch.contiguous(memory_format=torch.channels_last)
            yield step, Batch(batch, self.labels[idx])
        self._epoch_start = None

    def state_dict(self) -> dict[str, torch.Tensor]:
        state = self._epoch_start if self._epoch_start is not None else self.generator.get_state()
        return {"generator": state}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.generator.set_state(state["generator"])


def augment_names(cfg: TrainConfig) -> list[str]:
    """The standard batches' augmentation pieces: ``augment`` plus "flip" for ``hflip``."""
    names = list(cfg.augment)
    if cfg.hflip and "flip" not in names:
        names.append("flip")
    check_names(names)
    return names


def make_batches(cfg: TrainConfig, data: InMemoryDataset | FileDataset,
                 ctx: DistContext) -> TrainBatches | DeviceBatches:
    """The batch source ``cfg`` asks for; CnnlabError for what in_memory cannot do."""
    if cfg.alternate_flip and not cfg.in_memory:
        raise CnnlabError("alternate_flip needs in_memory=true (file datasets flip at random)")
    if not cfg.in_memory:
        return TrainBatches(
            data, cfg.batch_size, augment_names(cfg), seed=cfg.seed,
            sharding=Sharding(ctx.rank, ctx.world), image_size=cfg.image_size,
            workers=cfg.workers, pin_memory=cfg.pin_memory and ctx.device.type == "cuda")
    if isinstance(data, FileDataset):
        raise CnnlabError("in_memory: image-file datasets are decoded per batch; use "
                          "in_memory=false")
    if cfg.augment:
        raise CnnlabError(f"in_memory draws flips and translations only, not augment="
                          f"{cfg.augment}; use in_memory=false")
    if ctx.enabled:
        raise CnnlabError("in_memory runs in one process; drop --nproc")
    if cfg.translate is None:
        raise CnnlabError("translate=None: set a number of pixels")
    return DeviceBatches(data, cfg.batch_size, seed=cfg.seed, flip=cfg.hflip,
                         alternate_flip=cfg.alternate_flip,
                         translate=cfg.translate, device=ctx.device,
                         channels_last=cfg.channels_last)
