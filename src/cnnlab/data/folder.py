"""Image-file datasets: a class-per-folder ImageFolder and ImageNet's train/val layout.

Images are decoded on demand (in DataLoader worker processes when ``workers > 0``) by
``cnnlab.imaging.load_image`` and augmented per sample by a torchvision.transforms.v2 pipeline,
or, for the "inception" crop, decoded and cropped in one step by ``cnnlab.data.jpeg``.
A sample is asked for as ``dataset[(index, seed)]``: the seed, derived from the run's seed, the
epoch and the index, seeds that sample's augmentation. The augmentation therefore depends on
the position in the run only, not on which worker decoded it or whether the run was resumed.

A file that cannot be decoded stops the run with an error that names it; with
``skip_bad=True`` it is dropped from its batch instead, and the batch reports its path so the
trainer can count and list it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torchvision.datasets.folder import IMG_EXTENSIONS, find_classes, make_dataset

from cnnlab.data.augment import sample_rng
from cnnlab.data.jpeg import DecodeCrop
from cnnlab.errors import CnnlabError
from cnnlab.imaging import load_image

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
_EXTENSIONS = tuple(ext for ext in IMG_EXTENSIONS) + tuple(e.upper() for e in IMG_EXTENSIONS)


@dataclass
class Batch:
    """uint8 images N x C x H x W, labels N, and the files of this batch that failed to decode."""

    images: torch.Tensor
    labels: torch.Tensor
    bad_files: list[str] = field(default_factory=list)

    def pin_memory(self) -> Batch:
        """Page-locked copy (DataLoader calls this when pin_memory=True)."""
        return Batch(self.images.pin_memory(), self.labels.pin_memory(), self.bad_files)


@dataclass
class FileDataset(torch.utils.data.Dataset):
    """(path, label) samples decoded on demand; ``transform`` maps uint8 C x H x W to a tensor,
    or is a ``DecodeCrop`` that decodes and crops the file itself."""

    samples: list[tuple[str, int]]
    classes: list[str]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    name: str
    transform: Callable[[torch.Tensor], torch.Tensor] | DecodeCrop | None = None
    skip_bad: bool = False

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def labels(self) -> torch.Tensor:
        """Labels of every sample, N (int64)."""
        return torch.tensor([label for _, label in self.samples], dtype=torch.int64)

    def subset(self, count: int | None) -> FileDataset:
        """The first ``count`` samples (all when None); samples are sorted by class then name."""
        if count is None or count >= len(self):
            return self
        return FileDataset(self.samples[:count], self.classes, self.mean, self.std, self.name,
                           self.transform, self.skip_bad)

    def with_transform(self, transform: Callable | None, skip_bad: bool) -> FileDataset:
        """The same samples with another ``transform`` and ``skip_bad``.

        ``skip_bad``: a file that cannot be decoded is dropped from its batch, which reports
        its path, instead of stopping the run.
        """
        return FileDataset(self.samples, self.classes, self.mean, self.std, self.name,
                           transform, skip_bad)

    def __getitem__(self, item: int | tuple[int, int]) -> tuple[torch.Tensor | None, int, str]:
        index, seed = item if isinstance(item, tuple) else (item, index_seed(0, 0, item))
        path, label = self.samples[index]
        try:
            if isinstance(self.transform, DecodeCrop):
                return self.transform(path, seed), label, path
            array = load_image(path, mode="RGB")
        except CnnlabError:
            if not self.skip_bad:
                raise
            return None, label, path
        image = torch.from_numpy(array).permute(2, 0, 1).contiguous()  # 3 x H x W uint8
        if self.transform is not None:
            with sample_rng(seed):
                image = self.transform(image)
        return image, label, path


def index_seed(seed: int, epoch: int, index: int) -> int:
    """The augmentation seed of sample ``index`` in ``epoch`` of a run seeded ``seed``."""
    return ((seed * 1_000_003 + epoch) * 10_000_019 + index) % (2**63)


def collate(items: Sequence[tuple[torch.Tensor | None, int, str]]) -> Batch:
    """Stack the decoded samples; undecodable ones (None) are left out and named."""
    good = [(image, label) for image, label, _ in items if image is not None]
    bad = [path for image, _, path in items if image is None]
    if not good:
        return Batch(torch.empty(0, dtype=torch.uint8), torch.empty(0, dtype=torch.int64), bad)
    # default_collate stacks straight into shared memory inside a worker, which saves the
    # copy a plain stack needs on its way to the main process
    images = torch.utils.data.default_collate([image for image, _ in good])
    labels = torch.tensor([label for _, label in good], dtype=torch.int64)
    return Batch(images, labels, bad)


def _scan(folder: Path,
          classes: list[str] | None = None) -> tuple[list[tuple[str, int]], list[str]]:
    if not folder.is_dir():
        raise CnnlabError(f"{folder}: no such folder")
    try:
        names, to_index = find_classes(str(folder)) if classes is None else (
            classes, {c: i for i, c in enumerate(classes)})
        samples = make_dataset(str(folder), to_index, extensions=_EXTENSIONS,
                               allow_empty=True)
    except FileNotFoundError as err:
        raise CnnlabError(f"{folder}: {err}") from None
    if not samples:
        raise CnnlabError(f"{folder}: no image files in class folders")
    return samples, list(names)


def _split_folder(root: Path, split: str) -> Path:
    names = {"train": ("train",), "test": ("test", "val")}[split]
    for name in names:
        if (root / name).is_dir():
            return root / name
    raise CnnlabError(f"{root}: no {' or '.join(n + '/' for n in names)} folder "
                      "(expected ROOT/train/CLASS/*.jpg and ROOT/val/CLASS/*.jpg)")


def load_image_folder(split: str, data_dir: str | Path | None) -> FileDataset:
    """ROOT/train/<class>/<image> and ROOT/val/<class>/<image> (or test/), classes sorted.

    The test split uses the training split's class list, so a class missing from val keeps its
    index.
    """
    if data_dir is None:
        raise CnnlabError("the imagefolder dataset needs --data-dir ROOT (ROOT/train/CLASS/...)")
    root = Path(data_dir)
    _, classes = _scan(_split_folder(root, "train"))
    samples, _ = _scan(_split_folder(root, split), classes)
    return FileDataset(samples, classes, IMAGENET_MEAN, IMAGENET_STD, "imagefolder")


def load_imagenet(split: str, data_dir: str | Path | None) -> FileDataset:
    """ILSVRC-2012: ROOT/train/<wnid>/*.JPEG and ROOT/val/ either in <wnid>/ folders or flat
    with ROOT/LOC_val_solution.csv (the Kaggle layout: ImageId,PredictionString "wnid ...").

    Class names are the WordNet ids, or their words when ROOT/LOC_synset_mapping.txt is there.
    """
    if data_dir is None:
        raise CnnlabError("the imagenet dataset needs --data-dir ROOT (ROOT/train/n01440764/...)")
    root = Path(data_dir)
    train_samples, wnids = _scan(_split_folder(root, "train"))
    if split == "train":
        samples = train_samples
    else:
        val = _split_folder(root, "test")
        solution = root / "LOC_val_solution.csv"
        samples = _flat_val(val, solution, wnids) if solution.is_file() else _scan(val, wnids)[0]
    return FileDataset(samples, _class_words(root, wnids), IMAGENET_MEAN, IMAGENET_STD,
                       "imagenet")


def _flat_val(folder: Path, solution: Path, wnids: list[str]) -> list[tuple[str, int]]:
    index = {w: i for i, w in enumerate(wnids)}
    samples = []
    for line_no, line in enumerate(solution.read_text().splitlines()[1:], start=2):
        image_id, _, prediction = line.partition(",")
        wnid = prediction.split()[0] if prediction.split() else ""
        if wnid not in index:
            raise CnnlabError(f"{solution}:{line_no}: unknown class {wnid!r}")
        matches = [folder / f"{image_id}{ext}" for ext in (".JPEG", ".jpg", ".png")]
        path = next((m for m in matches if m.exists()), matches[0])
        samples.append((str(path), index[wnid]))
    return sorted(samples)


def _class_words(root: Path, wnids: list[str]) -> list[str]:
    mapping = root / "LOC_synset_mapping.txt"
    if not mapping.is_file():
        return wnids
    words = dict(line.split(" ", 1) for line in mapping.read_text().splitlines() if " " in line)
    return [words.get(w, w).split(",")[0].strip() for w in wnids]
