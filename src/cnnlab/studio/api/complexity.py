"""The Complexity page's API: the "Comparing Complexity" chart's points (accuracy against
operations, bubble area = parameters) and the lecture's tables of ``cnnlab tables``.

Points come from ``cnnlab.papers.chart`` (MACs and parameters profiled on the meta device, top-1
from the registry's metadata, per kind of source); tables are ``cnnlab tables --format json``.
Both profile many models, so each is computed once per server and kept.
"""

from __future__ import annotations

import functools
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cnnlab.models import model_info
from cnnlab.papers import compare
from cnnlab.papers.chart import chart_points, top1_accuracies
from cnnlab.papers.googlenet_table import googlenet_table
from cnnlab.studio.http import ApiError
from cnnlab.studio.work import run_limited

# The same builders, in the same order, as `cnnlab tables`.
TABLES = {"shares": compare.share_table, "vgg16": compare.vgg16_table,
          "googlenet": googlenet_table, "cifar": compare.cifar_table}
# Profiling every zoo model on a busy 2-core laptop can take a minute the first time.
SLOW_LIMIT_S = 120.0

SOURCES = {
    "torchvision": "torchvision's single-crop evaluation of its released weights "
                   "(the closest to Canziani et al.'s single central crop)",
    "paper": "the paper's (or the lecture's, or the authors' model zoo) number: 100 - top-1 "
             "error where the paper gives the error; often several crops or scales",
}


@functools.cache
def chart_data() -> dict[str, Any]:
    """Every ImageNet model with a top-1 accuracy: MACs, FLOPs (2 x MACs), parameters, input
    size, and its top-1 (%) with the metadata key per kind of source."""
    points, skipped = chart_points()
    out = []
    for p in points:
        info = model_info(p.model)
        found = top1_accuracies(info.reported)
        out.append({"model": p.model, "full_name": info.full_name, "macs": p.macs,
                    "flops": 2 * p.macs, "params": p.params, "input_size": list(info.input_size),
                    "paper": f"{info.paper.authors} {info.paper.year}, '{info.paper.title}'",
                    "accuracy": {kind: {"top1": value, "key": key}
                                 for kind, (value, key) in found.items()},
                    "default": p.source})
    return {"points": out, "skipped": skipped, "sources": SOURCES,
            "reference": "Canziani, Paszke & Culurciello 2017, 'An Analysis of Deep Neural "
                         "Network Models for Practical Applications', Figure 2 (the lecture's "
                         "'Comparing Complexity' chart)"}


@functools.cache
def table_data(which: str) -> dict[str, Any]:
    """One table of ``cnnlab tables`` as its JSON."""
    return TABLES[which]().to_dict()


async def chart(request: Request) -> JSONResponse:
    """GET -> the chart's points and the models without a published ImageNet top-1."""
    limit = max(SLOW_LIMIT_S, request.app.state.config.time_limit_s)
    return JSONResponse(await run_limited(chart_data, timeout_s=limit))


async def tables(request: Request) -> JSONResponse:
    """GET [?table=shares&table=vgg16] -> the tables, in ``cnnlab tables``' order."""
    chosen = request.query_params.getlist("table") or list(TABLES)
    unknown = [name for name in chosen if name not in TABLES]
    if unknown:
        raise ApiError(400, f"unknown table {unknown[0]!r}: choose from {', '.join(TABLES)}")
    limit = max(SLOW_LIMIT_S, request.app.state.config.time_limit_s)
    answer = [await run_limited(table_data, name, timeout_s=limit) for name in chosen]
    return JSONResponse(answer)


ROUTES = [
    Route("/api/complexity/chart", chart, methods=["GET"]),
    Route("/api/complexity/tables", tables, methods=["GET"]),
]
