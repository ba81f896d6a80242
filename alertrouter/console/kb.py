"""The knowledge base: articles written directly or made from resolutions, and full-text search.

SQLite searches an FTS5 index with the trigram tokenizer, which needs no word breaker and so matches Chinese
as well as English; terms shorter than three characters (most Chinese words) fall back to LIKE on the index.
PostgreSQL uses ILIKE on title and body, which the migration's pg_trgm GIN index serves.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from alertrouter.console.models import Article
from alertrouter.errors import NotFound
from alertrouter.models import Incident

MAX_TERMS = 8


def create_article(
    title: str,
    body: str,
    *,
    session: Session,
    author: str,
    now: dt.datetime,
    ci: str | None = None,
    alertname: str | None = None,
    service: str | None = None,
    cause: str | None = None,
    incident_id: int | None = None,
) -> Article:
    """Add an article."""
    article = Article(
        title=title[:300],
        body=body,
        ci=ci,
        alertname=alertname,
        service=service,
        cause=cause,
        incident_id=incident_id,
        author=author,
        created_at=now,
        updated_at=now,
    )
    session.add(article)
    session.flush()
    return article


def article_from_resolution(
    inc: Incident, *, cause: str, fix: str, session: Session, author: str, now: dt.datetime
) -> Article:
    """Write up how an incident was fixed as an article, titled by the CI and the fix's first line."""
    first = fix.strip().splitlines()[0][:120] if fix.strip() else inc.title
    body = f"{inc.title}\n\n{fix}"
    return create_article(
        f"{inc.ci or inc.alertname}: {first}",
        body,
        session=session,
        author=author,
        now=now,
        ci=inc.ci,
        alertname=inc.alertname or None,
        service=inc.service,
        cause=cause,
        incident_id=inc.id,
    )


def get_article_or_raise(article_id: int, *, session: Session) -> Article:
    """Return an article or raise NotFound."""
    article = session.get(Article, article_id)
    if article is None:
        raise NotFound(f"no article {article_id}")
    return article


def terms_of(query: str) -> list[str]:
    """Split a search into terms on white space; at most eight."""
    return [t for t in re.split(r"\s+", query.strip()) if t][:MAX_TERMS]


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(query: str, *, session: Session, limit: int = 50) -> list[Article]:
    """Return the articles containing every term of the query, best first."""
    terms = terms_of(query)
    if not terms:
        return []
    if session.get_bind().dialect.name == "sqlite":
        ids = _search_sqlite(terms, session, limit)
        found = {a.id: a for a in session.execute(select(Article).where(Article.id.in_(ids))).scalars()}
        return [found[i] for i in ids if i in found]
    both = Article.title + " " + Article.body
    stmt = select(Article)
    for term in terms:
        stmt = stmt.where(both.ilike(_like(term), escape="\\"))
    return list(session.execute(stmt.order_by(Article.updated_at.desc()).limit(limit)).scalars())


def _search_sqlite(terms: list[str], session: Session, limit: int) -> list[int]:
    params: dict[str, object] = {"limit": limit}
    where = []
    long = [t for t in terms if len(t) >= 3]
    if long:
        # Each term becomes a quoted FTS5 string, so no input is read as query syntax.
        params["match"] = " AND ".join('"' + t.replace('"', '""') + '"' for t in long)
        where.append("kb_fts MATCH :match")
    for n, term in enumerate(t for t in terms if len(t) < 3):
        params[f"s{n}"] = _like(term)
        where.append(f"(title LIKE :s{n} ESCAPE '\\' OR body LIKE :s{n} ESCAPE '\\')")
    order = "rank" if long else "rowid DESC"
    sql = f"SELECT rowid FROM kb_fts WHERE {' AND '.join(where)} ORDER BY {order} LIMIT :limit"  # noqa: S608
    return [int(row[0]) for row in session.execute(text(sql), params)]


def suggest(inc: Incident, *, session: Session, limit: int = 5) -> list[Article]:
    """Return articles about the incident's CI or alert, then those whose text names the alert."""
    ours = [Article.incident_id.is_(None) | (Article.incident_id != inc.id)]
    keys = []
    if inc.ci:
        keys.append(Article.ci == inc.ci)
    if inc.alertname:
        keys.append(Article.alertname == inc.alertname)
    found: list[Article] = []
    if keys:
        stmt = select(Article).where(or_(*keys), *ours).order_by(Article.updated_at.desc()).limit(limit)
        found = list(session.execute(stmt).scalars())
    if len(found) < limit and inc.alertname:
        seen = {a.id for a in found}
        found += [
            a
            for a in search(inc.alertname, session=session, limit=limit)
            if a.id not in seen and a.incident_id != inc.id
        ]
    return found[:limit]


def made_from(incident_id: int, *, session: Session) -> list[Article]:
    """Return the articles written from this incident's resolution."""
    stmt = select(Article).where(Article.incident_id == incident_id).order_by(Article.id)
    return list(session.execute(stmt).scalars())


def recent(*, session: Session, limit: int = 20) -> list[Article]:
    """Return the newest articles."""
    stmt = select(Article).order_by(Article.updated_at.desc(), Article.id.desc()).limit(limit)
    return list(session.execute(stmt).scalars())
