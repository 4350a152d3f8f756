"""The studio's settings: one typed config that the CLI fills and the server reads."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from cnnlab.imaging import DEFAULT_MAX_PIXELS

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class StudioConfig:
    """Where the studio listens and the limits that keep one laptop's server responsive."""

    host: str = "127.0.0.1"  # loopback only: the studio has no authentication
    port: int = 8765
    runs_dir: Path = Path("runs")  # the only folder run pages may read (part 2)
    open_browser: bool = False
    max_upload_bytes: int = 20 * 1024 * 1024  # an upload's encoded size (PNG/JPEG bytes)
    max_pixels: int = DEFAULT_MAX_PIXELS  # cnnlab's decoding limit, checked before decoding
    max_json_bytes: int = 1024 * 1024  # a JSON request body; kernels and settings are small
    time_limit_s: float = 20.0  # one request's computation; past it the answer is a 504
    uploads_kept: int = 8  # the most recent uploads stay in memory, older ones are dropped
    allowed_hosts: tuple[str, ...] = field(default=())  # Host headers accepted; () = derived
    # Weights for zoo models, given at start only (the page never names a file): (model name,
    # a weights file or `torchvision` / a torchvision weights name). Others get random weights.
    weights: tuple[tuple[str, str], ...] = field(default=())
    models_kept: int = 3  # explorer: loaded models kept in memory (resnet152 is ~240 MB)

    def weights_for(self, model: str) -> str | None:
        """The weights the server was started with for ``model``, or None (random weights)."""
        return dict(self.weights).get(model)

    @property
    def url(self) -> str:
        """The address to open in a browser."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def is_loopback(self) -> bool:
        """True when only this computer can reach the server."""
        if self.host in LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def trusted_hosts(self) -> list[str]:
        """Host headers to accept. On loopback only the local names, which stops a web page
        elsewhere from reaching the studio through a rebound DNS name."""
        if self.allowed_hosts:
            return list(self.allowed_hosts)
        if self.is_loopback:
            return ["localhost", "127.0.0.1", "[::1]", "::1", self.host]
        return ["*"]
