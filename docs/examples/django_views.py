"""Connect a user's Flattr account in a Django application (views.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

import flattr

auth = flattr.FlattrAuth(
    settings.FLATTR_CONSUMER_KEY,
    settings.FLATTR_CONSUMER_SECRET,
    "https://myapp.example.org/flattr/callback",
)


def save_token(user, token: flattr.AccessToken) -> None:
    """Store the user's access token (your model)."""
    raise NotImplementedError


@login_required
@require_POST
def flattr_connect(request):
    request_token = auth.fetch_request_token()
    # Django keeps session data on the server (the database, by default).
    request.session["flattr_request_token"] = request_token.to_dict()
    return redirect(auth.authorize_url(request_token, scopes=["read", "publish"]))


@login_required
@require_GET
def flattr_callback(request):
    stored = request.session.pop("flattr_request_token", None)
    if stored is None:
        return HttpResponseBadRequest("No Flattr connection is under way.")
    request_token = flattr.RequestToken.from_dict(stored)
    try:
        verifier = auth.parse_callback(request.get_full_path(), request_token)
        access_token = auth.fetch_access_token(request_token, verifier)
    except flattr.OAuthError as exc:
        if exc.problem == "denied":
            return redirect("settings")
        return HttpResponseBadRequest("Flattr did not confirm the connection.")
    save_token(request.user, access_token)
    return redirect("settings")
