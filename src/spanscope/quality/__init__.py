"""Instrumentation quality: what in the way services are instrumented makes traces broken,
misleading or costly, and how to fix it (``spanscope lint``).

- ``rules``: the rule catalogue (id, severity, why it matters, how to fix it);
- ``checks``: the per-span and per-trace checks that find each rule's cases;
- ``linter``: ``Linter``/``lint`` run the checks over assembled traces and summarise them in a
  ``LintReport`` (per rule and per service, with a score);
- ``semconv``: the deprecated semantic-convention attribute names, taken from the
  ``opentelemetry-semantic-conventions`` package.

The context-propagation anti-patterns of a request (N+1 calls, sequential calls) stay in
``spanscope.analysis.detectors``: they are about the system's behaviour, not its telemetry.

The package imports nothing itself (``python -m spanscope.quality.semconv`` runs cleanly);
import from the modules: ``from spanscope.quality.linter import lint``.
"""
