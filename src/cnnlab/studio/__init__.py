"""``cnnlab studio``: a local web app whose pages compute with cnnlab's own library.

The server (``server.create_app``) is a thin JSON API over the library plus the static front end
under ``static/`` (plain ES modules, no build step). Every number a page shows comes from the
same library function the CLI calls. See docs/studio.md.
"""
