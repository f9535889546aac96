"""The shipped table of deprecated attribute names against the installed
``opentelemetry-semantic-conventions`` package it was taken from."""

from __future__ import annotations

import json
from importlib import resources

from spanscope.quality import semconv


def test_the_table_is_what_the_package_says():
    shipped = json.loads(
        resources.files("spanscope.quality").joinpath("deprecated_attributes.json").read_text()
    )
    installed = semconv.table_from_package()
    if shipped["source"] == f"opentelemetry-semantic-conventions {semconv.package_version()}":
        assert shipped["deprecated"] == installed
    else:
        # A newer package only adds deprecations (or rewords them): ours are all still there.
        # Run `python -m spanscope.quality.semconv` to take the new ones.
        assert set(shipped["deprecated"]) <= set(installed)


def test_well_known_renames():
    assert semconv.replacement("http.method") == "http.request.method"
    assert semconv.replacement("http.status_code") == "http.response.status_code"
    assert semconv.replacement("net.peer.name") == "server.address or client.address"
    assert semconv.replacement("http.target") == "url.path or url.query"
    assert semconv.replacement("db.statement") == "db.query.text"


def test_keys_only_moved_between_modules_are_not_deprecated():
    # The package deprecates its incubating constants in favour of stable ones with the same
    # key; the keys themselves are current.
    for current in ("http.request.method", "server.address", "url.full", "db.query.text"):
        assert current not in semconv.DEPRECATED
