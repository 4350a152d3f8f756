"""The JSON API: each module below exports ``ROUTES`` (paths under /api/); this list fixes
their order. A new page adds its module here."""

from __future__ import annotations

from starlette.routing import BaseRoute

from cnnlab.studio.api import complexity, explorer, kernels, photos, runs, shapes, steps

MODULES = (photos, kernels, steps, shapes, complexity, explorer, runs)
ROUTES: list[BaseRoute] = [route for module in MODULES for route in module.ROUTES]
