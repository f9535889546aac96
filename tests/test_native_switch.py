"""The C extensions: both built here (CI compiles them at ``pip install -e .``: a silent
fallback to the Python paths must fail a test), and ``SPANSCOPE_NO_NATIVE`` switches every one
of them off alike (``spanscope.native_switch``)."""

from __future__ import annotations

import pytest

from spanscope.analysis import native_profile
from spanscope.formats import otlp_native
from spanscope.native_switch import VARIABLE


def test_the_profile_extension_is_built_and_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from spanscope.analysis import _profile_native

    monkeypatch.delenv(VARIABLE, raising=False)
    assert native_profile._profile_native is _profile_native
    assert native_profile.available() and otlp_native.enabled()


@pytest.mark.parametrize("value", ["1", "yes", "true", "on"])
def test_any_value_but_empty_or_zero_switches_both_off(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(VARIABLE, value)
    assert not otlp_native.enabled()
    assert not native_profile.available()


@pytest.mark.parametrize("value", ["", "0"])
def test_empty_or_zero_leaves_them_on(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(VARIABLE, value)
    assert otlp_native.enabled()
    assert native_profile.available()
