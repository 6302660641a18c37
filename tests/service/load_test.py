"""A bounded load test of the HTTP API's read endpoints: N concurrent clients for S seconds, each
sending the next request as soon as its last one is answered; prints the number of requests, the
errors, and the p50/p95 latency per endpoint and overall. A measurement, not a test: no
assertion on time (docs/service.md records its figures). Run against a served database in which
the token's organisation has a run:

    python tests/service/load_test.py --base http://127.0.0.1:8000 --token ccf_… --run 1 --dataset demo
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import Counter

import httpx


def endpoints(run: int, dataset: str) -> list[tuple[str, str, dict]]:
    """(name, path, query) of the read endpoints measured: shared data and the organisation's."""
    return [
        ("methodologies", "/methodologies", {}),
        ("factors search", "/factors", {"q": "Electricity: UK", "set": "desnz-2025", "limit": 5}),
        ("datasets", "/datasets", {}),
        ("dataset", f"/datasets/{dataset}", {}),
        ("run summary", f"/runs/{run}", {}),
        ("results page", f"/runs/{run}/results", {"limit": 100}),
        ("health", "/health", {}),
    ]


async def _client(http: httpx.AsyncClient, targets, until: float, seen: dict[str, list[float]], errors: list[str], start: int):
    i = start
    while time.monotonic() < until:
        name, path, params = targets[i % len(targets)]
        i += 1
        t0 = time.perf_counter()
        try:
            r = await http.get(path, params=params)
            ok = r.status_code == 200
        except httpx.HTTPError as exc:
            ok, r = False, exc
        seen.setdefault(name, []).append(time.perf_counter() - t0)
        if not ok:
            errors.append(f"{name}: {r.status_code if isinstance(r, httpx.Response) else type(r).__name__}")


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if len(values) > 1 else values[0]


async def main(args: argparse.Namespace) -> None:
    targets = endpoints(args.run, args.dataset)
    seen: dict[str, list[float]] = {}
    errors: list[str] = []
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients,
                          keepalive_expiry=args.keepalive_expiry)
    async with httpx.AsyncClient(base_url=args.base, headers={"Authorization": f"Bearer {args.token}"},
                                 timeout=120, limits=limits) as http:
        until = time.monotonic() + args.seconds
        await asyncio.gather(*(_client(http, targets, until, seen, errors, i) for i in range(args.clients)))
    every = [v for vs in seen.values() for v in vs]
    kinds = Counter(errors)
    print(f"{args.clients} clients, {args.seconds} s: {len(every)} requests ({len(every) / args.seconds:.0f}/s), "
          f"{len(errors)} errors{': ' + ', '.join(f'{k} ×{n}' for k, n in sorted(kinds.items())) if errors else ''}")
    print(f"{'endpoint':<16} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for name, vs in [*seen.items(), ("all", every)]:
        print(f"{name:<16} {len(vs):>8} {percentile(vs, 50) * 1000:>8.0f} {percentile(vs, 95) * 1000:>8.0f}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--run", type=int, required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seconds", type=int, default=30)
    p.add_argument("--keepalive-expiry", type=float, default=5.0,
                   help="seconds a client keeps an idle connection for reuse (httpx's default: 5); below the "
                        "server's keep-alive timeout, or a reused connection may be one the server is closing")
    asyncio.run(main(p.parse_args()))
