"""The service's commands: ``ccf tokens create|list|revoke`` and ``ccf worker``. Parsing and
printing only: the work is engine/service/orgs.py's and engine/service/worker.py's."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading

from ccf.dsl.diagnostics import CcfError
from ccf.engine.options import json_flag


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tokens", help="API tokens of the HTTP service, one organisation each")
    ts = p.add_subparsers(dest="tokens_command", required=True, metavar="SUBCOMMAND")
    s = ts.add_parser("create", help="a new token for an organisation, printed once (only its hash is kept)")
    s.add_argument("--org", required=True, help="the organisation the token's requests act for")
    s.add_argument("--new-org", action="store_true", help="make the organisation first (an error if it exists)")
    json_flag(s)
    s = ts.add_parser("list", help="the tokens (their prefixes, never their secrets) and organisations")
    s.add_argument("--org", help="only this organisation's")
    json_flag(s)
    s = ts.add_parser("revoke", help="revoke a token by its prefix: it authenticates no more")
    s.add_argument("prefix", help="the 8 characters after 'ccf_' (see 'ccf tokens list')")
    json_flag(s)
    p.set_defaults(func=run_tokens)

    s = sub.add_parser("worker", help="execute the HTTP service's queued runs (until stopped)")
    s.add_argument("--concurrency", type=int, default=1, metavar="N", help="runs at a time (default 1)")
    s.add_argument("--once", action="store_true", help="stop when no run is queued")
    s.set_defaults(func=run_worker)


def run_tokens(args: argparse.Namespace) -> int:
    from ccf.engine import api
    from ccf.engine.service import orgs

    with api.open_database() as conn:
        if args.tokens_command == "create":
            if args.new_org:
                orgs.create_org(conn, args.org)
            token = orgs.create_token(conn, args.org)
            if args.json:
                sys.stdout.write(json.dumps({"org": args.org, "token": token}) + "\n")
            else:
                sys.stdout.write(f"{token}\n")
                sys.stderr.write(f"a token for organisation {args.org}: shown this once, keep it secret\n")
            return 0
        if args.tokens_command == "list":
            tokens = orgs.list_tokens(conn, args.org)
            if args.json:
                sys.stdout.write(json.dumps([{"prefix": t.prefix, "org": t.org, "created_at": str(t.created_at),
                                              "revoked_at": t.revoked_at and str(t.revoked_at)} for t in tokens], indent=2) + "\n")
            elif not tokens:
                sys.stdout.write("no token yet (make one with 'ccf tokens create --org ORG --new-org')\n")
            else:
                for t in tokens:
                    state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
                    sys.stdout.write(f"{t.prefix}  {t.org}  created {t.created_at:%Y-%m-%d %H:%M}  {state}\n")
            return 0
        orgs.revoke_token(conn, args.prefix)
        sys.stdout.write(json.dumps({"revoked": args.prefix}) + "\n" if args.json else f"revoked token {args.prefix}\n")
        return 0


def run_worker(args: argparse.Namespace) -> int:
    from ccf.engine.service.worker import run_worker as work

    if args.concurrency < 1:
        raise CcfError("--concurrency must be at least 1")
    # each job's start and end on stderr, for the process supervisor's log
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log = logging.getLogger("ccf.worker")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    stop = threading.Event()

    def graceful(signum, frame) -> None:  # the runs in progress finish; none is claimed after
        log.info("stopping after the runs in progress (signal %d)", signum)
        stop.set()

    signal.signal(signal.SIGTERM, graceful)
    signal.signal(signal.SIGINT, graceful)
    done = work(once=args.once, stop=stop, concurrency=args.concurrency)
    sys.stdout.write(f"{done} run job{'s' if done != 1 else ''} executed\n")
    return 0
