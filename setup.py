"""Build the optional C decoder for OTLP protobuf (``spanscope.formats._otlp_native``).

Everything else about the package is in pyproject.toml. The extension is optional: without a C
compiler the install still succeeds and OTLP protobuf is read through upb instead (slower, same
results).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "spanscope.formats._otlp_native",
            ["src/spanscope/formats/_otlp_native.c"],
            optional=True,
        )
    ]
)
