"""The Kernels page's API: the named kernels, a kernel applied to a photo, one output pixel's
window and sum."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cnnlab.convolution.apply import DISPLAY_MODES
from cnnlab.convolution.kernels import list_kernels
from cnnlab.convolution.reference import PAD_MODES

MAX_SIZE = 15  # the page's editor: 1..15 rows and columns, odd and even


async def kernel_list(request: Request) -> JSONResponse:
    kernels = [{"name": k.name, "description": k.description, "source": k.source,
                "shape": list(k.shape), "matrix": k.matrix.tolist() if k.is_linear else None,
                "parts": [p.name for p in k.parts]} for k in list_kernels()]
    return JSONResponse({"kernels": kernels, "borders": list(PAD_MODES),
                         "displays": list(DISPLAY_MODES), "max_size": MAX_SIZE})


ROUTES = [Route("/api/kernels", kernel_list, methods=["GET"])]
