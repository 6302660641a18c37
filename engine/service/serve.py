"""``ccf serve``: migrate the database, then serve the HTTP API (app.py) with uvicorn.

FastAPI and uvicorn are the optional extra ``service`` (``pip install ccf[service]``): without
them the command says so, and the rest of ccf works as before.
"""

from __future__ import annotations

import argparse

from ccf.dsl.diagnostics import CcfError

# How long an idle kept-alive connection stays open (uvicorn's default: 5 s). A client reuses an
# idle connection until its own expiry (httpx: 5 s; a proxy or load balancer: 60 s or more): a
# server that closes first can close one just as a request is sent on it, which the client sees
# as a connection closed without an answer (httpx's ReadError; the request never reaches the
# access log). Longer than the clients' expiry, the server never closes first (docs/service.md).
KEEP_ALIVE_S = 75


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("serve", help="serve the HTTP API (run jobs are executed by 'ccf worker')")
    s.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1; 0.0.0.0: every interface)")
    s.add_argument("--port", type=int, default=8000, help="the port to listen on (default: 8000)")
    s.add_argument("--workers", type=int, default=1, metavar="N", help="server processes (default: 1)")
    s.add_argument("--keep-alive", type=int, default=KEEP_ALIVE_S, metavar="SECONDS",
                   help=f"close a kept-alive connection idle this long (default: {KEEP_ALIVE_S}; keep it above the idle "
                        "timeout of the clients and of any proxy in front)")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError:
        raise CcfError("ccf serve needs the service extra: pip install 'ccf[service]'") from None
    from ccf.engine import api

    api.open_database().close()  # migrated and the shipped factor sets installed before the first request
    # a factory: each server process builds its app for the database in force (CCF_DATABASE_URL, a target)
    uvicorn.run("ccf.engine.service.app:create_app", factory=True, host=args.host, port=args.port,
                workers=args.workers, timeout_keep_alive=args.keep_alive, log_level="info")
    return 0
