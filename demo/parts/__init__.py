"""Parts of the demo stack, one module per area; each has ``parts(run, inventory) -> list[Part]``.

A module writes its configs under ``run/<area>/`` (from files under ``deploy/`` where docker-compose.yml
shares them), and returns its processes in start order: simulated systems first, then their exporter.
Every process listens on 127.0.0.1 on the fixed demo ports listed in docs/demo-ports.md.
"""
