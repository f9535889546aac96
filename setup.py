"""Build the optional C extension for OTLP protobuf (``spanscope.formats._otlp_native``).

Everything else about the package is in pyproject.toml. The extension is optional: without a C
compiler the install still succeeds and OTLP protobuf is read through upb instead (slower, same
results). Its sources are in ``src/spanscope/formats/_otlp_native_src/`` (the layout is in
``module.c``'s header comment): one extension module built from several files. The folder is not
named ``_otlp_native``: without a compiler, that folder would be imported in place of the
missing extension (as an empty namespace package).
"""

from pathlib import Path

from setuptools import Extension, setup

SOURCES = Path("src/spanscope/formats/_otlp_native_src")

setup(
    ext_modules=[
        Extension(
            "spanscope.formats._otlp_native",
            sorted(path.as_posix() for path in SOURCES.glob("*.c")),
            # The headers: a change to one rebuilds the extension, and sdists carry them.
            depends=sorted(path.as_posix() for path in SOURCES.glob("*.h")),
            optional=True,
        )
    ]
)
