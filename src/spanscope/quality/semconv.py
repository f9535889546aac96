"""Attribute names the OpenTelemetry semantic conventions deprecated, and what replaces them.

``DEPRECATED`` maps a deprecated attribute key (``http.method``) to the conventions' advice
(``Replaced by `http.request.method`.``, names in backquotes) and ``replacement(key)`` gives
the short form (``http.request.method``) for reports. The table is loaded from
``deprecated_attributes.json`` beside this module: data taken from the
``opentelemetry-semantic-conventions`` package, which marks each deprecated attribute in its
generated sources with a ``Deprecated: ...`` docstring; run
``python -m spanscope.quality.semconv`` to write it again after upgrading that package (a test
fails until the two agree). A table is shipped rather than read at run time because the package
keeps these under a private ``_incubating`` name and parsing its ~100 modules would cost a
noticeable part of a second on every run.

Constants the package deprecates "in favour of the stable" constant of the same name are not
deprecated attribute keys (only the Python constant moved) and are left out.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
from importlib import resources
from pathlib import Path

_TABLE_FILE = "deprecated_attributes.json"
_NAME = re.compile(r"`([a-z0-9_.\-]+)`")
_SAME_KEY_MOVED = "Deprecated in favor of stable"


def _load() -> dict[str, str]:
    text = resources.files(__package__).joinpath(_TABLE_FILE).read_text(encoding="utf-8")
    return json.loads(text)["deprecated"]


DEPRECATED: dict[str, str] = _load()


def _advice(docstring: str) -> str | None:
    """The advice for one ``Deprecated: ...`` docstring, or None when it deprecates no key."""
    text = " ".join(docstring.split())
    if not text.startswith("Deprecated"):
        return None
    if text.startswith(_SAME_KEY_MOVED):
        return None
    return text.removeprefix("Deprecated:").strip()


def replacement(key: str) -> str:
    """What to use instead of the deprecated ``key``: the attribute names its advice gives,
    or the advice itself when it names none (``Removed, no replacement at this time.``)."""
    advice = DEPRECATED[key]
    names = _NAME.findall(advice)
    return " or ".join(dict.fromkeys(names)) if names else advice


def table_from_package() -> dict[str, str]:
    """The deprecated keys as the installed ``opentelemetry-semantic-conventions`` states them."""
    from opentelemetry.semconv._incubating import attributes

    result: dict[str, str] = {}
    for module in sorted(Path(attributes.__path__[0]).glob("*_attributes.py")):
        body = ast.parse(module.read_text(encoding="utf-8")).body
        for statement, following in itertools.pairwise(body):
            if not (
                isinstance(statement, ast.AnnAssign)
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                continue
            advice = _advice(following.value.value)
            if advice is not None:
                result[statement.value.value] = advice
    return dict(sorted(result.items()))


def package_version() -> str:
    from importlib.metadata import version

    return version("opentelemetry-semantic-conventions")


def main() -> None:
    """Write the table again from the installed package."""
    target = Path(__file__).with_name(_TABLE_FILE)
    document = {"source": f"opentelemetry-semantic-conventions {package_version()}"}
    document["deprecated"] = table_from_package()  # type: ignore[assignment]
    target.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{target.name}: {len(document['deprecated'])} deprecated keys")


if __name__ == "__main__":
    main()
