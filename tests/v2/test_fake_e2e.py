"""Every public v2 name against FakeFlattr over real HTTP: the OAuth 2 flow, then every method."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

import flattr
from flattr import v2
from flattr.errors import (
    Advice,
    APIError,
    AuthenticationError,
    ClientError,
    ForbiddenError,
    NotFoundError,
    OAuthError,
    RateLimitError,
)
from flattr.testing import FakeFlattr

ALL_V2 = ("flattr", "thing", "email", "extendedread")


@pytest.fixture
def fake() -> Iterator[FakeFlattr]:
    with FakeFlattr() as server:
        yield server


def _auth(fake: FakeFlattr) -> v2.FlattrAuth:
    app = fake.oauth2_client
    return v2.FlattrAuth(
        app.client_id, app.client_secret, app.redirect_uri, base_url=fake.base_url, timeout=10
    )


def _client(
    fake: FakeFlattr, scopes: tuple[str, ...] = ALL_V2, user: object = None
) -> v2.FlattrClient:
    token = fake.issue_v2_token(user, scopes=scopes)  # type: ignore[arg-type]
    return v2.FlattrClient(
        v2.AccessToken(token.token, token.scopes), base_url=fake.base_url, timeout=10
    )


def test_from_authorize_url_to_a_flattred_thing(fake: FakeFlattr) -> None:
    bob = fake.add_user("bob")
    fake.add_thing(bob, url="https://bob.example/post", title="Bob's post")
    with _auth(fake) as auth:
        url = auth.authorize_url(scopes=("flattr", "thing"), state="s1")
        assert url.startswith(f"{fake.base_url}/oauth/authorize?response_type=code&client_id=")
        consent = fake.consent_v2(url)
        assert consent.redirect_url is not None
        code = auth.parse_callback(consent.redirect_url, state="s1")
        token = auth.fetch_token(code)
    assert set(token.scopes) == {"flattr", "thing"}
    assert token.token not in repr(token)
    with v2.FlattrClient(token, base_url=fake.base_url, timeout=10) as api:
        assert api.me().username == fake.user.username
        thing = api.lookup("https://bob.example/post")
        assert thing is not None and thing.flattred is False
        api.flattr(thing.id)
        assert api.thing(thing.id).flattred is True
        with pytest.raises(ForbiddenError) as again:
            api.flattr(thing.id)
        assert again.value.code == "flattr_once"


def test_a_used_code_is_refused_with_the_servers_problem(fake: FakeFlattr) -> None:
    with _auth(fake) as auth:
        consent = fake.consent_v2(auth.authorize_url(scopes=("flattr",), state="x"))
        assert consent.redirect_url is not None
        code = auth.parse_callback(consent.redirect_url, state="x")
        auth.fetch_token(code)
        with pytest.raises(OAuthError) as caught:
            auth.fetch_token(code)
    assert caught.value.problem == "invalid_grant"
    assert caught.value.status == 400


def test_denied_consent_and_a_forged_state(fake: FakeFlattr) -> None:
    with _auth(fake) as auth:
        denied = fake.consent_v2(auth.authorize_url(scopes=("flattr",), state="s2"), allow=False)
        assert denied.redirect_url is not None
        with pytest.raises(OAuthError) as caught:
            auth.parse_callback(denied.redirect_url, state="s2")
        assert caught.value.problem == "access_denied"
        allowed = fake.consent_v2(auth.authorize_url(scopes=("flattr",), state="s3"))
        assert allowed.redirect_url is not None
        with pytest.raises(OAuthError) as forged:
            auth.parse_callback(allowed.redirect_url, state="another")
        assert forged.value.problem == "state_mismatch"


def test_a_wrong_client_secret_is_an_oauth_error(fake: FakeFlattr) -> None:
    app = fake.oauth2_client
    good = _auth(fake)
    consent = fake.consent_v2(good.authorize_url(scopes=("flattr",)))
    assert consent.code is not None
    bad = v2.FlattrAuth(app.client_id, "wrong", app.redirect_uri, base_url=fake.base_url)
    with pytest.raises(OAuthError) as caught:
        bad.fetch_token(consent.code)
    assert caught.value.problem == "invalid_client" and caught.value.status == 401


def test_every_read(fake: FakeFlattr) -> None:
    bob = fake.add_user("bob")
    first = fake.add_thing(bob, url="https://bob.example/1", title="First post", tags=("a", "b"))
    fake.add_thing(bob, url="https://bob.example/2", title="Second post", category="audio")
    fake.add_flattr(fake.user, first)
    with _client(fake) as api:
        me = api.me()
        assert me.email is not None and isinstance(me.registered, datetime)
        assert me.registered.tzinfo is UTC
        assert api.user("bob").username == "bob"
        ids = sorted(t.id for t in api.user_things("bob"))
        assert len(ids) == 2
        one = api.thing(ids[0])
        assert one.owner.username == "bob" and one.created.tzinfo is UTC
        assert [t.id for t in api.things(ids)] == ids
        assert api.things([999_999]) == ()
        with pytest.raises(NotFoundError):
            api.thing(999_999)
        assert [t.title for t in api.search("second")] == ["Second post"]
        assert [t.title for t in api.search(category="audio")] == ["Second post"]
        assert [t.title for t in api.search(user="bob", tags="a")] == ["First post"]
        mine = list(api.flattrs())
        assert [f.thing.id for f in mine] == [first.int_id]
        assert mine[0].owner.username == fake.user.username
        assert [f.thing.id for f in api.flattrs(fake.user.username)] == [first.int_id]
        assert api.lookup("https://bob.example/nothing") is None
        assert [c.id for c in api.categories()][:2] == ["text", "images"]
        assert api.languages()[0] == flattr.Language(id="en_GB", name="English")
        limit = api.rate_limit()
        assert limit.limit > 0 and limit.reset.tzinfo is UTC


def test_every_write(fake: FakeFlattr) -> None:
    bob = fake.add_user("bob")
    theirs = fake.add_thing(bob, url="https://bob.example/x", title="Bob's thing")
    with _client(fake) as api:
        new_id = api.create_thing(
            "https://alice.example/new",
            title="New thing",
            description="About it",
            category="software",
            language="sv_SE",
            tags=("py", "v2"),
        )
        made = api.thing(new_id)
        assert (made.title, made.category, made.language, made.tags) == (
            "New thing",
            "software",
            "sv_SE",
            ("py", "v2"),
        )
        assert [t.id for t in api.user_things()] == [new_id]
        api.update_thing(new_id, title="Renamed", hidden=True)
        updated = api.thing(new_id)
        assert updated.title == "Renamed" and updated.hidden is True
        with pytest.raises(ClientError) as duplicate:
            api.create_thing("https://alice.example/new")
        assert duplicate.value.code == "validation" and isinstance(duplicate.value, APIError)
        with pytest.raises(ForbiddenError) as own:
            api.flattr(new_id)
        assert own.value.code == "flattr_owner"
        api.subscribe(theirs.int_id)
        (sub,) = api.subscriptions()
        assert sub.thing.id == theirs.int_id and sub.paused is False
        api.unsubscribe(theirs.int_id)
        assert api.subscriptions() == ()
        link = flattr.auto_submit_url(
            user_id="bob", url="https://bob.example/new-episode", title="Episode 9"
        )
        flattred = api.flattr_url(link)
        assert api.thing(flattred).title == "Episode 9"
        api.delete_thing(new_id)
        with pytest.raises(NotFoundError):
            api.thing(new_id)


def test_scopes_and_tokens_are_enforced(fake: FakeFlattr) -> None:
    bob = fake.add_user("bob")
    theirs = fake.add_thing(bob, url="https://bob.example/x", title="Bob's thing")
    with _client(fake, scopes=()) as reader:
        with pytest.raises(ForbiddenError) as caught:
            reader.flattr(theirs.int_id)
        assert caught.value.code == "insufficient_scope"
        assert caught.value.missing_scope == "flattr"
        assert caught.value.advice is Advice.ADD_SCOPE
    with _client(fake) as api:
        with pytest.raises(ForbiddenError) as not_mine:
            api.delete_thing(theirs.int_id)
        assert not_mine.value.code == "forbidden"
        assert not_mine.value.advice is Advice.NOT_ALLOWED
    token = fake.issue_v2_token(scopes=ALL_V2)
    fake.revoke_v2_token(token)
    with v2.FlattrClient(token.token, base_url=fake.base_url, timeout=10) as revoked:
        with pytest.raises(AuthenticationError) as bad:
            revoked.me()
        assert bad.value.code == "unauthorized"
        assert bad.value.advice is Advice.AUTHORIZE_AGAIN


def test_no_means_is_a_401_with_its_code(fake: FakeFlattr) -> None:
    bob = fake.add_user("bob")
    theirs = fake.add_thing(bob, url="https://bob.example/x", title="Bob's thing")
    fake.set_means(fake.user, 0)
    with _client(fake) as api, pytest.raises(AuthenticationError) as caught:
        api.flattr(theirs.int_id)
    assert caught.value.code == "no_means"


def test_the_rate_limit_answers_a_rate_limit_error() -> None:
    with FakeFlattr(v2_rate_limit=2) as fake, _client(fake) as api:
        api.me()
        api.me()
        with pytest.raises(RateLimitError) as caught:
            api.me()
        assert caught.value.code == "rate_limit_exceeded"
        assert caught.value.reset is not None and caught.value.reset > 0
        assert api.rate_limit().remaining == 0


def test_anonymous_reads_against_the_fake(fake: FakeFlattr) -> None:
    bob = fake.add_user("bob")
    thing = fake.add_thing(bob, url="https://bob.example/x", title="Bob's thing")
    with v2.FlattrClient(None, base_url=fake.base_url, timeout=10) as anonymous:
        seen = anonymous.thing(thing.int_id)
        assert seen.flattred is None and seen.subscribed is None
        found = anonymous.lookup("https://bob.example/x")
        assert found is not None and found.id == thing.int_id


def test_over_tls_with_ca_certs() -> None:
    with FakeFlattr(tls=True) as fake:
        assert fake.base_url.startswith("https://") and fake.ca_bundle
        app = fake.oauth2_client
        auth = v2.FlattrAuth(
            app.client_id,
            app.client_secret,
            app.redirect_uri,
            base_url=fake.base_url,
            ca_certs=fake.ca_bundle,
        )
        consent = fake.consent_v2(auth.authorize_url(scopes=("flattr",), state="t"))
        assert consent.redirect_url is not None
        token = auth.fetch_token(auth.parse_callback(consent.redirect_url, state="t"))
        with v2.FlattrClient(token, base_url=fake.base_url, ca_certs=fake.ca_bundle) as api:
            assert api.me().username == fake.user.username
        # without the CA bundle, verification fails: it is never turned off
        with (
            v2.FlattrClient(token, base_url=fake.base_url, timeout=5) as untrusting,
            pytest.raises(flattr.TLSError),
        ):
            untrusting.me()


def test_things_with_one_id_reads_the_single_object(fake: FakeFlattr) -> None:
    bob = fake.add_user("bob")
    thing = fake.add_thing(bob, url="https://bob.example/1", title="Only one")
    with v2.FlattrClient(None, base_url=fake.base_url, timeout=10) as api:
        (only,) = api.things([thing.int_id])
        assert only.title == "Only one"
