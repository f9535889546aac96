/*
 * spanscope.analysis._profile_native: the critical-path profile of a Jaeger JSON document, in C.
 *
 * Why: `spanscope analyze DIR --folded -` (what Uber's CRISP computes) spends its time, after
 * start-up, building a Python Span per span, assembling traces and walking their critical path
 * in Python: about 3.5 us a span. For the ordinary case, traces assembly leaves as they are, this
 * reads the document, checks the traces and walks them without building any span object (a
 * trace assembly would change is left to the Python path, in its place in the document).
 *
 * One semantics, two engines, as in spanscope.formats._otlp_native: the Python path (the
 * projection jaeger_lean, spanscope.assembly.build_trace, ProfileCollector.add) is the
 * reference, and this module gives up on anything it is not sure to do exactly the same way;
 * the caller then takes the Python path for that document. Giving up happens before anything
 * is charged. What is read and what gives up: document.c; the trace check and the walk: walk.c.
 *
 * Layout: scan.h (a strict JSON scanner), cache.h/.c (byte strings -> results, kept between
 * documents), reserve.h (growable arrays), document.h/.c (the Jaeger document), walk.h/.c
 * (the checks and the walk), this file (the Python function).
 *
 * charge(data, hooks, numbers, number, strict, adjust_skew, prepare, record, add_python)
 *   data       bytes of one document;
 *   hooks      (tag_kind, processes, logs_ok, normalize_id): document.h;
 *   numbers, number   CallStacks.numbers and CallStacks.number of the collector charged;
 *   strict     Jaeger's strict back-to-back rule (critical_path);
 *   adjust_skew   whether build_trace would adjust clock skew;
 *   prepare    prepare([trace id, ...], document) -> bool, called first when some traces are
 *              left to Python (walk.c's check), so that it can read them (False: give up);
 *              `document` is {"data": [...]} with their "data" entries as written, which the
 *              Python path reads as it reads them in the whole document;
 *   record     record(root service, root name, root duration ns, {stack: ns}) for each trace
 *              walked here (ProfileAnalyzer.add_charged);
 *   add_python add_python(trace id) for each trace left to Python, in its place.
 * The traces are recorded in the document's order, so the collector sees what the Python path
 * gives it. Returns None (given up before anything was recorded or numbered: the document is
 * not read exactly, more than half its traces are left to Python, or another call is running)
 * or (span count, [trace id, ...]) in the document's order.
 */
#include "document.h"
#include "walk.h"

/* The caches are this module's own: a call made while another runs (from a hook, or from a
 * thread the hooks let run) gives up instead of sharing them. */
static int busy;

static PyObject *trace_id_text(const NativeTrace *trace) {
    return PyUnicode_DecodeASCII(trace->trace_id, 32, "strict");
}

/* Calls prepare with the ids of the traces left to Python and a document of their entries. */
static PyObject *prepare_left(const Document *doc, const Tree *tree, PyObject *prepare) {
    PyObject *ids = PyList_New(0);
    if (ids == NULL) return NULL;
    size_t size = sizeof("{\"data\": []}");
    for (Py_ssize_t t = 0; t < doc->trace_count; t++) {
        if (tree->roots[t] >= 0) continue;
        size += doc->traces[t].text.n + 1;
        PyObject *id = trace_id_text(&doc->traces[t]);
        if (id == NULL || PyList_Append(ids, id) < 0) {
            Py_XDECREF(id);
            Py_DECREF(ids);
            return NULL;
        }
        Py_DECREF(id);
    }
    PyObject *document = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)size);
    if (document == NULL) {
        Py_DECREF(ids);
        return NULL;
    }
    char *out = PyBytes_AS_STRING(document);
    const char *head = "{\"data\": [";
    memcpy(out, head, strlen(head));
    out += strlen(head);
    int first = 1;
    for (Py_ssize_t t = 0; t < doc->trace_count; t++) {
        if (tree->roots[t] >= 0) continue;
        if (!first) *out++ = ',';
        first = 0;
        memcpy(out, doc->traces[t].text.s, doc->traces[t].text.n);
        out += doc->traces[t].text.n;
    }
    *out++ = ']';
    *out++ = '}';
    if (_PyBytes_Resize(&document, out - PyBytes_AS_STRING(document)) < 0) {
        Py_DECREF(ids);
        return NULL;
    }
    PyObject *ready = PyObject_CallFunctionObjArgs(prepare, ids, document, NULL);
    Py_DECREF(ids);
    Py_DECREF(document);
    return ready;
}

/* Records every trace in order; the list of their ids, or NULL. */
static PyObject *record_all(const Document *doc, const Tree *tree, int strict, PyObject *numbers,
                            PyObject *number, PyObject *record, PyObject *add_python) {
    PyObject *ids = PyList_New(doc->trace_count);
    if (ids == NULL) return NULL;
    for (Py_ssize_t t = 0; t < doc->trace_count; t++) {
        PyObject *id = trace_id_text(&doc->traces[t]), *done;
        if (id == NULL) goto fail;
        PyList_SET_ITEM(ids, t, id);
        if (tree->roots[t] < 0) {
            done = PyObject_CallOneArg(add_python, id);
        } else {
            const NativeSpan *root = &doc->spans[tree->roots[t]];
            PyObject *local = charge_trace(doc, tree, t, strict, numbers, number);
            if (local == NULL) goto fail;
            long long duration = root->end_ns - root->start_ns; /* ended: walk.c's check */
            done = PyObject_CallFunction(record, "OOLN", root->service, root->name, duration,
                                         local);
        }
        if (done == NULL) goto fail;
        Py_DECREF(done);
    }
    return ids;
fail:
    Py_DECREF(ids);
    return NULL;
}

static PyObject *charge(PyObject *module, PyObject *args) {
    (void)module;
    if (busy) Py_RETURN_NONE;
    Py_buffer data;
    PyObject *hooks_tuple, *numbers, *number, *prepare, *record, *add_python;
    int strict, adjust_skew;
    if (!PyArg_ParseTuple(args, "y*O!O!OppOOO", &data, &PyTuple_Type, &hooks_tuple, &PyDict_Type,
                          &numbers, &number, &strict, &adjust_skew, &prepare, &record,
                          &add_python))
        return NULL;
    Hooks hooks;
    if (!PyArg_ParseTuple(hooks_tuple, "OOOO", &hooks.tag_kind, &hooks.processes, &hooks.logs_ok,
                          &hooks.normalize_id)) {
        PyBuffer_Release(&data);
        return NULL;
    }
    Document doc;
    Tree tree;
    memset(&doc, 0, sizeof(doc));
    memset(&tree, 0, sizeof(tree));
    PyObject *result = NULL, *ids = NULL;
    busy = 1;
    int read = document_read(data.buf, data.len, &hooks, &doc);
    if (read < 0) goto done;
    int take = read > 0;
    if (take) {
        Py_ssize_t taken = tree_check(&doc, adjust_skew, &tree);
        if (taken < 0) goto done;
        /* Mostly Python's: then reading the whole document the Python way is as cheap. */
        take = taken * 2 >= doc.trace_count;
    }
    if (take) {
        Py_ssize_t left = 0;
        for (Py_ssize_t t = 0; t < doc.trace_count; t++) left += tree.roots[t] < 0;
        if (left) {
            PyObject *ready = prepare_left(&doc, &tree, prepare);
            if (ready == NULL) goto done;
            take = PyObject_IsTrue(ready);
            Py_DECREF(ready);
            if (take < 0) goto done;
        }
    }
    if (!take) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    ids = record_all(&doc, &tree, strict, numbers, number, record, add_python);
    if (ids == NULL) goto done;
    result = Py_BuildValue("(nO)", doc.span_count, ids);
done:
    busy = 0;
    Py_XDECREF(ids);
    tree_free(&tree);
    document_free(&doc);
    PyBuffer_Release(&data);
    return result;
}

static PyMethodDef methods[] = {
    {"charge", charge, METH_VARARGS,
     "charge(data, hooks, numbers, number, strict, adjust_skew, prepare, record, add_python):"
     " see the header of module.c."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "spanscope.analysis._profile_native",
    "The critical-path profile of Jaeger JSON documents, in C (see native_profile.py).",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__profile_native(void) { return PyModule_Create(&module_def); }
