"""Uploaded photos kept in memory for the pages that filter them: a small LRU by count."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from cnnlab.studio.lru import LRU


@dataclass(frozen=True)
class Photo:
    """One decoded photo: uint8 (H, W, 3) colour and (H, W) gray, decoded by cnnlab.imaging."""

    name: str
    rgb: np.ndarray
    gray: np.ndarray


class UploadStore:
    """The last ``kept`` uploads by id (a hash of the bytes: the same file gets the same id).

    Decoded photos can be large (cnnlab's pixel limit allows 64 M pixels), so older uploads are
    dropped rather than kept for the server's lifetime.
    """

    def __init__(self, kept: int) -> None:
        self._photos: LRU[str, Photo] = LRU(kept)

    @staticmethod
    def key(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()[:16]

    def put(self, key: str, photo: Photo) -> None:
        self._photos.put(key, photo)

    def get(self, key: str) -> Photo | None:
        return self._photos.get(key)
