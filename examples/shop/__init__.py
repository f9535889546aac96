"""A live example: four tiny shop services instrumented by hand with the OpenTelemetry SDK,
sending traces to ``spanscope serve``. Run it with ``python -m examples.shop`` (see
``__main__``); the services have problems on purpose for spanscope to find (``README.md``)."""
