"""Uploaded photos kept in memory for the pages that filter them: a small LRU by count."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np


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
        self._kept = kept
        self._photos: OrderedDict[str, Photo] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()[:16]

    def put(self, key: str, photo: Photo) -> None:
        with self._lock:
            self._photos[key] = photo
            self._photos.move_to_end(key)
            while len(self._photos) > self._kept:
                self._photos.popitem(last=False)

    def get(self, key: str) -> Photo | None:
        with self._lock:
            photo = self._photos.get(key)
            if photo is not None:
                self._photos.move_to_end(key)
            return photo
