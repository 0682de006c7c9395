"""The HTML a browser sees on the fake: consent, PIN, denied and error pages.

Small, self-contained pages (inline CSS, no scripts, no external assets).
Every value put into them goes through :func:`html.escape`.
"""

from __future__ import annotations

from html import escape

#: Plain words for each scope, as the consent page lists them.
SCOPE_WORDS = {
    "read": "See your public profile and things",
    "click": "Flattr things for you",
    "publish": "Register new things in your name",
    "extendedread": "See your private details, such as your e-mail address",
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;"
    "color:#222}h1{font-size:1.4rem}ul{padding-left:1.2rem}button{font-size:1rem;"
    "padding:.5rem 1.2rem;margin-right:.6rem;border-radius:.3rem;border:1px solid #888}"
    "#allow{background:#7ab648;color:#fff;border-color:#5a9230}"
    "#verifier{font:bold 2rem monospace;letter-spacing:.2rem}"
)


def _page(title: str, body: str) -> bytes:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    ).encode()


def consent_page(
    *,
    action: str,
    app_name: str,
    username: str,
    scopes: tuple[str, ...],
    token: str,
    access_scope: str,
    form_key: str,
) -> bytes:
    """The page asking the logged-in user to allow or deny an application.

    :param action: the path the form posts back to.
    :param app_name: the consumer's name.
    :param username: who is logged in.
    :param scopes: the normalised scopes asked for.
    :param token: the request token (a hidden field).
    :param access_scope: the raw ``access_scope`` value (a hidden field).
    :param form_key: a per-token value the POST must echo.
    """
    items = "\n".join(f"<li>{escape(SCOPE_WORDS[s])}</li>" for s in scopes)
    body = (
        f"<h1>Allow {escape(app_name)} to use your Flattr account?</h1>\n"
        f'<p>You are logged in as <strong id="username">{escape(username)}</strong>.</p>\n'
        f'<p><strong id="app">{escape(app_name)}</strong> asks to:</p>\n'
        f'<ul id="scopes">\n{items}\n</ul>\n'
        f'<form method="post" action="{escape(action)}">\n'
        f'<input type="hidden" name="oauth_token" value="{escape(token)}">\n'
        f'<input type="hidden" name="access_scope" value="{escape(access_scope)}">\n'
        f'<input type="hidden" name="form_key" value="{escape(form_key)}">\n'
        '<button type="submit" id="allow" name="decision" value="allow">Allow</button>\n'
        '<button type="submit" id="deny" name="decision" value="deny">Deny</button>\n'
        "</form>"
    )
    return _page("Authorize application - Flattr", body)


def pin_page(app_name: str, verifier: str) -> bytes:
    """The out-of-band page showing the verifier to type into the application."""
    body = (
        f"<h1>You allowed {escape(app_name)}</h1>\n"
        "<p>Type this code into the application to finish:</p>\n"
        f'<p id="verifier">{escape(verifier)}</p>'
    )
    return _page("Your code - Flattr", body)


def denied_page(app_name: str) -> bytes:
    """The out-of-band page after the user refused."""
    body = (
        f'<h1 id="denied">You denied {escape(app_name)}</h1>\n'
        "<p>The application cannot use your Flattr account. You can close this page.</p>"
    )
    return _page("Access denied - Flattr", body)


def error_page(message: str) -> bytes:
    """A plain error page (unknown or used token, bad form)."""
    return _page(
        "Error - Flattr", f'<h1>Something is wrong</h1>\n<p id="error">{escape(message)}</p>'
    )
