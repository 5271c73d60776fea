"""HTML helpers: the shared layout (a package template), tables, forms. Every value is escaped.

Nothing here loads from outside THUNES: the layout links only `/static/...`, served from the
package's own files.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from html import escape
from importlib import resources
from string import Template

from aiohttp import web

from thunes.reports.format import fmt_time
from thunes.web.auth import CSRF_FIELD, Session
from thunes.web.sources import DashboardSources

NAV = (("/", "Overview"), ("/trades", "Trades & orders"), ("/jobs", "Jobs & breakers"),
       ("/ranking", "Ranking"))


@cache
def _layout() -> Template:
    text = resources.files("thunes.web").joinpath("templates/layout.html").read_text("utf-8")
    return Template(text)


def e(value: object) -> str:
    return escape("" if value is None else str(value))


def page(
    sources: DashboardSources, title: str, body: str, *, session: Session | None = None,
    status: int = 200,
) -> web.Response:
    """A whole page in the layout; the session's flash messages are shown once."""
    mode = sources.mode or "?"
    flash = ""
    if session is not None and session.flash:
        flash = "".join(f'<div class="flash" role="status">{e(m)}</div>' for m in session.flash)
        session.flash.clear()
    nav = "".join(f'<a href="{href}">{e(text)}</a>' for href, text in NAV) if session else ""
    user = ""
    if session is not None:
        user = (f'<form method="post" action="/logout">{csrf_input(session)}'
                '<button type="submit" class="plain">Log out</button></form>')
    html = _layout().substitute(
        title=e(title), mode=e(mode.upper()), mode_class=e(mode.lower()), nav=nav, user=user,
        flash=flash, body=body, version=e(sources.version), now=e(fmt_time(sources.clock.now())),
    )
    return web.Response(text=html, content_type="text/html", status=status)


def csrf_input(session: Session) -> str:
    return f'<input type="hidden" name="{CSRF_FIELD}" value="{e(session.csrf)}">'


def table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], *, numeric: Iterable[int] = (),
    table_id: str = "", empty: str = "none",
) -> str:
    """A table; columns in `numeric` align right. Cells are escaped unless wrapped in `Raw`."""
    right = set(numeric)
    head = "".join(
        f'<th{" class=num" if i in right else ""}>{e(h)}</th>' for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = "".join(
            f'<td{" class=num" if i in right else ""}>{_cell(c)}</td>' for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    if not body:
        return f'<p class="empty" id="{e(table_id)}-empty">{e(empty)}</p>' if table_id else (
            f'<p class="empty">{e(empty)}</p>')
    ident = f' id="{e(table_id)}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class Raw(str):
    """Markup built here (already escaped) that a table cell keeps as it is."""


def _cell(value: object) -> str:
    return str(value) if isinstance(value, Raw) else e(value)


def card(label: str, value: str, *, ident: str, tone: str = "") -> str:
    cls = f"value {tone}".strip()
    return (f'<div class="card"><div class="label">{e(label)}</div>'
            f'<div class="{cls}" id="{e(ident)}">{e(value)}</div></div>')
