/*
 * Assembly's no-op check and the critical-path walk, for the traces of one document.
 *
 * tree_check takes a trace only where spanscope.assembly.build_trace changes nothing and
 * reports nothing: span ids unique (no dedupe), one span without a parent and every other
 * span's parent in the trace (no orphans, no second root, hence no parent loop: a loop is never
 * reached from the root, which is checked), every span ended and not before it started, and,
 * when clock skew is adjusted, no span that build_trace would hand to the adjuster (one that
 * starts before its parent, or ends after it while its parent waits for it). Children are put
 * in build_trace's order, by (start, span id): canonical ids compare as their numbers.
 *
 * charge_trace is spanscope.analysis.critical_path.charge_critical_time, step for step (the
 * work list, the clamping of children to their parent's window, the last-finishing child and
 * the bisection, strict or not), charging each span's own time on the path to its stack as
 * ProfileCollector.add does. (Its steps for spans that end before they start cannot be taken
 * here, tree_check having left such traces to Python; they stay, so the two read alike.) The Python function is the reference; the differential tests
 * compare the two on generated traces.
 */
#include "walk.h"

#include "reserve.h"

#include <stdlib.h>

void tree_free(Tree *tree) {
    PyMem_Free(tree->parent);
    PyMem_Free(tree->first_child);
    PyMem_Free(tree->child_count);
    PyMem_Free(tree->children);
    PyMem_Free(tree->roots);
    memset(tree, 0, sizeof(*tree));
}

/* For sorting: qsort has no context argument, and the check runs with the GIL held. */
static const NativeSpan *sorting;

static int by_span_id(const void *a, const void *b) {
    uint64_t x = sorting[*(const Py_ssize_t *)a].span_id;
    uint64_t y = sorting[*(const Py_ssize_t *)b].span_id;
    return x < y ? -1 : x > y;
}

static int by_start(const void *a, const void *b) {
    const NativeSpan *x = &sorting[*(const Py_ssize_t *)a], *y = &sorting[*(const Py_ssize_t *)b];
    if (x->start_ns != y->start_ns) return x->start_ns < y->start_ns ? -1 : 1;
    return x->span_id < y->span_id ? -1 : x->span_id > y->span_id;
}

/* Index of the span with `id` among `order` (spans by id), or -1. */
static Py_ssize_t find(const NativeSpan *spans, const Py_ssize_t *order, Py_ssize_t n,
                       uint64_t id) {
    Py_ssize_t low = 0, high = n;
    while (low < high) {
        Py_ssize_t middle = low + (high - low) / 2;
        uint64_t here = spans[order[middle]].span_id;
        if (here == id) return order[middle];
        if (here < id) low = middle + 1;
        else high = middle;
    }
    return -1;
}

/* Skew's rule (assembly.skew._is_async, negated): the parent waits for the child. */
static int waited_for(const NativeSpan *child, const NativeSpan *parent) {
    return !(child->follows_from || child->kind == KIND_CONSUMER || parent->kind == KIND_PRODUCER);
}

static int check_trace(const Document *doc, const NativeTrace *trace, int adjust_skew, Tree *tree,
                       Py_ssize_t *order, Py_ssize_t *stack) {
    const NativeSpan *spans = doc->spans;
    Py_ssize_t first = trace->first, n = trace->count, last = first + n;
    for (Py_ssize_t i = 0; i < n; i++) order[i] = first + i;
    sorting = spans;
    qsort(order, (size_t)n, sizeof(Py_ssize_t), by_span_id);
    for (Py_ssize_t i = 1; i < n; i++)
        if (spans[order[i - 1]].span_id == spans[order[i]].span_id) return 0; /* dedupe */
    Py_ssize_t root = -1;
    for (Py_ssize_t i = first; i < last; i++) {
        const NativeSpan *span = &spans[i];
        if (span->end_ns == 0 || span->end_ns < span->start_ns) return 0; /* never ended... */
        tree->child_count[i] = 0;
        if (span->parent_id == 0) {
            if (root >= 0) return 0; /* several roots */
            root = i;
            tree->parent[i] = -1;
            continue;
        }
        Py_ssize_t parent = find(spans, order, n, span->parent_id);
        if (parent < 0) return 0; /* an orphan */
        tree->parent[i] = parent;
        const NativeSpan *up = &spans[parent];
        if (adjust_skew && (span->start_ns < up->start_ns ||
                            (span->end_ns > up->end_ns && waited_for(span, up))))
            return 0; /* clock-skew adjustment would look at it */
    }
    if (root < 0) return 0;
    /* Children by parent (counting sort), then each parent's by (start, span id). */
    for (Py_ssize_t i = first; i < last; i++)
        if (tree->parent[i] >= 0) tree->child_count[tree->parent[i]]++;
    Py_ssize_t at = first;
    for (Py_ssize_t i = first; i < last; i++) {
        tree->first_child[i] = at;
        stack[i - first] = at; /* a cursor while filling */
        at += tree->child_count[i];
    }
    for (Py_ssize_t i = first; i < last; i++) {
        Py_ssize_t parent = tree->parent[i];
        if (parent >= 0) tree->children[stack[parent - first]++] = i;
    }
    for (Py_ssize_t i = first; i < last; i++) {
        Py_ssize_t count = tree->child_count[i];
        if (count > 1)
            qsort(&tree->children[tree->first_child[i]], (size_t)count, sizeof(Py_ssize_t),
                  by_start);
    }
    /* Every span reached from the root: no parent loop. */
    Py_ssize_t reached = 0, top = 0;
    stack[top++] = root;
    while (top) {
        Py_ssize_t span = stack[--top];
        reached++;
        for (Py_ssize_t c = 0; c < tree->child_count[span]; c++)
            stack[top++] = tree->children[tree->first_child[span] + c];
    }
    if (reached != n) return 0;
    tree->roots[trace - doc->traces] = root;
    return 1;
}

Py_ssize_t tree_check(const Document *doc, int adjust_skew, Tree *tree) {
    Py_ssize_t n = doc->span_count, largest = 0;
    for (Py_ssize_t t = 0; t < doc->trace_count; t++)
        if (doc->traces[t].count > largest) largest = doc->traces[t].count;
    tree->parent = PyMem_Malloc((size_t)n * sizeof(Py_ssize_t));
    tree->first_child = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(Py_ssize_t));
    tree->child_count = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(Py_ssize_t));
    tree->children = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(Py_ssize_t));
    tree->roots = PyMem_Malloc((size_t)doc->trace_count * sizeof(Py_ssize_t));
    Py_ssize_t *order = PyMem_Malloc((size_t)largest * sizeof(Py_ssize_t));
    Py_ssize_t *stack = PyMem_Malloc((size_t)largest * sizeof(Py_ssize_t));
    Py_ssize_t taken = 0;
    if (!tree->parent || !tree->first_child || !tree->child_count || !tree->children ||
        !tree->roots || !order || !stack) {
        PyErr_NoMemory();
        taken = -1;
    }
    for (Py_ssize_t t = 0; taken >= 0 && t < doc->trace_count; t++) {
        tree->roots[t] = -1;
        taken += check_trace(doc, &doc->traces[t], adjust_skew, tree, order, stack);
    }
    PyMem_Free(order);
    PyMem_Free(stack);
    return taken;
}

/* ---- the walk ---- */

typedef struct {
    Py_ssize_t span;
    int64_t start, end;
    Py_ssize_t above; /* stack number of the parent's frame, -1 above the root */
} Work;

typedef struct {
    int64_t end;
    Py_ssize_t index; /* among the parent's children: ties on end go to the earlier child */
    int64_t start;
    Py_ssize_t span;
} Keyed;

static int by_end(const void *a, const void *b) {
    const Keyed *x = a, *y = b;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return x->index > y->index ? -1 : x->index < y->index; /* (end, -index) ascending */
}

/* CallStacks: the number of frame (service, name) under `above`. */
static Py_ssize_t stack_number(PyObject *numbers, PyObject *number, Py_ssize_t above,
                               PyObject *service, PyObject *name) {
    PyObject *above_object = PyLong_FromSsize_t(above);
    if (above_object == NULL) return -2;
    PyObject *key = PyTuple_Pack(3, above_object, service, name);
    if (key == NULL) {
        Py_DECREF(above_object);
        return -2;
    }
    PyObject *found = PyDict_GetItemWithError(numbers, key); /* borrowed */
    Py_DECREF(key);
    if (found != NULL) {
        Py_DECREF(above_object);
        Py_INCREF(found);
    } else if (PyErr_Occurred()) {
        Py_DECREF(above_object);
        return -2;
    } else {
        found = PyObject_CallFunctionObjArgs(number, above_object, service, name, NULL);
        Py_DECREF(above_object);
        if (found == NULL) return -2;
    }
    Py_ssize_t result = PyLong_AsSsize_t(found);
    Py_DECREF(found);
    if (result < 0) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "a negative stack number");
        return -2;
    }
    return result;
}

static int add_time(PyObject *local, Py_ssize_t stack, int64_t ns) {
    PyObject *key = PyLong_FromSsize_t(stack);
    if (key == NULL) return -1;
    PyObject *had = PyDict_GetItemWithError(local, key);
    long long total = ns;
    if (had != NULL) {
        total += PyLong_AsLongLong(had);
        if (PyErr_Occurred()) {
            Py_DECREF(key);
            return -1;
        }
    } else if (PyErr_Occurred()) {
        Py_DECREF(key);
        return -1;
    }
    PyObject *value = PyLong_FromLongLong(total);
    int rc = value == NULL ? -1 : PyDict_SetItem(local, key, value);
    Py_XDECREF(value);
    Py_DECREF(key);
    return rc;
}

PyObject *charge_trace(const Document *doc, const Tree *tree, Py_ssize_t t, int strict,
                       PyObject *numbers, PyObject *number) {
    const NativeSpan *spans = doc->spans;
    PyObject *local = PyDict_New();
    if (local == NULL) return NULL;
    Work *work = NULL;
    Keyed *keyed = NULL;
    Py_ssize_t work_capacity = 0, keyed_capacity = 0, top = 0;
    Py_ssize_t root = tree->roots[t];
    const NativeSpan *r = &spans[root];
    if (reserve((void **)&work, &work_capacity, 1, sizeof(Work)) < 0) goto fail;
    work[top++] = (Work){root, r->start_ns, r->end_ns > r->start_ns ? r->end_ns : r->start_ns, -1};
    while (top) {
        Work item = work[--top];
        int64_t start = item.start, end = item.end, own = end - start;
        if (!own) continue; /* a zero window: everything under it is clamped to nothing */
        const NativeSpan *span = &spans[item.span];
        Py_ssize_t stack = stack_number(numbers, number, item.above, span->service, span->name);
        if (stack == -2) goto fail;
        Py_ssize_t first = tree->first_child[item.span], count = tree->child_count[item.span];
        /* Room for every child this span can push. */
        if (reserve((void **)&work, &work_capacity, top + count, sizeof(Work)) < 0) goto fail;
        if (count == 1) {
            Py_ssize_t c = tree->children[first];
            const NativeSpan *child = &spans[c];
            if (!(child->follows_from ||
                  (child->kind == KIND_CONSUMER && span->kind == KIND_PRODUCER))) {
                int64_t c_start = child->start_ns, c_end = child->end_ns;
                if (c_end < c_start) c_end = c_start;
                if (c_start < start) c_start = start;
                if (c_end > end) c_end = end;
                if (c_start < end && c_end > start) {
                    own -= c_end - c_start;
                    work[top++] = (Work){c, c_start, c_end, stack};
                }
            }
        } else if (count > 1) {
            if (reserve((void **)&keyed, &keyed_capacity, count, sizeof(Keyed)) < 0) goto fail;
            int producer = span->kind == KIND_PRODUCER;
            Py_ssize_t kept = 0;
            for (Py_ssize_t index = 0; index < count; index++) {
                Py_ssize_t c = tree->children[first + index];
                const NativeSpan *child = &spans[c];
                if (child->follows_from || (producer && child->kind == KIND_CONSUMER)) continue;
                int64_t c_start = child->start_ns, c_end = child->end_ns;
                if (c_end < c_start) c_end = c_start;
                if (c_start >= start) {
                    if (c_start >= end) continue;
                    if (c_end > end) c_end = end;
                } else {
                    if (c_end <= start) continue;
                    c_start = start;
                    if (c_end > end) c_end = end;
                }
                keyed[kept++] = (Keyed){c_end, index, c_start, c};
            }
            if (kept == 1) {
                own -= keyed[0].end - keyed[0].start;
                work[top++] = (Work){keyed[0].span, keyed[0].start, keyed[0].end, stack};
            } else if (kept > 1) {
                qsort(keyed, (size_t)kept, sizeof(Keyed), by_end);
                Py_ssize_t position = kept;
                for (;;) {
                    Keyed chosen = keyed[position - 1];
                    own -= chosen.end - chosen.start;
                    work[top++] = (Work){chosen.span, chosen.start, chosen.end, stack};
                    /* bisect over keyed[0 .. position - 1) by end */
                    Py_ssize_t low = 0, high = position - 1;
                    while (low < high) {
                        Py_ssize_t middle = low + (high - low) / 2;
                        int before = strict ? keyed[middle].end < chosen.start
                                            : keyed[middle].end <= chosen.start;
                        if (before) low = middle + 1;
                        else high = middle;
                    }
                    position = low;
                    /* a zero-length child at that very instant would be picked forever */
                    if (!strict)
                        while (position && keyed[position - 1].start >= chosen.start) position--;
                    if (!position) break;
                }
            }
        }
        if (own && add_time(local, stack, own) < 0) goto fail;
    }
    PyMem_Free(work);
    PyMem_Free(keyed);
    return local;
fail:
    PyMem_Free(work);
    PyMem_Free(keyed);
    Py_DECREF(local);
    return NULL;
}
