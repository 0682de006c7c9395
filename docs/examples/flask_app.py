"""Connect a user's Flattr account in a Flask application."""

from __future__ import annotations

import os

from flask import Flask, abort, redirect, request, session, url_for

import flattr

app = Flask(__name__)
app.secret_key = os.environ["FLASK_SECRET_KEY"]

auth = flattr.FlattrAuth(
    os.environ["FLATTR_CONSUMER_KEY"],
    os.environ["FLATTR_CONSUMER_SECRET"],
    "https://myapp.example.org/flattr/callback",
)

# Request tokens between the redirect and the callback. Flask's own session is
# a signed cookie the user can read, so keep them on the server: a dict does
# for one process; use your database or cache (with a few minutes' expiry) in
# production.
PENDING: dict[str, dict[str, object]] = {}


def save_token(user_id: str, token: flattr.AccessToken) -> None:
    """Store the user's access token (your database)."""
    raise NotImplementedError


@app.post("/flattr/connect")
def connect():
    request_token = auth.fetch_request_token()
    PENDING[request_token.key] = {"user": session["user_id"], "token": request_token.to_dict()}
    return redirect(auth.authorize_url(request_token, scopes=["read", "publish"]))


@app.get("/flattr/callback")
def callback():
    key = request.args.get("oauth_token") or request.args.get("denied", "")
    pending = PENDING.pop(key, None)
    if pending is None or pending["user"] != session.get("user_id"):
        abort(400)  # unknown, used or someone else's request token
    request_token = flattr.RequestToken.from_dict(pending["token"])
    try:
        verifier = auth.parse_callback(request.url, request_token)
        access_token = auth.fetch_access_token(request_token, verifier)
    except flattr.OAuthError as exc:
        if exc.problem == "denied":
            return redirect(url_for("settings", flattr="denied"))
        abort(400)
    save_token(session["user_id"], access_token)
    return redirect(url_for("settings", flattr="connected"))
