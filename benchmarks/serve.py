"""The benchmark's S3 server, in its own process (as S3 would be), with a small control API.

``/_tfm/counts`` (requests so far, by operation), ``/_tfm/seed?workload=N&bucket=B``,
``/_tfm/remove?bucket=B&prefix=P`` and ``/_tfm/count?bucket=B&prefix=P`` are answered here and are
not counted; everything else goes to moto and is counted.
"""

from __future__ import annotations

import sys
from typing import Any

from tfm_jupyter.server import LocalS3Server

from .workloads import WORKLOADS


def _routes(server: LocalS3Server) -> dict[str, Any]:
    def seed(query: dict[str, str], _: bytes) -> Any:
        server.create_bucket(query["bucket"])
        next(w for w in WORKLOADS if w.number == query["workload"]).seed(server, query["bucket"])
        return {}

    def keys(query: dict[str, str]) -> list[str]:
        return [k for k in server.backend.get_bucket(query["bucket"]).keys if k.startswith(query["prefix"])]

    def remove(query: dict[str, str], _: bytes) -> Any:
        found = keys(query)
        for key in found:
            server.backend.delete_object(query["bucket"], key)
        return {"count": len(found)}

    return {"counts": lambda query, body: dict(server.snapshot()), "seed": seed, "remove": remove,
            "count": lambda query, body: {"count": len(keys(query))}}


def main() -> int:
    server = LocalS3Server()
    server.add_control(_routes(server))
    server.start()
    print(f"PORT {server.port}", flush=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
