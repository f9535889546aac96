/*
 * Columns(): the Python side of the column filler (fill_columns.c). add(data) fills the
 * columns of one message with the GIL released; finish() hands them over as Buffer objects
 * (their bytes through the buffer protocol), with the operations and the odd spans built as
 * model Spans by the span decoder. One call at a time.
 */
#include "objects.h"

#include <stdlib.h>

#include "decode_spans.h"
#include "decode_values.h"
#include "fill_columns.h"

/* A buffer of the result: owns its malloc()ed bytes, shows them through the buffer protocol. */
typedef struct {
    PyObject_HEAD
    uint8_t *data;
    Py_ssize_t len;
} BufferObject;

static int Buffer_getbuffer(BufferObject *self, Py_buffer *view, int flags) {
    static uint8_t empty[8];
    return PyBuffer_FillInfo(view, (PyObject *)self, self->data ? self->data : empty, self->len,
                             1, flags);
}

static void Buffer_dealloc(BufferObject *self) {
    free(self->data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyBufferProcs Buffer_as_buffer = {(getbufferproc)Buffer_getbuffer, NULL};

PyTypeObject BufferType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "spanscope.formats._otlp_native.Buffer",
    .tp_basicsize = sizeof(BufferObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Bytes of one column buffer that Columns.finish() hands over.",
    .tp_dealloc = (destructor)Buffer_dealloc,
    .tp_as_buffer = &Buffer_as_buffer,
};

static PyObject *take_buffer(Buf *b) {
    BufferObject *out = PyObject_New(BufferObject, &BufferType);
    if (out == NULL) return NULL;
    out->data = b->data;
    out->len = (Py_ssize_t)b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return (PyObject *)out;
}

/* The operations as (service, name, kind) tuples. */
static PyObject *operations_list(Map *m) {
    PyObject *list = PyList_New(0);
    if (list == NULL) return NULL;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].value < 0) continue;
        const uint8_t *key = m->keys.data + m->slots[i].off;
        uint32_t n;
        memcpy(&n, key + 1, 4);
        const uint8_t *service = key + 5, *name = service + n, *end = key + m->slots[i].len;
        PyObject *item = Py_BuildValue("(N N i)", make_str((Slice){service, name}),
                                       make_str((Slice){name, end}), (int)key[0]);
        if (item == NULL || PyList_Append(list, item)) {
            Py_XDECREF(item);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(item);
    }
    return list;
}

/* The odd spans as model Spans (built as Spans() builds them). */
static PyObject *odd_spans(Fill *f) {
    PyObject *list = PyList_New(0), *resources = PyDict_New(), *scopes = PyDict_New();
    PyObject *resource = NULL;
    SpanContext ctx = {NULL, NULL, NULL, NULL, NULL};
    if (list == NULL || resources == NULL || scopes == NULL) goto error;
    for (size_t i = 0; i < f->n_odd; i++) {
        OddSpan *odd = &f->odd[i];
        PyObject *span = NULL, *item;
        Py_XSETREF(resource, cached(resources, scopes, 0, odd->resource));
        if (resource == NULL) goto error;
        Py_XSETREF(ctx.scope, cached(resources, scopes, 1, odd->scope));
        if (ctx.scope == NULL) goto error;
        ctx.resource_attributes = PyTuple_GET_ITEM(resource, 0);
        ctx.service = PyTuple_GET_ITEM(resource, 1);
        int rc = parse_span(odd->span.s, odd->span.e, 3, &ctx, &span);
        if (rc == GIVEUP) inconsistent();
        if (rc) goto error;
        item = Py_BuildValue("(L N)", (long long)odd->position, span);
        if (item == NULL) goto error;
        rc = PyList_Append(list, item);
        Py_DECREF(item);
        if (rc) goto error;
    }
    Py_XDECREF(resource);
    Py_XDECREF(ctx.scope);
    Py_XDECREF(ctx.last_trace_id);
    Py_DECREF(resources);
    Py_DECREF(scopes);
    return list;
error:
    Py_XDECREF(resource);
    Py_XDECREF(ctx.scope);
    Py_XDECREF(ctx.last_trace_id);
    Py_XDECREF(resources);
    Py_XDECREF(scopes);
    Py_XDECREF(list);
    return NULL;
}

typedef struct {
    PyObject_HEAD
    Fill *fill;       /* NULL once finished or failed */
    PyObject *bodies; /* the added messages: the fill points into them */
    int busy;
} ColumnsObject;

static void Columns_close(ColumnsObject *self) {
    if (self->fill != NULL) {
        fill_free(self->fill);
        free(self->fill);
        self->fill = NULL;
    }
}

static PyObject *Columns_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    (void)kwargs; /* keywords are not looked at */
    if (!is_configured()) return NULL;
    if (!PyArg_ParseTuple(args, ":Columns")) return NULL;
    ColumnsObject *self = (ColumnsObject *)type->tp_alloc(type, 0);
    if (self == NULL) return NULL;
    if ((self->bodies = PyList_New(0)) == NULL || (self->fill = malloc(sizeof(Fill))) == NULL ||
        fill_init(self->fill)) {
        if (self->fill != NULL && self->bodies != NULL) Columns_close(self);
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

static void Columns_dealloc(ColumnsObject *self) {
    Columns_close(self);
    Py_XDECREF(self->bodies);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Columns_ready(ColumnsObject *self) {
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "Columns: used by two threads at once");
        return 0;
    }
    if (self->fill == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Columns: already finished, or an add() failed");
        return 0;
    }
    return 1;
}

static PyObject *Columns_add(ColumnsObject *self, PyObject *body) {
    if (!PyBytes_Check(body)) {
        PyErr_SetString(PyExc_TypeError, "add() takes bytes");
        return NULL;
    }
    if (!Columns_ready(self) || PyList_Append(self->bodies, body)) return NULL;
    Fill *f = self->fill;
    const uint8_t *p = (const uint8_t *)PyBytes_AS_STRING(body);
    Py_ssize_t n = PyBytes_GET_SIZE(body);
    int rc;
    self->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    rc = fill_message(f, p, p + n);
    Py_END_ALLOW_THREADS
    self->busy = 0;
    if (rc == OK) Py_RETURN_NONE;
    if (f->fail == FAIL_INCONSISTENT)
        PyErr_SetString(PyExc_RuntimeError, "Columns.add(): a message scan() did not take");
    else if (f->fail == FAIL_TOO_BIG)
        PyErr_SetString(PyExc_OverflowError, "Columns.add(): over 2 GiB of text in a column");
    else
        PyErr_NoMemory();
    Columns_close(self); /* half a message is in it: unusable */
    return NULL;
}

static PyObject *Columns_finish(ColumnsObject *self, PyObject *unused) {
    (void)unused;
    if (!Columns_ready(self)) return NULL;
    Fill *f = self->fill;
    PyObject *buffers = PyTuple_New(B_COUNT), *operations = NULL, *odd = NULL, *result = NULL;
    if (buffers == NULL) goto done;
    for (int i = 0; i < B_COUNT; i++) {
        PyObject *buffer = take_buffer(&f->b[i]);
        if (buffer == NULL) {
            Py_DECREF(buffers);
            goto done;
        }
        PyTuple_SET_ITEM(buffers, i, buffer);
    }
    if ((operations = operations_list(&f->operations)) == NULL || (odd = odd_spans(f)) == NULL) {
        Py_DECREF(buffers);
        Py_XDECREF(operations);
        goto done;
    }
    result = Py_BuildValue("(L L L i i i N N N)", (long long)f->rows, (long long)f->events,
                           (long long)f->links, (int)f->n_resources, (int)f->n_scopes,
                           (int)f->n_ranges, buffers, operations, odd);
done:
    Columns_close(self);
    return result;
}

static PyMethodDef Columns_methods[] = {
    {"add", (PyCFunction)Columns_add, METH_O,
     "add(data: bytes): the spans of a TracesData that scan() took (GIL released)"},
    {"finish", (PyCFunction)Columns_finish, METH_NOARGS,
     "finish() -> (rows, events, links, resources, scopes, ranges, buffers, operations, odd)"},
    {NULL, NULL, 0, NULL},
};

PyTypeObject ColumnsType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "spanscope.formats._otlp_native.Columns",
    .tp_basicsize = sizeof(ColumnsObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Columns(): the store's column buffers of messages added one by one.",
    .tp_new = Columns_new,
    .tp_dealloc = (destructor)Columns_dealloc,
    .tp_methods = Columns_methods,
};
