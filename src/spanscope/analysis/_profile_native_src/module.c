/*
 * spanscope.analysis._profile_native: the critical-path profile of a Jaeger JSON document, in C.
 *
 * Why: `spanscope analyze DIR --folded -` (what Uber's CRISP computes) spends its time, after
 * start-up, building a Python Span per span, assembling traces and walking their critical path
 * in Python: about 3.5 us a span. For the ordinary case, traces assembly leaves as they are, this
 * reads the document, checks the traces and walks them without building any span object.
 *
 * One semantics, two engines, as in spanscope.formats._otlp_native: the Python path (the
 * projection jaeger_lean, spanscope.assembly.build_trace, ProfileCollector.add) is the
 * reference, and this module gives up on anything it is not sure to do exactly the same way;
 * the caller then takes the Python path for that document. Giving up happens before anything
 * is charged. What is read and what gives up: document.c; the trace check and the walk: walk.c.
 *
 * Layout: scan.h (a strict JSON scanner), cache.h/.c (byte strings -> results, kept between
 * documents), document.h/.c (the Jaeger document), walk.h/.c (the checks and the walk), this
 * file (the Python function).
 *
 * charge(data, hooks, numbers, number, strict, adjust_skew)
 *   data       bytes of one document;
 *   hooks      (tag_kind, processes, logs_ok, normalize_id): document.h;
 *   numbers, number   CallStacks.numbers and CallStacks.number of the collector charged;
 *   strict     Jaeger's strict back-to-back rule (critical_path);
 *   adjust_skew   whether build_trace would adjust clock skew.
 * Returns None (given up, nothing numbered) or (span count, [(trace id, root service, root
 * name, root duration ns, {stack number: ns}), ...]) in the traces' order in the document.
 */
#include "document.h"
#include "walk.h"

/* The caches are this module's own: a call made while another runs (from a hook, or from a
 * thread the hooks let run) gives up instead of sharing them. */
static int busy;

static PyObject *charge(PyObject *module, PyObject *args) {
    (void)module;
    if (busy) Py_RETURN_NONE;
    Py_buffer data;
    PyObject *hooks_tuple, *numbers, *number;
    int strict, adjust_skew;
    if (!PyArg_ParseTuple(args, "y*O!O!Opp", &data, &PyTuple_Type, &hooks_tuple, &PyDict_Type,
                          &numbers, &number, &strict, &adjust_skew))
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
    PyObject *result = NULL, *traces = NULL;
    busy = 1;
    int rc = document_read(data.buf, data.len, &hooks, &doc);
    if (rc > 0) rc = tree_check(&doc, adjust_skew, &tree);
    if (rc < 0) goto done;
    if (rc == 0) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    traces = PyList_New(doc.trace_count);
    if (traces == NULL) goto done;
    for (Py_ssize_t t = 0; t < doc.trace_count; t++) {
        const NativeSpan *root = &doc.spans[tree.roots[t]];
        PyObject *local = charge_trace(&doc, &tree, t, strict, numbers, number);
        if (local == NULL) goto done;
        int64_t duration = root->end_ns > root->start_ns ? root->end_ns - root->start_ns : 0;
        PyObject *item = Py_BuildValue("(s#OOLN)", doc.traces[t].trace_id, (Py_ssize_t)32,
                                       root->service, root->name, (long long)duration, local);
        if (item == NULL) goto done;
        PyList_SET_ITEM(traces, t, item);
    }
    result = Py_BuildValue("(nO)", doc.span_count, traces);
done:
    busy = 0;
    Py_XDECREF(traces);
    tree_free(&tree);
    document_free(&doc);
    PyBuffer_Release(&data);
    return result;
}

static PyObject *clear_caches(PyObject *module, PyObject *unused) {
    (void)module;
    (void)unused;
    if (!busy) caches_clear();
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"charge", charge, METH_VARARGS,
     "charge(data, hooks, numbers, number, strict, adjust_skew): see the module's source."},
    {"clear_caches", clear_caches, METH_NOARGS,
     "Forget the tag lists and names kept between documents."},
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
