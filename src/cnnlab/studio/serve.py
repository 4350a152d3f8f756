"""Running the studio with uvicorn: bind the socket ourselves (so a port in use is a one-line
error and tests can ask for a free port), then serve until told to stop."""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from cnnlab.errors import CnnlabError
from cnnlab.studio.config import StudioConfig
from cnnlab.studio.server import create_app
from cnnlab.studio.work import wait_idle

STOP_WAIT_S = 120.0  # how long a stopping server waits for computations still running


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port); port 0 picks a free one.

    Raises:
        CnnlabError: the port is taken, the address is not this machine's, or not allowed.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise CnnlabError(f"port {port} on {host} is already in use (another studio?); "
                              f"pick another with --port") from None
        if err.errno == errno.EACCES:
            raise CnnlabError(f"not allowed to listen on {host}:{port} (ports below 1024 need "
                              f"root); pick another with --port") from None
        raise CnnlabError(f"cannot listen on {host}:{port}: {err.strerror}") from None
    except socket.gaierror as err:
        sock.close()
        raise CnnlabError(f"cannot listen on {host!r}: {err.strerror}") from None
    sock.setblocking(False)
    return sock


def make_server(config: StudioConfig, log_level: str = "warning") -> uvicorn.Server:
    """A uvicorn server for the studio app (call ``.run(sockets=[bind(...)])``)."""
    return uvicorn.Server(uvicorn.Config(create_app(config), log_level=log_level,
                                         access_log=False, lifespan="off"))


@contextmanager
def serve_in_thread(config: StudioConfig, start_timeout_s: float = 20.0) -> Iterator[str]:
    """Serve in a background thread for tests and benchmarks; yields the base URL. The port
    is ``config.port`` (0 = a free one)."""
    sock = bind(config.host, config.port)
    port = sock.getsockname()[1]
    server = make_server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        server.should_exit = True
        sock.close()
        raise CnnlabError(f"the studio did not start within {start_timeout_s:g} s")
    try:
        yield f"http://{config.host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        wait_idle(STOP_WAIT_S)
