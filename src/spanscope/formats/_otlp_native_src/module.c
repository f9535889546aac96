/*
 * spanscope.formats._otlp_native: OTLP protobuf TracesData -> spanscope model spans, or
 * straight into the store's columns, in C.
 *
 * Why: opentelemetry-proto's upb messages hand Python one wrapper object per field access, which
 * caps the Python conversion loop far below the 400k spans/s target. The OpenTelemetry
 * Collector's pdata took the same road for the same reason: it moved from generic gogoproto to
 * its own generated marshal/unmarshal code for speed. This extension walks the protobuf wire
 * format of TracesData (== ExportTraceServiceRequest) itself.
 *
 * Layout (one extension module, built from these files; setup.py lists them):
 *   wire.h, wire.c          the wire format (varints, tags, lengths, skipping, UTF-8) and the
 *                           give-up state both halves share (the fields upb knows and we do not)
 *   fields.h                the fields of each OTLP message, read once for both halves
 *   decode_values.h/.c      span decoder: attribute values, strings and ids as Python objects
 *   decode_spans.h/.c       span decoder: events, links, spans, resources, scopes; the first
 *                           pass (check_traces)
 *   spans_object.c          span decoder: the Spans iterator
 *   buffers.h/.c            column filler: growable byte buffers, maps of byte strings
 *   json_text.h/.c          column filler: attribute maps as the store's JSON text
 *   fill_columns.h/.c       column filler: spans into the store's column buffers
 *   columns_object.c        column filler: the Columns and Buffer types
 *   objects.h, module.c     the Python types and this module (check, scan, configure)
 *
 * Contract of the span decoder (one semantics, two engines: the upb path in otlp_proto.py is
 * the reference):
 *   check(data)  walks the whole message without building anything and says whether this
 *                decoder gives exactly the upb path's result. It answers False (give up) for
 *                anything unusual: truncation or garbage, invalid UTF-8, ids of the wrong length
 *                or all zeros, enum values outside the model's, a start, end or event time
 *                past int64 (the upb path leaves that span out with a warning), a singular
 *                message field or two members of a oneof given twice (protobuf merges them),
 *                groups, nesting deeper than MAX_DEPTH, varints past 64 bits, tags past 5
 *                bytes or lengths of 2 GiB or more (upb's limits), and fields upb knows and
 *                this decoder does not handle.
 *                The caller then runs the upb path, so errors and warnings stay as they are.
 *   Spans(data)  iterates the spans of a message check() accepted, building each lazily, with
 *                resource and scope attribute dicts cached by their bytes and shared between
 *                spans, as the upb path does. It fails only on MemoryError (on a message check()
 *                did not accept it raises RuntimeError, and stays at its end). The two
 *                markers otlp_common.model_span takes out are taken out the same way: the span
 *                attribute spanscope.shared = true here, a FOLLOWS_FROM link by calling
 *                otlp_common.split_follows_from itself (only for a span with a parent and a link
 *                attribute opentracing.ref_type, the only spans where it can change anything).
 *   late_times(data)  where the spans with a time past int64 are (resource, scope and span
 *                index, byte offset), read leniently as upb reads them: the upb path's warning
 *                names the offset, which upb does not keep.
 *   configure()  is called once at import by otlp_native.py with the model classes, the enum
 *                members, the marker keys, split_follows_from and, per message type, the field
 *                numbers upb knows.
 *
 * Contract of the column filler (one semantics, two paths: columns.encode_batch of the model
 * spans is the reference). Why: on the ingest path (no tail sampler) a request's spans only go
 * into the store, whose columns (spanscope.store.columns) are Arrow arrays. Building model
 * Spans and their dicts and then taking them apart again in Python cost ~7 us a span under the
 * GIL; here one C pass over the protobuf fills the raw Arrow buffers (offsets and bytes of
 * strings, fixed-width values, the JSON text of attribute maps as msgspec writes it, list
 * offsets of events and links) for a whole batch of requests, without the GIL, and Python wraps
 * them with a constant number of pyarrow calls per batch.
 *   scan(data)      the span count of a message check() accepts, else None; without the GIL.
 *   Columns()       collects the columns of the spans of scanned messages: add(data) fills
 *                   them for one message, in order, with the GIL released; finish() hands them
 *                   over. A span it cannot write exactly as encode_batch would is "odd":
 *                   nothing of it goes into the buffers, and it comes back as a model Span
 *                   (built as Spans() builds it) for encode_batch to encode; the rows are those
 *                   of the plain spans in order, the odd spans go after them (their rows belong
 *                   to the caller). Odd: a double or bytes value anywhere in its attributes,
 *                   events or links (JSON keeps neither exactly), a key given twice in one map,
 *                   any dropped count, the markers model_span takes out (spanscope.shared,
 *                   a link with opentracing.ref_type), an end before the start or a time of
 *                   2^63-1 (DuckDB's infinity; scan() takes no message with a later time)
 *                   (what codec.is_plain says is not plain, and a little more); and every
 *                   span of a resource or scope whose attributes are odd in the same way, or
 *                   whose service.name is neither a string nor empty (the model writes str()
 *                   of it). Resource and scope attribute texts are written once per distinct
 *                   resource/scope bytes (dictionary columns).
 *                   finish() returns (rows, events, links, resources, scopes, ranges,
 *                   buffers, operations, odd spans): buffers in the order of COLUMN_BUFFERS,
 *                   each an object exposing its bytes through the buffer protocol (owned by
 *                   it, freed with it); operations as (service, span name, kind number)
 *                   tuples; odd spans as (position among the spans added, Span) pairs.
 *                   On a message scan() did not take, add() raises RuntimeError (or
 *                   MemoryError) and the object is unusable after; it never reads out of
 *                   bounds. One thread at a time (the pipeline's writer and batcher share one).
 *
 * Every read is bounds-checked. Both halves read fields through fields.h; the decoder's passes
 * share one parser (build = 0 or 1).
 */
#include "decode_spans.h"
#include "fields.h"
#include "fill_columns.h"
#include "objects.h"

static PyObject *check(PyObject *module, PyObject *data) {
    (void)module;
    if (!PyBytes_Check(data)) {
        PyErr_SetString(PyExc_TypeError, "check() takes bytes");
        return NULL;
    }
    const uint8_t *p = (const uint8_t *)PyBytes_AS_STRING(data);
    int rc;
    Py_BEGIN_ALLOW_THREADS /* no Python objects are touched: let other threads run */
    rc = check_traces(p, p + PyBytes_GET_SIZE(data));
    Py_END_ALLOW_THREADS
    return PyBool_FromLong(rc == OK);
}

static PyObject *scan(PyObject *module, PyObject *data) {
    (void)module;
    if (!PyBytes_Check(data)) {
        PyErr_SetString(PyExc_TypeError, "scan() takes bytes");
        return NULL;
    }
    const uint8_t *p = (const uint8_t *)PyBytes_AS_STRING(data);
    int64_t count;
    Py_BEGIN_ALLOW_THREADS
    count = scan_message(p, p + PyBytes_GET_SIZE(data));
    Py_END_ALLOW_THREADS
    if (count < 0) Py_RETURN_NONE;
    return PyLong_FromLongLong(count);
}

/* A field of wire type `wt` skipped, whatever its number (late_times reads as upb does: a field
 * of the wrong wire type is an unknown field to upb, kept aside and not read). GIVEUP on a
 * group or an invalid wire type. */
static int skip_value(const uint8_t **pp, const uint8_t *end, int wt) {
    uint64_t v;
    uint32_t w;
    const uint8_t *s, *e;
    switch (wt) {
    case 0: return read_varint(pp, end, &v);
    case 1: return read_fixed64(pp, end, &v);
    case 2: return read_len(pp, end, &s, &e);
    case 5: return read_fixed32(pp, end, &w);
    default: return GIVEUP;
    }
}

/* Whether a Span has a start, end or event time past int64 as upb reads them (the last value
 * of a field given twice); -1 when its bytes are not read here. */
static int late_span(const uint8_t *p, const uint8_t *end) {
    uint64_t start = 0, finish = 0, events = 0;
    while (p < end) {
        uint32_t field;
        int wt;
        if (read_tag(&p, end, &field, &wt)) return -1;
        if ((field == 7 || field == 8) && wt == 1) {
            if (read_fixed64(&p, end, field == 7 ? &start : &finish)) return -1;
        } else if (field == 11 && wt == 2) {
            Slice event;
            uint64_t time = 0;
            if (read_len(&p, end, &event.s, &event.e)) return -1;
            while (event.s < event.e) {
                if (read_tag(&event.s, event.e, &field, &wt)) return -1;
                if (field == 1 && wt == 1 ? read_fixed64(&event.s, event.e, &time)
                                          : skip_value(&event.s, event.e, wt))
                    return -1;
            }
            events |= time;
        } else if (skip_value(&p, end, wt)) {
            return -1;
        }
    }
    return !time_ok(start | finish | events);
}

/* late_times(data): (resource, scope, span index, byte offset of the span's tag) of each span
 * with a time past int64, in order, for the upb path's warning when it leaves such a span out
 * (upb keeps no offsets). It reads as upb does, leniently, and stops at anything it cannot
 * read; an answer without a span only means that span's offset is not known. */
static PyObject *late_times(PyObject *module, PyObject *data) {
    (void)module;
    if (!PyBytes_Check(data)) {
        PyErr_SetString(PyExc_TypeError, "late_times() takes bytes");
        return NULL;
    }
    const uint8_t *base = (const uint8_t *)PyBytes_AS_STRING(data);
    const uint8_t *p = base, *end = base + PyBytes_GET_SIZE(data);
    PyObject *found = PyList_New(0);
    if (found == NULL) return NULL;
    for (Py_ssize_t ri = 0; p < end;) {
        uint32_t field;
        int wt;
        Slice rs;
        if (read_tag(&p, end, &field, &wt)) break;
        if (field != 1 || wt != 2) {
            if (skip_value(&p, end, wt)) break;
            continue;
        }
        if (read_len(&p, end, &rs.s, &rs.e)) break;
        for (Py_ssize_t si = 0; rs.s < rs.e;) {
            Slice ss;
            if (read_tag(&rs.s, rs.e, &field, &wt)) goto done;
            if (field != 2 || wt != 2) {
                if (skip_value(&rs.s, rs.e, wt)) goto done;
                continue;
            }
            if (read_len(&rs.s, rs.e, &ss.s, &ss.e)) goto done;
            for (Py_ssize_t k = 0; ss.s < ss.e;) {
                const uint8_t *at = ss.s;
                Slice span;
                if (read_tag(&ss.s, ss.e, &field, &wt)) goto done;
                if (field != 2 || wt != 2) {
                    if (skip_value(&ss.s, ss.e, wt)) goto done;
                    continue;
                }
                if (read_len(&ss.s, ss.e, &span.s, &span.e)) goto done;
                int late = late_span(span.s, span.e);
                if (late < 0) goto done;
                if (late) {
                    PyObject *place = Py_BuildValue("(nnnn)", ri, si, k, (Py_ssize_t)(at - base));
                    if (place == NULL || PyList_Append(found, place)) {
                        Py_XDECREF(place);
                        Py_DECREF(found);
                        return NULL;
                    }
                    Py_DECREF(place);
                }
                k++;
            }
            si++;
        }
        ri++;
    }
done:
    return found;
}

static PyObject *configure(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *span, *event, *link, *kinds, *codes, *shared, *follows, *split, *known;
    if (!PyArg_ParseTuple(args, "OOOO!O!UUOO!:configure", &span, &event, &link, &PyTuple_Type,
                          &kinds, &PyTuple_Type, &codes, &shared, &follows, &split,
                          &PyTuple_Type, &known))
        return NULL;
    if (!PyUnicode_IS_ASCII(shared) || !PyUnicode_IS_ASCII(follows)) {
        PyErr_SetString(PyExc_ValueError, "configure(): marker keys must be ASCII");
        return NULL;
    }
    if (PyTuple_GET_SIZE(kinds) != 6 || PyTuple_GET_SIZE(codes) != 3 ||
        PyTuple_GET_SIZE(known) != M_COUNT) {
        PyErr_SetString(PyExc_ValueError, "configure(): 6 kinds, 3 codes, a mask per message");
        return NULL;
    }
    uint64_t masks[M_COUNT];
    for (int i = 0; i < M_COUNT; i++) {
        masks[i] = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(known, i));
        if (masks[i] == (uint64_t)-1 && PyErr_Occurred()) return NULL;
    }
    int unknown = wire_configure(masks);
    if (unknown >= 0) {
        PyErr_Format(PyExc_ValueError, "message %d: upb does not know a field we use", unknown);
        return NULL;
    }
    Py_XSETREF(SpanType, Py_NewRef(span));
    Py_XSETREF(EventType, Py_NewRef(event));
    Py_XSETREF(LinkType, Py_NewRef(link));
    for (int i = 0; i < 6; i++) Py_XSETREF(Kinds[i], Py_NewRef(PyTuple_GET_ITEM(kinds, i)));
    for (int i = 0; i < 3; i++) Py_XSETREF(Codes[i], Py_NewRef(PyTuple_GET_ITEM(codes, i)));
    Py_XSETREF(SharedKey, Py_NewRef(shared));
    Py_XSETREF(FollowsKey, Py_NewRef(follows));
    Py_XSETREF(SplitFollows, Py_NewRef(split));
    configured = 1;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"check", check, METH_O,
     "check(data: bytes) -> bool: whether this decoder reads the TracesData exactly as upb"},
    {"scan", scan, METH_O,
     "scan(data: bytes) -> int | None: the spans of a TracesData Columns.add() takes, or None"},
    {"late_times", late_times, METH_O,
     "late_times(data: bytes) -> list[tuple[int, int, int, int]]: (resource, scope, span, "
     "byte offset) of the spans with a time past int64"},
    {"configure", configure, METH_VARARGS,
     "configure(Span, Event, Link, kinds, codes, shared_key, follows_key, split_follows_from, "
     "known_fields)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_otlp_native",
    .m_doc = "OTLP protobuf TracesData -> spanscope model spans or store columns, in C "
             "(see otlp_native.py).",
    .m_size = -1,
    .m_methods = methods,
};

static int add_owned(PyObject *module, const char *name, PyObject *value) {
    int rc = value == NULL ? -1 : PyModule_AddObjectRef(module, name, value);
    Py_XDECREF(value);
    return rc;
}

static PyObject *buffer_names(void) {
    PyObject *names = PyTuple_New(B_COUNT);
    for (int i = 0; names != NULL && i < B_COUNT; i++) {
        PyObject *name = PyUnicode_FromString(BUFFER_NAMES[i]);
        if (name == NULL) Py_CLEAR(names);
        else PyTuple_SET_ITEM(names, i, name);
    }
    return names;
}

PyMODINIT_FUNC PyInit__otlp_native(void) {
    if (PyType_Ready(&SpansType) < 0 || PyType_Ready(&BufferType) < 0 ||
        PyType_Ready(&ColumnsType) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL) return NULL;
    if (PyModule_AddObjectRef(module, "Spans", (PyObject *)&SpansType) < 0 ||
        PyModule_AddObjectRef(module, "Columns", (PyObject *)&ColumnsType) < 0 ||
        PyModule_AddObjectRef(module, "Buffer", (PyObject *)&BufferType) < 0 ||
        PyModule_AddIntConstant(module, "MESSAGE_TYPES", M_COUNT) < 0 ||
        PyModule_AddIntConstant(module, "MAX_DEPTH", MAX_DEPTH) < 0 ||
        add_owned(module, "COLUMN_BUFFERS", buffer_names()) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
