/*
 * The span decoder: OTLP protobuf TracesData -> the model's Span, Event and Link objects, as
 * the upb path in otlp_proto.py builds them (contract in module.c).
 *
 * check_traces() is the first pass: it walks the whole message without the GIL and without
 * building anything, and answers OK only when the decoder gives exactly the upb path's result.
 * parse_span() (with a SpanContext) builds one span of a message check_traces() accepted; the
 * Spans iterator (spans_object.c) and the column filler's odd spans (columns_object.c) call it.
 */
#ifndef SPANSCOPE_OTLP_DECODE_SPANS_H
#define SPANSCOPE_OTLP_DECODE_SPANS_H

#include "wire.h"

/* Set once by configure() (module.c): the model classes, the SpanKind and StatusCode members
 * in value order, the marker keys model_span takes out (ASCII), otlp_common.split_follows_from.
 * Spans() and Columns() refuse to run before. */
INTERNAL extern PyObject *SpanType, *EventType, *LinkType, *Kinds[6], *Codes[3], *SharedKey,
    *FollowsKey, *SplitFollows;
INTERNAL extern int configured;

/* Whether configure() was called; if not, RuntimeError is set. */
INTERNAL int is_configured(void);

/* Where a span is: its resource's and scope's Python values, shared by its spans. */
typedef struct {
    PyObject *resource_attributes, *service, *scope; /* borrowed; scope: (name, version, attrs) */
    const uint8_t *last_trace;                        /* 16 raw bytes of last_trace_id */
    PyObject *last_trace_id;
} SpanContext;

/* OK when the decoder reads the TracesData (or ExportTraceServiceRequest) exactly as upb does;
 * no Python objects are touched: call it without the GIL. */
INTERNAL int check_traces(const uint8_t *p, const uint8_t *end);

/* One Span of a checked message (at depth 3) into *out; ERR or (on a message check_traces()
 * did not accept) GIVEUP. ctx->last_trace_id is a new reference the caller releases. */
INTERNAL int parse_span(const uint8_t *p, const uint8_t *end, int depth, SpanContext *ctx,
                        PyObject **out);

/* The Python values of a resource (kind 0: (attributes, service)) or a scope (kind 1: (name,
 * version, attributes)) given by its bytes, cached by them in `resources` / `scopes` (dicts);
 * a new reference, or NULL with an exception. */
INTERNAL PyObject *cached(PyObject *resources, PyObject *scopes, int kind, Slice bytes);

/* Sets RuntimeError for a second pass that disagrees with the first; returns NULL. */
INTERNAL PyObject *inconsistent(void);

#endif
