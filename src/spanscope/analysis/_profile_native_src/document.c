/*
 * A Jaeger JSON document -> spans with what the profile reads (document.h), or given up.
 *
 * The reference is spanscope.formats.jaeger_lean.read_projected: a document read here gives
 * the ids, names, times, kinds, FOLLOWS_FROM marks and services that projection gives, and one
 * it gives back (None) is always given up here too. Shapes taken: {"data": [trace, ...]} with
 * "total", "limit", "offset" (integers or null), "errors" (null) and "processes" beside it; a
 * trace {"traceID", "spans", "processes", "warnings": null or []}; a span with the fields of
 * jaeger_structs.RawSpan. Given up (the Python path reads the document then): any other key or
 * shape, a key given twice, an escape or a non-ASCII byte in an id, key, name or process id, a
 * number that is not a plain integer within the struct's bounds, a span end past int64, an
 * inline process, span or trace warnings, more than one reference or a reference the
 * projection would hand to the full reader, a parent id other than the "no parent" spellings
 * (with references or without: the full reader's rules), a trace split over two "data"
 * entries or whose spans name two trace ids, no spans at all. Spans that never ended or end
 * before they start are read as the projection reads them; walk.c leaves their traces to
 * Python.
 *
 * What msgspec checks in the Python path is checked by the same Python code here, through the
 * hooks: each distinct tag list (its kind), each trace's processes, any logs, and ids that are
 * not already canonical (jaeger_lean's own normalisation).
 */
#include "document.h"

#include "cache.h"
#include "reserve.h"

#define MAX_MICROS 9223372036854775ULL /* (2**63 - 1) // 1000: jaeger_structs._Micros */
#define MAX_NEGATIVE_DURATION 9223372036854775ULL /* 2**63 // 1000: jaeger_structs._Duration */
#define MAX_FLAGS 4294967295ULL

static Cache tag_kinds; /* tag list bytes -> kind (number) */
static Cache names;     /* operation name bytes -> str (value) */

/* The processes of the last few traces, as their raw bytes and what the hook made of them:
 * the traces of a data set mostly repeat the same few (one set per kind of request). */
#define RECENT_PROCESSES 8
static struct {
    char *bytes;
    size_t n;
    PyObject *processes;
} recent[RECENT_PROCESSES];
static unsigned next_recent;

/* The caches are kept between documents (a data set repeats its tag lists, names and
 * processes) and cleared, between documents, when one is full. */
static void caches_clear(void) {
    cache_clear(&tag_kinds);
    cache_clear(&names);
    for (int i = 0; i < RECENT_PROCESSES; i++) {
        PyMem_Free(recent[i].bytes);
        Py_CLEAR(recent[i].processes);
        recent[i].bytes = NULL;
    }
}

void document_free(Document *doc) {
    PyMem_Free(doc->spans);
    PyMem_Free(doc->traces);
    Py_CLEAR(doc->held);
    doc->spans = NULL;
    doc->traces = NULL;
}

/* -1 with an error set, 0 to give up, 1 fine: the result convention of this file. */
#define TRY(x)                                                                                \
    do {                                                                                      \
        int rc_ = (x);                                                                        \
        if (rc_ <= 0) return rc_;                                                             \
    } while (0)

static int hold(Document *doc, PyObject *object) {
    if (doc->held == NULL && (doc->held = PyList_New(0)) == NULL) return -1;
    return PyList_Append(doc->held, object) == 0 ? 1 : -1;
}

/* Lowercase hex digits -> their value; everything else 16 (ids are canonical only in
 * lowercase: jaeger_lean's rule). */
static uint8_t hex_value[256];

static void init_hex(void) {
    memset(hex_value, 16, sizeof(hex_value));
    for (int c = '0'; c <= '9'; c++) hex_value[c] = (uint8_t)(c - '0');
    for (int c = 'a'; c <= 'f'; c++) hex_value[c] = (uint8_t)(c - 'a' + 10);
}

/* Whether s[0 .. 16) are lowercase hex digits; their number in `value`. One pass with a table:
 * this runs for two or three ids of every span. */
static int hex16(const char *s, uint64_t *value) {
    const unsigned char *p = (const unsigned char *)s;
    uint64_t number = 0;
    unsigned bad = 0;
    for (int i = 0; i < 16; i++) {
        uint8_t value_of = hex_value[p[i]];
        bad |= value_of;
        number = (number << 4) | (value_of & 15);
    }
    *value = number;
    return !(bad & 16);
}

/* Whether `s` is a canonical span id (16 lowercase hex digits, not all zeros): its number. */
static int parse_span_id(Slice s, uint64_t *value) {
    return s.n == 16 && hex16(s.s, value) && *value != 0;
}

/* Whether `s` is `width` (16 or 32) lowercase hex digits, not all zeros. */
static int is_hex(Slice s, size_t width) {
    uint64_t high, low = 0;
    if (s.n != width || !hex16(s.s, &high)) return 0;
    if (width == 32 && !hex16(s.s + 16, &low)) return 0;
    return (high | low) != 0;
}

/* An id as jaeger_lean normalises it: canonical ids as they are, any other through the hook
 * (which gives up on what the projection gives back). `out` gets `width` hex digits. */
static int normalized_id(const Hooks *hooks, Slice s, size_t width, char *out) {
    if (is_hex(s, width)) {
        memcpy(out, s.s, width);
        return 1;
    }
    PyObject *text = PyUnicode_DecodeASCII(s.s, (Py_ssize_t)s.n, "strict");
    if (text == NULL) return -1;
    PyObject *result = PyObject_CallFunction(hooks->normalize_id, "On", text, (Py_ssize_t)width);
    Py_DECREF(text);
    if (result == NULL) return -1;
    int rc = 0;
    if (PyUnicode_Check(result) && PyUnicode_IS_ASCII(result) &&
        (size_t)PyUnicode_GET_LENGTH(result) == width) {
        Slice normal = {(const char *)PyUnicode_1BYTE_DATA(result), width};
        if (is_hex(normal, width)) {
            memcpy(out, normal.s, width);
            rc = 1;
        }
    }
    Py_DECREF(result);
    return rc;
}

/* Calls a hook with the bytes of a raw value; its result (new reference) or NULL. */
static PyObject *call_with_bytes(PyObject *hook, Slice raw) {
    PyObject *bytes = PyBytes_FromStringAndSize(raw.s, (Py_ssize_t)raw.n);
    if (bytes == NULL) return NULL;
    PyObject *result = PyObject_CallOneArg(hook, bytes);
    Py_DECREF(bytes);
    return result;
}

/* The kind a tag list gives (jaeger_lean's tag cache, through the hook once per list), and
 * its cache entry (NULL if the cache is full). */
static int tag_kind(const Hooks *hooks, Slice raw, uint8_t *kind, const CacheEntry **found) {
    *found = NULL;
    if (raw.n == 0) {
        *kind = KIND_OTHER;
        return 1;
    }
    uint64_t hash = hash_sampled(raw.s, raw.n);
    CacheEntry *entry = cache_find(&tag_kinds, raw.s, raw.n, hash);
    if (entry != NULL) {
        *kind = (uint8_t)entry->number;
        *found = entry;
        return 1;
    }
    PyObject *result = call_with_bytes(hooks->tag_kind, raw);
    if (result == NULL) return -1;
    if (result == Py_None) {
        Py_DECREF(result);
        return 0;
    }
    long number = PyLong_AsLong(result);
    Py_DECREF(result);
    if (number == -1 && PyErr_Occurred()) return -1;
    if (number < KIND_OTHER || number > KIND_CONSUMER) return 0;
    int failed;
    *found = cache_add(&tag_kinds, raw.s, raw.n, hash, NULL, number, &failed);
    if (failed) return -1;
    *kind = (uint8_t)number;
    return 1;
}

/* The span's tags, read at the scanner. Spans of one operation mostly repeat a few tag lists
 * (a client's and a server's, say): the lists the name led to lately are compared first, and
 * where the document's bytes are one of them (a complete JSON value, so the value there is
 * exactly that one) they need no scanning. */
static int read_tags(Scanner *sc, const Hooks *hooks, CacheEntry *name, uint8_t *kind) {
    skip_space(sc);
    size_t left = (size_t)(sc->end - sc->p);
    if (name != NULL) {
        for (int i = 0; i < HINTS; i++) {
            const CacheEntry *hint = name->hints[i];
            if (hint != NULL && left >= hint->n && memcmp(sc->p, hint->bytes, hint->n) == 0) {
                sc->p += hint->n;
                *kind = (uint8_t)hint->number;
                return 1;
            }
        }
    }
    Slice raw;
    if (!raw_value(sc, &raw)) return 0;
    const CacheEntry *found;
    TRY(tag_kind(hooks, raw, kind, &found));
    if (name != NULL && found != NULL) {
        name->hints[name->next_hint] = found;
        name->next_hint = (name->next_hint + 1) % HINTS;
    }
    return 1;
}

/* The str of an operation name, borrowed from the name cache or the document, and its cache
 * entry (NULL when the cache is full). */
static int name_of(Document *doc, Slice s, PyObject **out, CacheEntry **found) {
    uint64_t hash = hash_all(s.s, s.n);
    CacheEntry *entry = cache_find(&names, s.s, s.n, hash);
    *found = entry;
    if (entry != NULL) {
        *out = entry->value;
        return 1;
    }
    PyObject *text = PyUnicode_DecodeASCII(s.s, (Py_ssize_t)s.n, "strict");
    if (text == NULL) return -1;
    if (cache_full(&names)) { /* the document holds it until the cache is cleared */
        int rc = hold(doc, text);
        Py_DECREF(text);
        *out = text;
        return rc;
    }
    int failed;
    entry = cache_add(&names, s.s, s.n, hash, text, 0, &failed);
    if (failed) return -1;
    *found = entry;
    *out = entry->value;
    return 1;
}

/* null, [] or a list the hook finds fine (logs are decoded only to be checked). */
static int check_logs(Scanner *sc, const Hooks *hooks) {
    if (literal(sc, "null")) return 1;
    const char *at = sc->p;
    if (take(sc, '[') && take(sc, ']')) return 1;
    sc->p = at;
    Slice raw;
    if (!raw_value(sc, &raw)) return 0;
    PyObject *result = call_with_bytes(hooks->logs_ok, raw);
    if (result == NULL) return -1;
    int ok = PyObject_IsTrue(result);
    Py_DECREF(result);
    return ok;
}

/* null or [] (warnings and inline processes: anything else is given up). */
static int nothing(Scanner *sc) {
    if (literal(sc, "null")) return 1;
    return take(sc, '[') && take(sc, ']');
}

/* The keys of an object, one at a time: 1 with the next key, 0 at its end or on anything
 * malformed (*done tells which), leaving the scanner at the value. */
static int next_key(Scanner *sc, int *first, Slice *key, int *done) {
    *done = 0;
    if (*first) {
        *first = 0;
        if (take(sc, '}')) {
            *done = 1;
            return 0;
        }
    } else {
        if (take(sc, '}')) {
            *done = 1;
            return 0;
        }
        if (!take(sc, ',')) return 0;
    }
    if (!plain_string(sc, key)) return 0;
    return take(sc, ':');
}

/* Marks a key as seen; 0 if it was already. */
static int first_time(unsigned *seen, unsigned bit) {
    if (*seen & bit) return 0;
    *seen |= bit;
    return 1;
}

typedef struct {
    Slice ref_type, trace_id, span_id;
    int count;
} References;

static int read_reference(Scanner *sc, References *refs) {
    if (!take(sc, '{')) return 0;
    Slice ref_type = {"CHILD_OF", 8}, trace_id = {"", 0}, span_id = {"", 0}, key;
    unsigned seen = 0;
    int first = 1, done;
    while (next_key(sc, &first, &key, &done)) {
        Slice *into;
        if (slice_is(key, "refType") && first_time(&seen, 1)) into = &ref_type;
        else if (slice_is(key, "traceID") && first_time(&seen, 2)) into = &trace_id;
        else if (slice_is(key, "spanID") && first_time(&seen, 4)) into = &span_id;
        else return 0;
        if (!plain_string(sc, into)) return 0;
    }
    if (!done) return 0;
    if (refs->count++ == 0) {
        refs->ref_type = ref_type;
        refs->trace_id = trace_id;
        refs->span_id = span_id;
    }
    return 1;
}

static int read_references(Scanner *sc, References *refs) {
    if (literal(sc, "null")) return 1;
    if (!take(sc, '[')) return 0;
    if (take(sc, ']')) return 1;
    do {
        TRY(read_reference(sc, refs));
    } while (take(sc, ','));
    return take(sc, ']');
}

/* Is the parent id of a span without references one of the "no parent" spellings? */
static int no_parent(Slice s) {
    if (s.n == 0 || (s.n == 1 && s.s[0] == '0')) return 1;
    if (s.n != 16 && s.n != 32) return 0;
    for (size_t i = 0; i < s.n; i++)
        if (s.s[i] != '0') return 0;
    return 1;
}

static int read_span(Scanner *sc, const Hooks *hooks, Document *doc) {
    if (!take(sc, '{')) return 0;
    if (reserve((void **)&doc->spans, &doc->span_capacity, doc->span_count + 1,
                sizeof(NativeSpan)) < 0)
        return -1;
    NativeSpan *span = &doc->spans[doc->span_count];
    Slice trace_id = {"", 0}, span_id = {"", 0}, parent = {"", 0}, name = {"", 0};
    Slice process_id = {"", 0}, key;
    CacheEntry *name_entry = NULL;
    int has_name = 0, has_tags = 0;
    References refs = {{"", 0}, {"", 0}, {"", 0}, 0};
    uint64_t start = 0, flags;
    int64_t duration = 0;
    int has_duration = 0;
    unsigned seen = 0;
    int first = 1, done;
    while (next_key(sc, &first, &key, &done)) {
        /* Keys by their first letter, then in full: this loop runs for every field of every
         * span. */
        int ok = 0;
        switch (key.s[0]) {
        case 't':
            if (slice_is(key, "traceID") && first_time(&seen, 1)) ok = plain_string(sc, &trace_id);
            else if (slice_is(key, "tags") && first_time(&seen, 2)) {
                /* (exports write the name first; after the tags it gives no hint) */
                ok = read_tags(sc, hooks, name_entry, &span->kind);
                has_tags = 1;
            }
            break;
        case 's':
            if (slice_is(key, "spanID") && first_time(&seen, 4)) ok = plain_string(sc, &span_id);
            else if (slice_is(key, "startTime") && first_time(&seen, 8))
                ok = unsigned_integer(sc, MAX_MICROS, &start);
            break;
        case 'p':
            if (slice_is(key, "processID") && first_time(&seen, 16))
                ok = plain_string(sc, &process_id);
            else if (slice_is(key, "parentSpanID") && first_time(&seen, 32))
                ok = plain_string(sc, &parent);
            else if (slice_is(key, "process") && first_time(&seen, 64)) ok = literal(sc, "null");
            break;
        case 'o':
            if (slice_is(key, "operationName") && first_time(&seen, 128)) {
                ok = plain_string(sc, &name);
                if (ok > 0) {
                    TRY(name_of(doc, name, &span->name, &name_entry));
                    has_name = 1;
                }
            }
            break;
        case 'r':
            if (slice_is(key, "references") && first_time(&seen, 256))
                ok = read_references(sc, &refs);
            break;
        case 'd':
            if (slice_is(key, "duration") && first_time(&seen, 512)) {
                /* null: a span that never ended (end 0), left to walk.c's check */
                ok = literal(sc, "null") || (has_duration = signed_integer(sc, MAX_NEGATIVE_DURATION,
                                                                            MAX_MICROS, &duration));
            }
            break;
        case 'f':
            if (slice_is(key, "flags") && first_time(&seen, 1024))
                ok = unsigned_integer(sc, MAX_FLAGS, &flags);
            break;
        case 'l':
            if (slice_is(key, "logs") && first_time(&seen, 2048)) ok = check_logs(sc, hooks);
            break;
        case 'w':
            if (slice_is(key, "warnings") && first_time(&seen, 4096)) ok = nothing(sc);
            break;
        }
        if (ok <= 0) return ok;
    }
    if (!done) return 0;
    int64_t start_ns = (int64_t)start * 1000;
    if (duration > (INT64_MAX - start_ns) / 1000) return 0; /* an end past int64 */
    span->start_ns = start_ns;
    /* As the projection: no duration, no end (0); a negative one ends before the start. Both
     * are traces assembly reports on, left to the Python path by walk.c. */
    span->end_ns = has_duration ? start_ns + duration * 1000 : 0;

    if (!parse_span_id(span_id, &span->span_id)) {
        char id[16];
        TRY(normalized_id(hooks, span_id, 16, id));
        Slice normal = {id, 16};
        if (!parse_span_id(normal, &span->span_id)) return 0;
    }
    span->follows_from = 0;
    if (refs.count == 1 && parent.n == 0) {
        /* One reference to a parent in the same trace, as jaeger_lean takes it. */
        int child_of = slice_is(refs.ref_type, "CHILD_OF");
        if (!(child_of || slice_is(refs.ref_type, "FOLLOWS_FROM"))) return 0;
        if (refs.trace_id.n != trace_id.n || memcmp(refs.trace_id.s, trace_id.s, trace_id.n))
            return 0;
        if (!parse_span_id(refs.span_id, &span->parent_id)) return 0;
        span->follows_from = !child_of;
    } else if (refs.count == 0 && no_parent(parent)) {
        span->parent_id = 0;
    } else {
        return 0; /* the full reader's reference rules */
    }
    if (!has_name) TRY(name_of(doc, name, &span->name, &name_entry));
    if (!has_tags) span->kind = KIND_OTHER;
    if (process_id.n == 0) return 0;
    span->process_id = process_id;
    span->raw_trace_id = trace_id;
    span->service = NULL;
    doc->span_count++;
    return 1;
}

/* A trace's processes, read at the scanner ("processes" absent: `absent`): {process id:
 * (service, resource attributes)} from the hook, which converts them as the Python path does
 * and gives up on any that would warn; borrowed (the document holds it). Recent ones are
 * compared first, as tag lists are (read_tags). */
static int read_processes(Scanner *sc, int absent, const Hooks *hooks, Document *doc,
                          PyObject **out) {
    Slice raw = {"", 0};
    if (!absent) {
        skip_space(sc);
        size_t left = (size_t)(sc->end - sc->p);
        for (int i = 0; i < RECENT_PROCESSES; i++) {
            if (recent[i].bytes != NULL && left >= recent[i].n &&
                memcmp(sc->p, recent[i].bytes, recent[i].n) == 0) {
                sc->p += recent[i].n;
                *out = recent[i].processes;
                return hold(doc, *out);
            }
        }
        if (!raw_value(sc, &raw)) return 0;
    }
    PyObject *processes = call_with_bytes(hooks->processes, raw);
    if (processes == NULL) return -1;
    if (!PyDict_Check(processes)) { /* None: given up */
        Py_DECREF(processes);
        return 0;
    }
    int rc = hold(doc, processes);
    *out = processes;
    if (rc > 0 && raw.n > 0) {
        char *copy = PyMem_Malloc(raw.n);
        if (copy != NULL) { /* (no room: simply not remembered) */
            memcpy(copy, raw.s, raw.n);
            unsigned slot = next_recent;
            next_recent = (next_recent + 1) % RECENT_PROCESSES;
            PyMem_Free(recent[slot].bytes);
            Py_XSETREF(recent[slot].processes, Py_NewRef(processes));
            recent[slot].bytes = copy;
            recent[slot].n = raw.n;
        }
    }
    Py_DECREF(processes); /* held by the document */
    return rc;
}

/* Each span of a trace (spans[first ..]) gets its service from the trace's processes. */
static int resolve_services(Document *doc, Py_ssize_t first, PyObject *processes) {
    Slice last = {NULL, 0};
    PyObject *service = NULL;
    for (Py_ssize_t i = first; i < doc->span_count; i++) {
        NativeSpan *span = &doc->spans[i];
        Slice id = span->process_id;
        if (service == NULL || id.n != last.n || memcmp(id.s, last.s, id.n) != 0) {
            PyObject *key = PyUnicode_DecodeASCII(id.s, (Py_ssize_t)id.n, "strict");
            if (key == NULL) return -1;
            PyObject *process = PyDict_GetItemWithError(processes, key);
            Py_DECREF(key);
            if (process == NULL) return PyErr_Occurred() ? -1 : 0;
            if (!PyTuple_Check(process) || PyTuple_GET_SIZE(process) < 1) return 0;
            service = PyTuple_GET_ITEM(process, 0);
            if (!PyUnicode_Check(service)) return 0;
            last = id;
        }
        span->service = service;
    }
    return 1;
}

/* The trace id of every span of one "data" entry (the span's own, else the entry's), which
 * must be one and the same. */
static int entry_trace_id(const Hooks *hooks, Document *doc, Py_ssize_t first, Slice fallback,
                          char *out) {
    Slice last = {NULL, 0};
    for (Py_ssize_t i = first; i < doc->span_count; i++) {
        Slice raw = doc->spans[i].raw_trace_id;
        if (raw.n == 0) raw = fallback;
        if (last.s != NULL && raw.n == last.n && memcmp(raw.s, last.s, raw.n) == 0) continue;
        char id[32];
        TRY(normalized_id(hooks, raw, 32, id));
        if (last.s != NULL && memcmp(id, out, 32) != 0) return 0; /* two traces in one entry */
        memcpy(out, id, 32);
        last = raw;
    }
    return 1;
}

static int read_trace(Scanner *sc, const Hooks *hooks, Document *doc) {
    skip_space(sc);
    const char *begin = sc->p;
    if (!take(sc, '{')) return 0;
    Py_ssize_t first_span = doc->span_count;
    Slice trace_id = {"", 0}, key;
    PyObject *processes = NULL;
    unsigned seen = 0;
    int first = 1, done;
    while (next_key(sc, &first, &key, &done)) {
        int ok = 0;
        if (slice_is(key, "traceID") && first_time(&seen, 1)) {
            ok = plain_string(sc, &trace_id);
        } else if (slice_is(key, "spans") && first_time(&seen, 2)) {
            if (literal(sc, "null")) {
                ok = 1;
            } else if (take(sc, '[')) {
                ok = 1;
                if (!take(sc, ']')) {
                    do {
                        ok = read_span(sc, hooks, doc);
                    } while (ok > 0 && take(sc, ','));
                    if (ok > 0) ok = take(sc, ']');
                }
            }
        } else if (slice_is(key, "processes") && first_time(&seen, 4)) {
            ok = read_processes(sc, 0, hooks, doc, &processes);
        } else if (slice_is(key, "warnings") && first_time(&seen, 8)) {
            ok = nothing(sc);
        }
        if (ok <= 0) return ok;
    }
    if (!done) return 0;
    /* Every trace's processes are checked, with spans or without, as the Python path does. */
    if (processes == NULL) TRY(read_processes(sc, 1, hooks, doc, &processes));
    TRY(resolve_services(doc, first_span, processes));
    if (doc->span_count == first_span) return 1;
    if (reserve((void **)&doc->traces, &doc->trace_capacity, doc->trace_count + 1,
                sizeof(NativeTrace)) < 0)
        return -1;
    NativeTrace *trace = &doc->traces[doc->trace_count];
    TRY(entry_trace_id(hooks, doc, first_span, trace_id, trace->trace_id));
    trace->first = first_span;
    trace->count = doc->span_count - first_span;
    trace->text.s = begin;
    trace->text.n = (size_t)(sc->p - begin);
    doc->trace_count++;
    return 1;
}

static int compare_ids(const void *a, const void *b) {
    return memcmp(((const NativeTrace *)a)->trace_id, ((const NativeTrace *)b)->trace_id, 32);
}

/* No trace id twice (a trace split over two entries is grouped by the Python path). */
static int distinct_traces(const Document *doc) {
    Py_ssize_t n = doc->trace_count;
    if (n < 2) return 1;
    NativeTrace *sorted = PyMem_Malloc((size_t)n * sizeof(NativeTrace));
    if (sorted == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(sorted, doc->traces, (size_t)n * sizeof(NativeTrace));
    qsort(sorted, (size_t)n, sizeof(NativeTrace), compare_ids);
    int rc = 1;
    for (Py_ssize_t i = 1; i < n && rc; i++)
        if (memcmp(sorted[i - 1].trace_id, sorted[i].trace_id, 32) == 0) rc = 0;
    PyMem_Free(sorted);
    return rc;
}

int document_read(const char *data, Py_ssize_t size, const Hooks *hooks, Document *doc) {
    if (hex_value[0] == 0) init_hex();
    if (cache_full(&tag_kinds) || cache_full(&names)) caches_clear();
    Scanner sc = {data, data + size};
    if (!take(&sc, '{')) return 0;
    Slice key;
    unsigned seen = 0;
    int first = 1, done;
    while (next_key(&sc, &first, &key, &done)) {
        int ok = 0;
        uint64_t number;
        if (slice_is(key, "data") && first_time(&seen, 1)) {
            if (take(&sc, '[')) {
                ok = 1;
                if (!take(&sc, ']')) {
                    do {
                        ok = read_trace(&sc, hooks, doc);
                    } while (ok > 0 && take(&sc, ','));
                    if (ok > 0) ok = take(&sc, ']');
                }
            }
        } else if ((slice_is(key, "total") && first_time(&seen, 2)) ||
                   (slice_is(key, "limit") && first_time(&seen, 4)) ||
                   (slice_is(key, "offset") && first_time(&seen, 8))) {
            ok = literal(&sc, "null") || unsigned_integer(&sc, UINT64_MAX, &number);
        } else if (slice_is(key, "errors") && first_time(&seen, 16)) {
            ok = literal(&sc, "null");
        } else if (slice_is(key, "processes") && first_time(&seen, 32)) {
            /* Beside data: unused, but checked as the Python path checks it. */
            PyObject *unused;
            ok = read_processes(&sc, 0, hooks, doc, &unused);
        }
        if (ok <= 0) return ok;
    }
    if (!done || !(seen & 1)) return 0;
    skip_space(&sc);
    if (sc.p != sc.end) return 0; /* something after the document */
    if (doc->span_count == 0) return 0; /* the Python path looks for related formats */
    return distinct_traces(doc);
}
