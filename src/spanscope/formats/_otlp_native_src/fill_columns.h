/*
 * The column filler: the spans of OTLP protobuf requests straight into the store's Arrow
 * column buffers (spanscope.store.otlp_columns wraps them), without the GIL and without model
 * spans (contract in module.c). A span it cannot write exactly as
 * spanscope.store.columns.encode_batch would is "odd": nothing of it goes into the buffers,
 * and its place is kept for the caller (columns_object.c), who builds it as a model Span.
 */
#ifndef SPANSCOPE_OTLP_FILL_COLUMNS_H
#define SPANSCOPE_OTLP_FILL_COLUMNS_H

#include "buffers.h"

enum {
    /* One value (or list entry) a span: rolled back when the span turns out odd. */
    B_START, B_TRACE_OFF, B_TRACE, B_SPAN_OFF, B_SPAN, B_PARENT_OFF, B_PARENT, B_STATE_OFF,
    B_STATE, B_NAME_OFF, B_NAME, B_KIND, B_SERVICE_OFF, B_SERVICE, B_RESOURCE,
    B_SCOPE_NAME_OFF, B_SCOPE_NAME, B_SCOPE_VERSION_OFF, B_SCOPE_VERSION, B_ATTRS_OFF, B_ATTRS,
    B_DURATION, B_STATUS, B_MESSAGE_OFF, B_MESSAGE, B_EVENTS, B_EVENT_TIME, B_EVENT_NAME_OFF,
    B_EVENT_NAME, B_EVENT_ATTRS_OFF, B_EVENT_ATTRS, B_LINKS, B_LINK_TRACE_OFF, B_LINK_TRACE,
    B_LINK_SPAN_OFF, B_LINK_SPAN, B_LINK_STATE_OFF, B_LINK_STATE, B_LINK_ATTRS_OFF,
    B_LINK_ATTRS, B_LINK_FLAGS, B_SCOPE, B_FLAGS, B_SPAN_COUNT,
    /* Per distinct resource, scope and trace of the batch. */
    B_RES_JSON_OFF = B_SPAN_COUNT, B_RES_JSON, B_SCOPE_JSON_OFF, B_SCOPE_JSON, B_RANGE_ID_OFF,
    B_RANGE_ID, B_RANGE_START, B_RANGE_END, B_RANGE_KEY, B_COUNT
};

/* The buffers' names (COLUMN_BUFFERS), in the order above. */
INTERNAL extern const char *const BUFFER_NAMES[B_COUNT];

/* Why fill_message() answered ERR. */
enum { FAIL_NONE, FAIL_MEMORY, FAIL_INCONSISTENT, FAIL_TOO_BIG };

typedef struct {
    Slice span, resource, scope;
    int64_t position; /* among all the spans of the batch */
} OddSpan;

typedef struct {
    Slice service, name, version; /* service of a resource; name, version of a scope */
    int odd;                      /* its attributes are not for the columns: its spans are odd */
} Shared;

/* The columns of a batch so far. */
typedef struct {
    Buf b[B_COUNT];
    Map resources, scopes, traces, operations; /* operations: (kind, service, name) keys */
    Shared *resource_info, *scope_info;
    size_t resource_cap, scope_cap;
    int32_t n_resources, n_scopes, n_ranges;
    int64_t rows, events, links, spans;
    OddSpan *odd;
    size_t n_odd, odd_cap;
    Buf scratch;
    int fail;
} Fill;

INTERNAL int fill_init(Fill *f);
INTERNAL void fill_free(Fill *f);

/* Every span of one message scan_message() took, in order; ERR with f->fail set (the fill is
 * then half-written: unusable). No Python objects are touched: call it without the GIL. */
INTERNAL int fill_message(Fill *f, const uint8_t *p, const uint8_t *end);

/* The span count of a message check_traces() accepts, else -1. Without the GIL. */
INTERNAL int64_t scan_message(const uint8_t *p, const uint8_t *end);

#endif
