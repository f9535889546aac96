/*
 * The span decoder's messages: Event, Link, Span, Resource, InstrumentationScope, and the first
 * pass over ResourceSpans and ScopeSpans (see decode_spans.h). Fields are read by fields.h,
 * which the column filler shares; values are built by decode_values.c.
 */
#include "decode_spans.h"

#include "decode_values.h"
#include "fields.h"

#define CACHE_LIMIT 4096 /* resources or scopes kept by cached() before it starts over */

PyObject *SpanType, *EventType, *LinkType, *Kinds[6], *Codes[3], *SharedKey, *FollowsKey,
    *SplitFollows;
int configured;

int is_configured(void) {
    if (!configured)
        PyErr_SetString(PyExc_RuntimeError, "_otlp_native.configure() was not called");
    return configured;
}

PyObject *inconsistent(void) {
    PyErr_SetString(PyExc_RuntimeError,
                    "spanscope native OTLP decoder: second pass disagrees with the first");
    return NULL;
}

static int parse_event(const uint8_t *p, const uint8_t *end, int depth, int build,
                       PyObject **out) {
    EventFields f;
    Slice item;
    PyObject *attrs = NULL, *args[4] = {NULL, NULL, NULL, NULL};
    int field, rc, marked = 0;
    if (depth > MAX_DEPTH) return GIVEUP;
    if (build && (attrs = PyDict_New()) == NULL) return ERR;
    event_fields_init(&f, p);
    while ((field = event_next(&p, end, !build, &f, &item)) > 0) {
        rc = parse_attribute(item, depth, build, attrs, NULL, &marked);
        if (rc == ERR) goto error;
        if (rc) goto giveup;
    }
    if (field < 0 || !time_ok(f.time)) goto giveup;
    if (!build) return OK;
    args[2] = attrs;
    if ((args[0] = PyLong_FromUnsignedLongLong(f.time)) == NULL ||
        (args[1] = make_str(f.name)) == NULL ||
        (args[3] = PyLong_FromUnsignedLong(f.dropped)) == NULL)
        goto error;
    *out = PyObject_Vectorcall(EventType, args, 4, NULL);
    for (int i = 0; i < 4; i++) Py_XDECREF(args[i]);
    return *out == NULL ? ERR : OK;
giveup:
    Py_XDECREF(attrs);
    return GIVEUP;
error:
    for (int i = 0; i < 4; i++) Py_XDECREF(args[i]);
    if (args[2] == NULL) Py_XDECREF(attrs);
    return ERR;
}

/* *follows_marker = 1 when the link has the FOLLOWS_FROM marker attribute. */
static int parse_link(const uint8_t *p, const uint8_t *end, int depth, int build,
                      PyObject **out, int *follows_marker) {
    LinkFields f;
    Slice item;
    PyObject *attrs = NULL, *args[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
    int field, rc;
    if (depth > MAX_DEPTH) return GIVEUP;
    if (build && (attrs = PyDict_New()) == NULL) return ERR;
    link_fields_init(&f, p);
    while ((field = link_next(&p, end, !build, &f, &item)) > 0) {
        rc = parse_attribute(item, depth, build, attrs, FollowsKey, follows_marker);
        if (rc == ERR) goto error;
        if (rc) goto giveup;
    }
    if (field < 0 || !link_fields_ok(&f)) goto giveup;
    if (!build) return OK;
    args[3] = attrs;
    if ((args[0] = make_hex(f.trace)) == NULL || (args[1] = make_hex(f.span)) == NULL ||
        (args[2] = make_str(f.state)) == NULL ||
        (args[4] = PyLong_FromUnsignedLong(f.flags)) == NULL ||
        (args[5] = PyLong_FromUnsignedLong(f.dropped)) == NULL)
        goto error;
    *out = PyObject_Vectorcall(LinkType, args, 6, NULL);
    for (int i = 0; i < 6; i++) Py_XDECREF(args[i]);
    return *out == NULL ? ERR : OK;
giveup:
    Py_XDECREF(attrs);
    return GIVEUP;
error:
    for (int i = 0; i < 6; i++) Py_XDECREF(args[i]);
    if (args[3] == NULL) Py_XDECREF(attrs);
    return ERR;
}

/* Span field positions in args[] of Span(...): the model's field order, as model_span passes. */
enum {
    A_TRACE, A_SPAN, A_NAME, A_START, A_END, A_PARENT, A_KIND, A_SERVICE, A_CODE, A_MESSAGE,
    A_ATTRS, A_RESOURCE, A_SCOPE_NAME, A_SCOPE_VERSION, A_SCOPE_ATTRS, A_EVENTS, A_LINKS,
    A_STATE, A_FLAGS, A_FOLLOWS, A_SHARED, A_DROPPED_ATTRS, A_DROPPED_EVENTS, A_DROPPED_LINKS,
    A_COUNT
};

/* The model's Span of checked fields and its attributes, events and links (stolen). */
static int build_span(SpanFields *f, SpanContext *ctx, PyObject *attrs, PyObject *events,
                      PyObject *links, int shared_marker, int follows_marker, PyObject **out) {
    PyObject *args[A_COUNT] = {NULL};
    const int has_parent = f->parent.s != f->parent.e;
    args[A_ATTRS] = attrs;
    args[A_EVENTS] = events;
    args[A_LINKS] = links;
    if (ctx->last_trace != NULL && same_bytes(ctx->last_trace, f->trace.s, 16)) {
        args[A_TRACE] = Py_NewRef(ctx->last_trace_id);
    } else {
        if ((args[A_TRACE] = make_hex(f->trace)) == NULL) goto error;
        Py_XSETREF(ctx->last_trace_id, Py_NewRef(args[A_TRACE]));
        ctx->last_trace = f->trace.s;
    }
    if ((args[A_SPAN] = make_hex(f->span)) == NULL || (args[A_NAME] = make_str(f->name)) == NULL ||
        (args[A_START] = PyLong_FromUnsignedLongLong(f->start)) == NULL ||
        (args[A_END] = PyLong_FromUnsignedLongLong(f->end)) == NULL ||
        (args[A_PARENT] = has_parent ? make_hex(f->parent) : PyUnicode_New(0, 0)) == NULL ||
        (args[A_MESSAGE] = make_str(f->message)) == NULL ||
        (args[A_STATE] = make_str(f->state)) == NULL ||
        (args[A_FLAGS] = PyLong_FromUnsignedLong(f->flags)) == NULL ||
        (args[A_DROPPED_ATTRS] = PyLong_FromUnsignedLong(f->dropped_attributes)) == NULL ||
        (args[A_DROPPED_EVENTS] = PyLong_FromUnsignedLong(f->dropped_events)) == NULL ||
        (args[A_DROPPED_LINKS] = PyLong_FromUnsignedLong(f->dropped_links)) == NULL)
        goto error;
    args[A_KIND] = Py_NewRef(Kinds[f->kind]);
    args[A_SERVICE] = Py_NewRef(ctx->service);
    args[A_CODE] = Py_NewRef(Codes[f->code]);
    args[A_RESOURCE] = Py_NewRef(ctx->resource_attributes);
    args[A_SCOPE_NAME] = Py_NewRef(PyTuple_GET_ITEM(ctx->scope, 0));
    args[A_SCOPE_VERSION] = Py_NewRef(PyTuple_GET_ITEM(ctx->scope, 1));
    args[A_SCOPE_ATTRS] = Py_NewRef(PyTuple_GET_ITEM(ctx->scope, 2));
    args[A_FOLLOWS] = Py_NewRef(Py_False);
    args[A_SHARED] = Py_NewRef(Py_False);
    if (shared_marker) { /* model_span: the marker attribute becomes Span.shared */
        PyObject *value = PyDict_GetItemWithError(args[A_ATTRS], SharedKey);
        if (value == NULL && PyErr_Occurred()) goto error;
        if (value == Py_True) {
            if (PyDict_DelItem(args[A_ATTRS], SharedKey)) goto error;
            Py_SETREF(args[A_SHARED], Py_NewRef(Py_True));
        }
    }
    if (follows_marker && has_parent) { /* model_span: split_follows_from, as it is */
        PyObject *split = PyObject_CallFunctionObjArgs(SplitFollows, args[A_LINKS],
                                                       args[A_TRACE], args[A_PARENT], NULL);
        if (split == NULL) goto error;
        if (!PyTuple_Check(split) || PyTuple_GET_SIZE(split) != 2) {
            Py_DECREF(split);
            PyErr_SetString(PyExc_TypeError, "split_follows_from() returned no pair");
            goto error;
        }
        Py_SETREF(args[A_LINKS], Py_NewRef(PyTuple_GET_ITEM(split, 0)));
        Py_SETREF(args[A_FOLLOWS], Py_NewRef(PyTuple_GET_ITEM(split, 1)));
        Py_DECREF(split);
    }
    *out = PyObject_Vectorcall(SpanType, args, A_COUNT, NULL);
    for (int i = 0; i < A_COUNT; i++) Py_XDECREF(args[i]);
    return *out == NULL ? ERR : OK;
error:
    for (int i = 0; i < A_COUNT; i++) Py_XDECREF(args[i]);
    return ERR;
}

int parse_span(const uint8_t *p, const uint8_t *end, int depth, SpanContext *ctx,
               PyObject **out) {
    const int build = ctx != NULL;
    SpanFields f;
    Slice item;
    int field, rc, shared_marker = 0, follows_marker = 0;
    PyObject *attrs = NULL, *events = NULL, *links = NULL, *value = NULL;
    if (build && ((attrs = PyDict_New()) == NULL || (events = PyList_New(0)) == NULL ||
                  (links = PyList_New(0)) == NULL))
        goto error;
    span_fields_init(&f, p);
    while ((field = span_next(&p, end, depth, !build, &f, &item)) > 0) {
        if (field == SPAN_ATTRIBUTE) {
            rc = parse_attribute(item, depth, build, attrs, SharedKey, &shared_marker);
        } else if (field == SPAN_EVENT) {
            rc = parse_event(item.s, item.e, depth + 1, build, &value);
        } else {
            rc = parse_link(item.s, item.e, depth + 1, build, &value, &follows_marker);
        }
        if (rc == ERR) goto error;
        if (rc) goto giveup;
        if (build && field != SPAN_ATTRIBUTE) {
            rc = PyList_Append(field == SPAN_EVENT ? events : links, value);
            Py_CLEAR(value);
            if (rc) goto error;
        }
    }
    /* What the upb path errors on, warns about, or post-processes in model_span. */
    if (field < 0 || !span_fields_ok(&f)) goto giveup;
    if (!build) return OK;
    return build_span(&f, ctx, attrs, events, links, shared_marker, follows_marker, out);
giveup:
    Py_XDECREF(attrs);
    Py_XDECREF(events);
    Py_XDECREF(links);
    return GIVEUP;
error:
    Py_XDECREF(attrs);
    Py_XDECREF(events);
    Py_XDECREF(links);
    Py_XDECREF(value);
    return ERR;
}

/* Resource -> dict of its attributes (into *out when building). */
static int parse_resource(const uint8_t *p, const uint8_t *end, int depth, int build,
                          PyObject **out) {
    PyObject *attrs = NULL;
    Slice item;
    int field, rc, marked = 0;
    if (depth > MAX_DEPTH) return GIVEUP;
    if (build && (attrs = PyDict_New()) == NULL) return ERR;
    while ((field = resource_next(&p, end, &item)) > 0) {
        rc = parse_attribute(item, depth, build, attrs, NULL, &marked);
        if (rc == ERR) goto error;
        if (rc) goto giveup;
    }
    if (field < 0) goto giveup;
    if (build) *out = attrs;
    return OK;
giveup:
    Py_XDECREF(attrs);
    return GIVEUP;
error:
    Py_XDECREF(attrs);
    return ERR;
}

/* InstrumentationScope -> (name, version, attributes) when building. */
static int parse_scope(const uint8_t *p, const uint8_t *end, int depth, int build,
                       PyObject **out) {
    ScopeFields f = {{p, p}, {p, p}};
    Slice item;
    PyObject *attrs = NULL, *n = NULL, *v = NULL;
    int field, rc, marked = 0;
    if (depth > MAX_DEPTH) return GIVEUP;
    if (build && (attrs = PyDict_New()) == NULL) return ERR;
    while ((field = scope_next(&p, end, !build, &f, &item)) > 0) {
        rc = parse_attribute(item, depth, build, attrs, NULL, &marked);
        if (rc == ERR) goto error;
        if (rc) goto giveup;
    }
    if (field < 0) goto giveup;
    if (!build) return OK;
    if ((n = make_str(f.name)) == NULL || (v = make_str(f.version)) == NULL) goto error;
    *out = PyTuple_Pack(3, n, v, attrs);
    Py_DECREF(n);
    Py_DECREF(v);
    Py_DECREF(attrs);
    return *out == NULL ? ERR : OK;
giveup:
    Py_XDECREF(attrs);
    return GIVEUP;
error:
    Py_XDECREF(n);
    Py_XDECREF(v);
    Py_XDECREF(attrs);
    return ERR;
}

/* ResourceSpans (msg M_RS) or ScopeSpans (M_SS), first pass only (later passes walk them with
 * next_field): field 1 is the resource or scope (once), field 2 a ScopeSpans or Span, field 3
 * the schema_url (not in the model, but upb checks its UTF-8). */
static int check_group(const uint8_t *p, const uint8_t *end, int depth, int msg) {
    int has_first = 0;
    while (p < end) {
        uint32_t field;
        int wt;
        Slice s;
        if (read_tag(&p, end, &field, &wt)) return GIVEUP;
        if (field == 1) {
            if (has_first++ || wt != 2 || read_len(&p, end, &s.s, &s.e) ||
                (msg == M_RS ? parse_resource(s.s, s.e, depth + 1, 0, NULL)
                             : parse_scope(s.s, s.e, depth + 1, 0, NULL)))
                return GIVEUP;
        } else if (field == 2) {
            if (wt != 2 || read_len(&p, end, &s.s, &s.e) ||
                (msg == M_RS ? check_group(s.s, s.e, depth + 1, M_SS)
                             : parse_span(s.s, s.e, depth + 1, NULL, NULL)))
                return GIVEUP;
        } else if (field == 3) {
            if (string_field(wt, &p, end, 1, &s)) return GIVEUP;
        } else if (skip_field(&p, end, msg, field, wt)) {
            return GIVEUP;
        }
    }
    return OK;
}

int check_traces(const uint8_t *p, const uint8_t *end) {
    Slice rs;
    int found;
    while ((found = next_field(&p, end, 1, M_TRACES, &rs)) > 0)
        if (check_group(rs.s, rs.e, 1, M_RS)) return GIVEUP;
    return found < 0 ? GIVEUP : OK;
}

PyObject *cached(PyObject *resources, PyObject *scopes, int kind, Slice bytes) {
    PyObject *cache = kind ? scopes : resources;
    PyObject *key = PyBytes_FromStringAndSize((const char *)bytes.s, bytes.e - bytes.s);
    PyObject *value = NULL;
    if (key == NULL) return NULL;
    value = PyDict_GetItemWithError(cache, key);
    if (value != NULL || PyErr_Occurred()) {
        Py_DECREF(key);
        return Py_XNewRef(value);
    }
    int rc;
    if (kind) {
        rc = parse_scope(bytes.s, bytes.e, 3, 1, &value);
    } else {
        PyObject *attrs = NULL, *service;
        rc = parse_resource(bytes.s, bytes.e, 2, 1, &attrs);
        if (rc == OK) {
            service = PyDict_GetItemString(attrs, "service.name"); /* borrowed */
            if (service == NULL || service == Py_None)
                service = PyUnicode_New(0, 0);
            else if (PyUnicode_Check(service))
                service = Py_NewRef(service);
            else
                service = PyObject_Str(service);
            if (service == NULL) {
                rc = ERR;
            } else {
                value = PyTuple_Pack(2, attrs, service);
                Py_DECREF(service);
                rc = value == NULL ? ERR : OK;
            }
            Py_DECREF(attrs);
        }
    }
    if (rc != OK) {
        Py_DECREF(key);
        return rc == ERR ? NULL : inconsistent();
    }
    if (PyDict_GET_SIZE(cache) >= CACHE_LIMIT) PyDict_Clear(cache);
    rc = PyDict_SetItem(cache, key, value);
    Py_DECREF(key);
    if (rc) Py_CLEAR(value);
    return value;
}
