"""A local authority's webhook receiver for `make soak`: answers every POST 204 and counts what it
was sent, so that the soak's deliveries flow end to end over real HTTP. In a process of its own,
so that its work is not charged to the load generator.

    python -m benchmarks.receiver --port 8099

`GET /count` answers `{"received": N, "distinct": N, "duplicates": N, "unsigned": N}`: deliveries
received, distinct (webhook path, `TAC-Event-ID`) pairs among them, repeats of a pair (delivery is
at least once: a repeat is allowed, and worth knowing), and deliveries without a `TAC-Signature`.
"""

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received = 0
        self.unsigned = 0
        self.seen: set[tuple[str, str]] = set()

    def add(self, path: str, event_id: str, signed: bool) -> None:
        with self.lock:
            self.received += 1
            self.unsigned += not signed
            self.seen.add((path, event_id))

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {
                "received": self.received,
                "distinct": len(self.seen),
                "duplicates": self.received - len(self.seen),
                "unsigned": self.unsigned,
            }


TALLY = Tally()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        signed = bool(self.headers.get("TAC-Signature"))
        TALLY.add(self.path, self.headers.get("TAC-Event-ID") or "", signed)
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        body = json.dumps(TALLY.counts()).encode()
        self.send_response(200 if self.path == "/count" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per delivery would be most of the soak's log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
