"""Demo data for the console: users, and yesterday's UPS incident resolved with its cause and an article."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from alertrouter import incidents as svc
from alertrouter.console.models import Article, Cause, Role
from alertrouter.console.resolutions import ProblemRule, resolve_with_cause
from alertrouter.console.users import create_user, get_user_by_name
from alertrouter.context import Router
from alertrouter.db import make_engine, make_sessionmaker
from alertrouter.intake.parser import parse_webhook
from alertrouter.intake.service import ingest
from alertrouter.migrate import upgrade

USERS = (("admin", Role.admin), ("wang.lei", Role.engineer), ("guest", Role.viewer))
CI = "ups-mr1-01"
FIX = (
    "市电切换柜跳闸，复位后 UPS 回到市电供电；已报修切换柜。"  # noqa: RUF001
    " Mains transfer switch tripped; reset it and the UPS returned to mains; switch sent for repair."
)


def write_password(path: Path) -> str:
    """Write a fresh random password to a file only its owner reads."""
    password = secrets.token_urlsafe(12)
    path.write_text(password + "\n", encoding="utf-8")
    path.chmod(0o600)
    return password


def seed_demo(router: Router, password: str) -> str:
    """Migrate the store, add the demo users and (once) the resolved UPS incident; say what was done."""
    upgrade(router.settings.database_url)
    engine = make_engine(router.settings.database_url, pool_size=1)
    done = []
    try:
        with make_sessionmaker(engine)() as session, session.begin():
            now = dt.datetime.now(dt.UTC)
            for name, role in USERS:
                if get_user_by_name(name, session=session) is None:
                    create_user(name, password, role, session=session, now=now)
                    done.append(f"user {name} ({role.value})")
            if session.execute(select(Article.id).where(Article.ci == CI)).first() is None:
                done.append(_ups_incident(router, session, now))
    finally:
        engine.dispose()
    return "; ".join(done) or "nothing to do"


def _ups_incident(router: Router, session: Session, now: dt.datetime) -> str:
    start = now - dt.timedelta(days=1, hours=2)
    alert = {
        "status": "firing",
        "labels": {"alertname": "UPSOnBattery", "severity": "critical", "ci": CI},
        "annotations": {"summary": f"UPS {CI} is on battery"},
        "startsAt": start.isoformat().replace("+00:00", "Z"),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "",
        "fingerprint": "demo0000ups00001",
    }
    payload = {
        "version": "4",
        "status": "firing",
        "receiver": "demo",
        "groupKey": "demo",
        "groupLabels": {},
        "alerts": [alert],
    }
    ingest(parse_webhook(payload), session=session, router=router, now=start)
    inc = svc.list_incidents(svc.IncidentFilter(ci=CI, limit=1), session=session)[0]
    if inc.status == "triggered":
        svc.acknowledge(inc.id, session=session, by="wang.lei", now=start + dt.timedelta(minutes=4))
    resolve_with_cause(
        inc.id,
        session=session,
        by="wang.lei",
        cause=Cause.power,
        fix=FIX,
        minutes=35,
        to_kb=True,
        now=start + dt.timedelta(minutes=38),
        rule=ProblemRule(),
    )
    return f"incident {inc.id} resolved with an article"
