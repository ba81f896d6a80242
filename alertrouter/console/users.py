"""Console users and their sessions: password hashing, login with rate limiting, rotation, logout."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import bcrypt
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from alertrouter.console.models import LoginFailure, Role, User, UserSession

SESSION_LIFETIME = dt.timedelta(hours=12)
FAILURE_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_USER = 10
MAX_FAILURES_PER_ADDRESS = 20
# Compared against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = bcrypt.hashpw(b"not a password", bcrypt.gensalt(rounds=12))


class RateLimited(Exception):
    """Too many failed logins for this name or address; try again later."""


class BadLogin(Exception):
    """Unknown user, wrong password or disabled account."""


def hash_password(password: str, *, rounds: int = 12) -> str:
    """Hash a password with bcrypt (cost 12 unless told)."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


def check_password(password: str, hashed: str) -> bool:
    """Tell whether a password matches its hash, in constant time."""
    return bcrypt.checkpw(password.encode(), hashed.encode())


def token_hash(token: str) -> str:
    """Return what the store keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    username: str,
    password: str,
    role: Role,
    *,
    session: Session,
    now: dt.datetime,
    lang: str | None = None,
    rounds: int = 12,
) -> User:
    """Add a user; the password must have at least 8 characters."""
    if len(password) < 8:
        raise ValueError("password: at least 8 characters")
    user = User(
        username=username,
        password_hash=hash_password(password, rounds=rounds),
        role=role.value,
        lang=lang,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def get_user_by_name(username: str, *, session: Session) -> User | None:
    """Return a user by name, or None."""
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def recent_failures(key: str, *, session: Session, now: dt.datetime) -> int:
    """Count a key's failures (``user:``, ``addr:`` or ``status:``) in the last FAILURE_WINDOW."""
    query = select(func.count()).where(LoginFailure.key == key, LoginFailure.at > now - FAILURE_WINDOW)
    return int(session.execute(query).scalar_one())


def record_failure(keys: list[str], *, session: Session, now: dt.datetime) -> None:
    """Count one failure against each key, and drop failures too old to count (the table stays small)."""
    session.add_all([LoginFailure(key=key, at=now) for key in keys])
    session.execute(delete(LoginFailure).where(LoginFailure.at < now - 4 * FAILURE_WINDOW))


def login(
    username: str, password: str, *, address: str, session: Session, now: dt.datetime, old_token: str | None
) -> tuple[User, str, str]:
    """Check a login and open a fresh session; return the user, the cookie token and the CSRF token.

    Failures are counted in the store per user name and per address, so the limit holds across replicas.
    The session the browser had before (if any) is dropped: a login always rotates the session id.
    """
    user_key, addr_key = f"user:{username.lower()}"[:200], f"addr:{address}"[:200]
    if (
        recent_failures(user_key, session=session, now=now) >= MAX_FAILURES_PER_USER
        or recent_failures(addr_key, session=session, now=now) >= MAX_FAILURES_PER_ADDRESS
    ):
        raise RateLimited
    user = get_user_by_name(username, session=session)
    ok = check_password(password, user.password_hash if user else _DUMMY_HASH.decode())
    if user is None or not ok or not user.active:
        record_failure([user_key, addr_key], session=session, now=now)
        raise BadLogin
    session.execute(delete(LoginFailure).where(LoginFailure.key == user_key))
    if old_token:
        session.execute(delete(UserSession).where(UserSession.token_hash == token_hash(old_token)))
    session.execute(delete(UserSession).where(UserSession.expires_at < now))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=token_hash(token),
            user_id=user.id,
            csrf=csrf,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    return user, token, csrf


def session_user(token: str, *, session: Session, now: dt.datetime) -> tuple[User, UserSession] | None:
    """Return the user and session a cookie token belongs to, if it is valid and not expired."""
    row = session.get(UserSession, token_hash(token))
    if row is None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return user, row


def logout(token: str, *, session: Session) -> None:
    """End a session."""
    session.execute(delete(UserSession).where(UserSession.token_hash == token_hash(token)))
