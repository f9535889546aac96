"""Build the optional C extensions: OTLP protobuf (``spanscope.formats._otlp_native``) and the
critical-path profile of Jaeger JSON (``spanscope.analysis._profile_native``).

Everything else about the package is in pyproject.toml. The extensions are optional: without a C
compiler the install still succeeds and the Python paths do the work instead (slower, same
results: upb for OTLP protobuf, the Jaeger projection and the Python walk for the profile).
The sources of each are in a folder beside where it goes, named like it with ``_src`` added
(the layout is in its ``module.c``'s header comment): one extension module built from several
files. The folder is not named like the module: without a compiler, that folder would be
imported in place of the missing extension (as an empty namespace package).
"""

from pathlib import Path

from setuptools import Extension, setup


def extension(module: str) -> Extension:
    """The optional extension ``spanscope.<module>``, built from the ``*.c`` of the folder named
    like it with ``_src`` added (``formats._otlp_native``: ``formats/_otlp_native_src/``)."""
    package, name = module.rsplit(".", 1)
    sources = Path("src/spanscope", *package.split("."), f"{name}_src")
    return Extension(
        f"spanscope.{module}",
        sorted(path.as_posix() for path in sources.glob("*.c")),
        # The headers: a change to one rebuilds the extension, and sdists carry them.
        depends=sorted(path.as_posix() for path in sources.glob("*.h")),
        optional=True,
    )


setup(ext_modules=[extension("formats._otlp_native"), extension("analysis._profile_native")])
