/*
 * Spans(data): the iterator over the model spans of a message check() accepted, building each
 * span lazily, with resource and scope values cached by their bytes and shared between spans
 * as the upb path shares them. It fails only on MemoryError; on a message check() did not
 * accept it raises RuntimeError, and stays at its end after either.
 */
#include "objects.h"

#include "decode_spans.h"

typedef struct {
    PyObject_HEAD
    PyObject *data; /* bytes; the positions below point into it */
    const uint8_t *top, *top_end, *rs, *rs_end, *ss, *ss_end;
    PyObject *resources, *scopes; /* caches: serialized bytes -> (attrs, service) / scope */
    PyObject *resource;           /* (attrs, service) of the current ResourceSpans */
    SpanContext ctx;
} SpansObject;

static PyObject *spans_step(SpansObject *self) {
    Slice m;
    int found;
    for (;;) {
        if (self->ss != NULL) {
            found = next_field(&self->ss, self->ss_end, 2, M_SS, &m);
            if (found < 0) return inconsistent();
            if (found) {
                PyObject *span = NULL;
                int rc = parse_span(m.s, m.e, 3, &self->ctx, &span);
                if (rc == OK) return span;
                return rc == ERR ? NULL : inconsistent();
            }
            self->ss = NULL;
            Py_CLEAR(self->ctx.scope);
        }
        if (self->rs != NULL) {
            found = next_field(&self->rs, self->rs_end, 2, M_RS, &m);
            if (found < 0) return inconsistent();
            if (found) {
                Slice scope;
                self->ss = m.s;
                self->ss_end = m.e;
                if (first_field(m, 1, M_SS, &scope)) return inconsistent();
                self->ctx.scope = cached(self->resources, self->scopes, 1, scope);
                if (self->ctx.scope == NULL) return NULL;
                continue;
            }
            self->rs = NULL;
            Py_CLEAR(self->resource);
        }
        found = next_field(&self->top, self->top_end, 1, M_TRACES, &m);
        if (found < 0) return inconsistent();
        if (!found) return NULL; /* StopIteration */
        Slice resource;
        if (first_field(m, 1, M_RS, &resource)) return inconsistent();
        if ((self->resource = cached(self->resources, self->scopes, 0, resource)) == NULL)
            return NULL;
        self->ctx.resource_attributes = PyTuple_GET_ITEM(self->resource, 0);
        self->ctx.service = PyTuple_GET_ITEM(self->resource, 1);
        self->rs = m.s;
        self->rs_end = m.e;
    }
}

static PyObject *Spans_next(SpansObject *self) {
    PyObject *span = spans_step(self);
    if (span == NULL) { /* at the end or failed: stay at the end */
        self->top = self->top_end;
        self->rs = self->ss = NULL;
        Py_CLEAR(self->resource);
        Py_CLEAR(self->ctx.scope);
    }
    return span;
}

static void Spans_dealloc(SpansObject *self) {
    Py_XDECREF(self->data);
    Py_XDECREF(self->resources);
    Py_XDECREF(self->scopes);
    Py_XDECREF(self->resource);
    Py_XDECREF(self->ctx.scope);
    Py_XDECREF(self->ctx.last_trace_id);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Spans_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    (void)kwargs; /* keywords are not looked at */
    PyObject *data;
    if (!is_configured()) return NULL;
    if (!PyArg_ParseTuple(args, "O!:Spans", &PyBytes_Type, &data)) return NULL;
    SpansObject *self = (SpansObject *)type->tp_alloc(type, 0);
    if (self == NULL) return NULL;
    self->data = Py_NewRef(data);
    self->top = (const uint8_t *)PyBytes_AS_STRING(data);
    self->top_end = self->top + PyBytes_GET_SIZE(data);
    if ((self->resources = PyDict_New()) == NULL || (self->scopes = PyDict_New()) == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

PyTypeObject SpansType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "spanscope.formats._otlp_native.Spans",
    .tp_basicsize = sizeof(SpansObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Spans(data): the model spans of a TracesData that check(data) accepted.",
    .tp_new = Spans_new,
    .tp_dealloc = (destructor)Spans_dealloc,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)Spans_next,
};
