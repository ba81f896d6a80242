"""The knowledge base: search, read, write."""

from __future__ import annotations

from flask import Response, render_template, request
from werkzeug.wrappers.response import Response as HttpResponse

from alertrouter.console import kb
from alertrouter.console.models import Role
from alertrouter.console.web import (
    _,
    audit,
    bp,
    error_page,
    needs,
    refuse_patient_text,
    see_other,
    viewer,
)
from alertrouter.state import current_state, writing

FIELDS = ("title", "ci", "alertname", "body")
"""An article's fields, all typed by a person and all read by the PHI guard before it is kept."""


@bp.get("/kb")
def kb_search() -> str:
    """Search articles, or list the newest."""
    query = request.args.get("q", "")[:200]
    with current_state().sessions() as session:
        found = kb.search(query, session=session) if query.strip() else kb.recent(session=session)
        return render_template("console/kb.html", q=query, articles=found)


@bp.get("/kb/<int:article_id>")
def kb_article(article_id: int) -> str:
    """Show an article."""
    with current_state().sessions() as session:
        return render_template("console/article.html", a=kb.get_article_or_raise(article_id, session=session))


@bp.route("/kb/new", methods=["GET", "POST"])
@needs(Role.engineer)
def kb_new() -> HttpResponse | Response | str:
    """Write an article."""
    if request.method == "GET":
        return render_template("console/article_new.html")
    refused = refuse_patient_text(FIELDS, lambda: render_template("console/article_new.html"))
    if refused is not None:
        return refused
    title, body = request.form.get("title", "").strip(), request.form.get("body", "").strip()
    if not title or not body:
        return error_page(400, f"{_('Title')}, {_('Text')}")
    state = current_state()
    with writing() as session:
        article = kb.create_article(
            title,
            body[:100_000],
            session=session,
            author=viewer().username,
            now=state.now(),
            ci=request.form.get("ci", "").strip() or None,
            alertname=request.form.get("alertname", "").strip() or None,
        )
        audit(session, "article_created", f"article {article.id}")
        article_id = article.id
    return see_other(".kb_article", article_id=article_id)


@bp.route("/kb/<int:article_id>/edit", methods=["GET", "POST"])
@needs(Role.engineer)
def kb_edit(article_id: int) -> HttpResponse | Response | str:
    """Improve an article."""

    def page() -> str:
        with current_state().sessions() as session:
            return render_template(
                "console/article_new.html", a=kb.get_article_or_raise(article_id, session=session)
            )

    if request.method == "GET":
        return page()
    refused = refuse_patient_text(FIELDS, page)
    if refused is not None:
        return refused
    title, body = request.form.get("title", "").strip(), request.form.get("body", "").strip()
    if not title or not body:
        return error_page(400, f"{_('Title')}, {_('Text')}")
    with writing() as session:
        article = kb.get_article_or_raise(article_id, session=session)
        article.title, article.body = title[:300], body[:100_000]
        article.ci = request.form.get("ci", "").strip() or None
        article.alertname = request.form.get("alertname", "").strip() or None
        article.updated_at = current_state().now()
        audit(session, "article_edited", f"article {article_id}")
    return see_other(".kb_article", article_id=article_id)
