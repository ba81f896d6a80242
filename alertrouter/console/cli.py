"""``python -m alertrouter.console.cli``: console users, change silences, problem scans, demo data."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from alertrouter.alertmanager import Alertmanager
from alertrouter.app import CONFIG_ENV
from alertrouter.console import changes, problems
from alertrouter.console.demo import seed_demo, write_password
from alertrouter.console.models import Role
from alertrouter.console.users import create_user, get_user_by_name, hash_password
from alertrouter.context import Router, load_router
from alertrouter.db import make_engine, make_sessionmaker
from hospmon.config import ConfigError

PASSWORD_ENV = "HOSPMON_CONSOLE_PASSWORD"  # noqa: S105 - the name of a variable, not a password


def _password(args: argparse.Namespace) -> str:
    if args.password_file:
        with open(args.password_file, encoding="utf-8") as f:
            return f.read().strip()
    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    return sys.stdin.readline().strip()


def cmd_user(args: argparse.Namespace, router: Router) -> int:
    """Add a user, or set the role and password of an existing one."""
    sessions = make_sessionmaker(make_engine(router.settings.database_url, pool_size=1))
    password = _password(args)
    now = dt.datetime.now(dt.UTC)
    with sessions() as session, session.begin():
        user = get_user_by_name(args.username, session=session)
        if user is None:
            create_user(args.username, password, Role(args.role), session=session, now=now)
            print(f"added {args.username} ({args.role})")
        else:
            if len(password) < 8:
                raise ValueError("password: at least 8 characters")
            user.role, user.password_hash = args.role, hash_password(password)
            print(f"updated {args.username} ({args.role})")
    return 0


def cmd_sync_changes(args: argparse.Namespace, router: Router) -> int:
    """Bring every change's Alertmanager silence in step with its window (run it from cron or a timer)."""
    sessions = make_sessionmaker(make_engine(router.settings.database_url, pool_size=1))
    am = Alertmanager.from_settings(router.settings)
    with sessions() as session, session.begin():
        changes.sync(session=session, am=am, now=dt.datetime.now(dt.UTC))
    return 0


def cmd_scan_problems(args: argparse.Namespace, router: Router) -> int:
    """Group recurring incidents into problems."""
    sessions = make_sessionmaker(make_engine(router.settings.database_url, pool_size=1))
    with sessions() as session, session.begin():
        found = problems.scan(session=session, now=dt.datetime.now(dt.UTC), times=args.times, days=args.days)
        print(f"{len(found)} problems open or updated")
    return 0


def cmd_demo_seed(args: argparse.Namespace, router: Router) -> int:
    """Migrate the store, add the demo users and one resolved incident with its article."""
    if args.password_file and not Path(args.password_file).exists():
        write_password(Path(args.password_file))
    print(seed_demo(router, _password(args)))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run a console command against the router config in --config or $HOSPMON_ROUTER_CONFIG."""
    parser = argparse.ArgumentParser(prog="python -m alertrouter.console.cli")
    parser.add_argument("--config", default=os.environ.get(CONFIG_ENV), help="router config file")
    commands = parser.add_subparsers(dest="command", required=True)
    user = commands.add_parser("user", help="add a user or change one's role and password")
    user.add_argument("username")
    user.add_argument("--role", choices=[r.value for r in Role], default=Role.viewer.value)
    user.add_argument("--password-file", help=f"else ${PASSWORD_ENV}, else one line on stdin")
    user.set_defaults(func=cmd_user)
    sync = commands.add_parser("sync-changes", help="create and remove the changes' Alertmanager silences")
    sync.set_defaults(func=cmd_sync_changes)
    scan = commands.add_parser("scan-problems", help="group recurring incidents into problems")
    scan.add_argument("--times", type=int, default=3)
    scan.add_argument("--days", type=int, default=30)
    scan.set_defaults(func=cmd_scan_problems)
    seed = commands.add_parser("demo-seed", help="demo users and a resolved incident with an article")
    seed.add_argument(
        "--password-file", help=f"made with a random password if missing; else ${PASSWORD_ENV}, else stdin"
    )
    seed.set_defaults(func=cmd_demo_seed)
    args = parser.parse_args(argv)
    try:
        if not args.config:
            raise ConfigError.single("-", f"give --config or set ${CONFIG_ENV}")
        code: int = args.func(args, load_router(args.config))
    except (ConfigError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
