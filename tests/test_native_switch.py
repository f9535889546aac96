"""``SPANSCOPE_NO_NATIVE`` switches every C extension off alike (``spanscope.native_switch``)."""

from __future__ import annotations

import pytest

from spanscope.analysis import native_profile
from spanscope.formats import otlp_native


@pytest.mark.parametrize("value", ["1", "yes", "true", "on"])
def test_any_value_but_empty_or_zero_switches_both_off(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SPANSCOPE_NO_NATIVE", value)
    assert not otlp_native.enabled()
    assert not native_profile.available()


@pytest.mark.parametrize("value", [None, "", "0"])
def test_empty_or_zero_leaves_them_as_built(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("SPANSCOPE_NO_NATIVE", raising=False)
    else:
        monkeypatch.setenv("SPANSCOPE_NO_NATIVE", value)
    assert otlp_native.enabled() is otlp_native.AVAILABLE
    assert native_profile.available() is (native_profile._profile_native is not None)
