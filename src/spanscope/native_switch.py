"""The one switch of spanscope's optional C extensions: the OTLP protobuf decoder
(``spanscope.formats.otlp_native``) and the critical-path profile
(``spanscope.analysis.native_profile``).

``SPANSCOPE_NO_NATIVE`` set to anything but empty or ``0`` switches them all off: the Python
paths then do the work, with the same results (to compare the two, or to work round a fault).
Read at each use, so a test or a long-running process can flip it.
"""

from __future__ import annotations

import os

VARIABLE = "SPANSCOPE_NO_NATIVE"


def switched_off() -> bool:
    """Whether the environment switches the C extensions off."""
    return os.environ.get(VARIABLE, "") not in ("", "0")
