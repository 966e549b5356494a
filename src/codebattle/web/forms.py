"""Posted forms, for every page that takes one (players' and operators' alike): the text
fields, with the CSRF token checked. One place, so no form forgets the check."""

from __future__ import annotations

from fastapi import Request

from codebattle.web.security import SESSION, check_csrf


async def form_of(request: Request, *, by_token: bool = True) -> dict[str, str]:
    """The posted form's text fields, its CSRF token checked. A request by API token
    carries no cookie, so it needs none; `by_token=False` is for forms only the site's own
    pages may send (a gift card bought with points): without a session's token, 403."""
    data = await request.form()
    form = {key: value for key, value in data.items() if isinstance(value, str)}
    if not by_token or getattr(request.state, "auth", "") == SESSION:
        check_csrf(request, form.get("csrf_token"))
    return form
