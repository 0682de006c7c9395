"""Sphinx configuration for the flattr documentation.

Build with ``python -m sphinx -n -W -b html docs docs/_build/html`` and run
every example with ``python -m sphinx -n -W -b doctest docs docs/_build/doctest``.
The build needs no network: there is no intersphinx mapping.
"""

from __future__ import annotations

import builtins
import dataclasses
import doctest
import sys
from pathlib import Path

import flattr

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "flattr"
author = "The flattr developers"
copyright = "2010-2026, The flattr developers"
release = flattr.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
    "cli_reference",
]

exclude_patterns = ["_build"]
nitpicky = True
primary_domain = "py"
highlight_language = "python3"

# -- autodoc -------------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True}
# ``access_token: TokenLike`` would otherwise read ``access_token: object``.
autodoc_type_aliases = {
    "TokenLike": "flattr.client.TokenLike",
    # an annotation in flattr's own modules means the 0.0.1 client (v2 has one too)
    "FlattrClient": "flattr.FlattrClient",
}

# Without intersphinx (the build must work offline) references to the
# standard library cannot be resolved. Qualified names (``collections.abc.X``)
# are handled by _outside_reference below; the short names that annotations
# leave in signatures are listed here. Builtins such as ``str`` need no entry.
nitpick_ignore_regex = [
    ("py:class", r"(Callable|Iterable|Iterator|Mapping|Sequence|Any|TracebackType)"),
    ("py:class", r"(datetime|StrEnum|Path|TextIO|argparse\.ArgumentParser)"),
    # The API's fixed catalogue (categories, languages, scopes) is private;
    # docs/api.rst shows its contents through the public calls.
    ("py:data", r"flattr\._catalog\..*"),
    # Where publish_feed's mapping rules live; publish_feed's docstring states them.
    ("py:mod", r"flattr\.feeds\._mapping"),
]


#: Third-party packages docstrings mention; like the standard library, they
#: cannot be linked without intersphinx.
_THIRD_PARTY = {"defusedxml", "feedparser", "httplib2", "keyring", "oauthlib", "pytest", "trustme"}


def _outside_reference(app, env, node, contnode):  # type: ignore[no-untyped-def]
    """Render references to builtins, the standard library and dependencies as plain text.

    They are real objects (``:func:`repr```, ``:class:`os.PathLike```,
    ``:mod:`feedparser```); only their documentation is out of reach offline.
    Anything inside :mod:`flattr` must still resolve.
    """
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "").lstrip("~.")
    top, dot, _ = target.partition(".")
    if hasattr(builtins, target):
        return contnode
    # Only a qualified name (or a module) counts: a bare ``token`` or
    # ``types`` is more likely a broken reference than the stdlib module.
    qualified = bool(dot) or node.get("reftype") == "mod"
    if qualified and (top in sys.stdlib_module_names or top in _THIRD_PARTY):
        return contnode
    return None


def _dataclass_factories(  # type: ignore[no-untyped-def]
    app, what, name, obj, options, signature, return_annotation
):
    """Show ``field(default_factory=set)`` as ``= set()`` instead of ``= <factory>``.

    ``<factory>`` is not Python, so Sphinx could not parse such a signature.
    A lambda factory shows as ``= ...``.
    """
    if not signature or "<factory>" not in signature or not dataclasses.is_dataclass(obj):
        return None
    for f in dataclasses.fields(obj):
        if f.default_factory is dataclasses.MISSING:
            continue
        name = getattr(f.default_factory, "__name__", "")
        # A lambda has no name a reader could call: show "..." (computed).
        call = f"{name}()" if name.isidentifier() else "..."
        head, sep, tail = signature.partition(f"{f.name}: ")
        if sep and "<factory>" in tail:
            signature = head + sep + tail.replace("<factory>", call, 1)
    return signature, return_annotation


#: Pages another part of the project writes; listed in the table of contents
#: as soon as they exist, so that the build passes before and after they land.
_OPTIONAL_PAGES = {"performance": "   security\n"}


def _optional_pages(app, docname, source):  # type: ignore[no-untyped-def]
    """Add the optional pages that exist to index.rst's "Guides" toctree."""
    if docname != "index":
        return
    for page, after in _OPTIONAL_PAGES.items():
        if (Path(app.srcdir) / f"{page}.rst").is_file() and f"   {page}\n" not in source[0]:
            source[0] = source[0].replace(after, f"{after}   {page}\n", 1)


def _reread_index(app, env, added, changed, removed):  # type: ignore[no-untyped-def]
    """Read index.rst again on every build, in case an optional page appeared."""
    return ["index"]


def setup(app):  # type: ignore[no-untyped-def]
    app.connect("source-read", _optional_pages)
    app.connect("env-get-outdated", _reread_index)
    app.connect("missing-reference", _outside_reference)
    app.connect("autodoc-process-signature", _dataclass_factories)


# -- doctest -------------------------------------------------------------------
# Docstring examples (pulled in by autodoc) run as if inside their module,
# where the public names are in scope.
doctest_global_setup = f"""
import pathlib
import flattr
from flattr import *
DOCS = pathlib.Path({str(Path(__file__).resolve().parent)!r})
"""
doctest_default_flags = (
    doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | doctest.DONT_ACCEPT_TRUE_FOR_1
)

# -- HTML ----------------------------------------------------------------------
html_theme = "furo"
html_title = f"flattr {release}"
html_static_path: list[str] = []
html_theme_options = {
    "source_repository": "https://github.com/flattr-py/flattr",
    "source_branch": "main",
    "source_directory": "docs/",
}
