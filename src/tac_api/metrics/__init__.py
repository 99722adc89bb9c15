"""What an operator sees: `GET /metrics`, in Prometheus' text format (README, "Metrics").

- `figures`: the figures each process counts as it works (requests, latency, its database pool,
  refusals, webhook deliveries), and the pool that counts its own connections;
- `service`: the figures read from the database when scraped (the age of what is waiting), the
  page itself, and the directory that several worker processes add their figures up in;
- `routes`: `GET /metrics`, for the `monitoring` role (and admins).
"""
