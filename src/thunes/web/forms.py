"""The pages that change something: log in, log out, and actions with a confirmation step.

An action is two steps: `GET /confirm/{action}` shows what will happen and a form; the form's
`POST /actions/{action}` carries the session's CSRF token. The result is shown once, as a
message on the overview (post, redirect, get: a reload sends nothing again).
"""

from __future__ import annotations

from aiohttp import web

from thunes.web.actions import ACTIONS, DEFAULT_KILL_REASON, ActionRefused, clean_symbol, perform
from thunes.web.auth import CSRF_FIELD, csrf_ok
from thunes.web.html import csrf_input, e, page
from thunes.web.session import SESSION_KEY, WebAuth
from thunes.web.sources import DashboardSources

WHAT = {
    "kill": "Turn the kill-switch ON: no new entries until it is turned off. Exits go on.",
    "resume": "Turn the kill-switch OFF: entries are allowed again from the next check.",
    "pause": "Pause entries (exits keep running).",
    "unpause": "Allow entries again.",
    "force-exit": "Sell the whole position of {symbol} now, at market, through the order path "
                  "like any exit (also under the kill-switch).",
}


class Forms:
    def __init__(self, sources: DashboardSources, auth: WebAuth) -> None:
        self.sources = sources
        self.auth = auth

    def install(self, app: web.Application) -> None:
        app.router.add_get("/login", self.login_page)
        app.router.add_post("/login", self.login)
        app.router.add_post("/logout", self.logout)
        app.router.add_get("/confirm/{action}", self.confirm)
        app.router.add_post("/actions/{action}", self.act)

    def _login_form(self, message: str = "", status: int = 200) -> web.Response:
        note = f'<p class="error" id="login-error">{e(message)}</p>' if message else ""
        body = (f'{note}<form method="post" action="/login" id="login-form">'
                '<p><label for="token">API token (THUNES_API_TOKEN)</label></p>'
                '<p><input type="password" id="token" name="token" autocomplete="off" '
                'autofocus required></p><p><button type="submit" id="login">Log in</button>'
                "</p></form>")
        return page(self.sources, "Log in", body, status=status)

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        if request.get(SESSION_KEY) is not None:
            raise web.HTTPSeeOther("/")
        return self._login_form()

    async def login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        given = form.get("token")
        outcome = self.auth.login(request, given if isinstance(given, str) else "")
        if outcome.wait_s:
            response = self._login_form(
                f"Too many bad logins: try again in {outcome.retry_after} s.", status=429)
            response.headers["Retry-After"] = str(outcome.retry_after)
            return response
        if outcome.session is None:
            return self._login_form("Wrong token.", status=401)
        response = web.HTTPSeeOther("/")
        self.auth.set_cookie(response, outcome.session_id)
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        session = request.get(SESSION_KEY)
        form = await request.post()
        if session is not None and csrf_ok(session, _field(form, CSRF_FIELD)):
            self.auth.logout(request)
        response = web.HTTPSeeOther("/login")
        self.auth.clear_cookie(response)
        return response

    async def confirm(self, request: web.Request) -> web.StreamResponse:
        session = request.get(SESSION_KEY)
        if session is None:
            raise web.HTTPSeeOther("/login")
        action = request.match_info["action"]
        if action not in ACTIONS:
            raise web.HTTPNotFound(text="no such action")
        fields = csrf_input(session)
        what = WHAT[action]
        if action == "force-exit":
            try:
                symbol = clean_symbol(request.query.get("symbol"))
            except ActionRefused as refused:
                return page(self.sources, "Confirm", f'<p class="error">{e(refused)}</p>',
                            session=session, status=400)
            what = what.format(symbol=symbol)
            fields += f'<input type="hidden" name="symbol" value="{e(symbol)}">'
        if action == "kill":
            fields += ('<p><label for="reason">Reason (kept in the audit trail)</label></p>'
                       f'<p><input type="text" id="reason" name="reason" maxlength="200" '
                       f'value="{e(DEFAULT_KILL_REASON)}"></p>')
        body = (f'<p id="confirm-what">{e(what)}</p>'
                f'<form method="post" action="/actions/{e(action)}" id="confirm-form">{fields}'
                '<div class="actions"><button type="submit" class="danger" id="confirm">'
                'Confirm</button><a class="button plain" href="/" id="cancel">Cancel</a></div>'
                "</form>")
        return page(self.sources, f"Confirm: {action}", body, session=session)

    async def act(self, request: web.Request) -> web.StreamResponse:
        session = request.get(SESSION_KEY)
        if session is None:
            raise web.HTTPSeeOther("/login")
        form = await request.post()
        if not csrf_ok(session, _field(form, CSRF_FIELD)):
            return page(self.sources, "Refused",
                        '<p class="error">The form has expired (no valid CSRF token). '
                        'Go back to the <a href="/">overview</a> and try again.</p>',
                        session=session, status=403)
        try:
            result = await perform(self.sources, request.match_info["action"],
                                   symbol=_field(form, "symbol"), reason=_field(form, "reason"))
        except ActionRefused as refused:
            session.flash.append(f"Refused: {refused}")
        else:
            session.flash.append(result.message)
        raise web.HTTPSeeOther("/")


def _field(form: object, name: str) -> str | None:
    value = form.get(name) if hasattr(form, "get") else None
    return value if isinstance(value, str) else None
