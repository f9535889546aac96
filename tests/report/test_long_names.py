"""A span name of megabytes is cut with an ellipsis where the text report shows it (rich lays a
cell out character by character, so a 63 MB name took seconds and gigabytes); the JSON report
keeps it whole."""

from __future__ import annotations

import io
import json

from rich.console import Console

from spanscope.analysis import AnalysisOptions, analyze
from spanscope.assembly import assemble
from spanscope.report import encode_report, render_report
from spanscope.synthetic import generate_spans

LONG = "GET /" + "a" * 300_000


def test_a_huge_span_name_is_cut_in_the_text_report_and_whole_in_json():
    spans = list(generate_spans(40, seed=5))
    for span in spans:
        if not span.parent_span_id:
            span.name = LONG  # every root: the name is an endpoint, a frame and a path step
    report = analyze(assemble(spans), AnalysisOptions(slow_threshold_ns=1, top=5))
    out = io.StringIO()
    render_report(report, Console(file=out, width=120, color_system=None))
    text = out.getvalue()
    assert "a" * 300 not in text
    assert "frontend:GET" in text and "a…" in text
    assert len(text) < 200_000
    document = json.loads(encode_report(report))
    assert any(e["operation"] == LONG for e in document["endpoints"])
