"""The console's demo data, put into the router's store before the router starts; no process of its own.

Migrates ``run/router/router.db``, adds the users ``admin``, ``wang.lei`` and ``guest`` with the password in
``run/console/password``, and (once) yesterday's UPS incident resolved with its root cause and a knowledge
article, so the knowledge base, the statistics and the weekly report at http://127.0.0.1:19180/console/ have
something to show. The router part (started after this one, by name) serves them.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from demo import ports
from demo.launcher import Part
from demo.parts import router as router_part


def parts(run: Path, inventory: Path) -> list[Part]:
    """Seed the router's store; return no process."""
    from alertrouter.console.demo import seed_demo, write_password
    from alertrouter.context import load_router

    folder = run / "console"
    folder.mkdir(parents=True, exist_ok=True)
    (run / "router").mkdir(parents=True, exist_ok=True)
    config = router_part.config(run, inventory, mail=False)
    config.pop("api_tokens_file", None)  # the router part writes that file later; seeding needs no API
    path = folder / "router.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    secret = folder / "password"
    password = secret.read_text(encoding="utf-8").strip() if secret.exists() else write_password(secret)
    done = seed_demo(load_router(path), password)
    where = ports.url(router_part.ROUTER_PORT, "/console/")
    print(f"console: {where} as admin, wang.lei or guest, password in {secret}")
    print(f"console: {done}")
    return []
