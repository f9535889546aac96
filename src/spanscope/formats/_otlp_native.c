/*
 * spanscope.formats._otlp_native: OTLP protobuf TracesData -> spanscope model spans, in C.
 *
 * Why: opentelemetry-proto's upb messages hand Python one wrapper object per field access, which
 * caps the Python conversion loop far below the 400k spans/s target. The OpenTelemetry
 * Collector's pdata took the same road for the same reason: it moved from generic gogoproto to
 * its own generated marshal/unmarshal code for speed. This module walks the protobuf wire format
 * of TracesData (== ExportTraceServiceRequest) itself and builds the very Span, Event and Link
 * msgspec Structs that spanscope.formats.otlp_proto builds from upb.
 *
 * Contract (one semantics, two engines): the upb path in otlp_proto.py is the reference.
 *   check(data)  walks the whole message without building anything and says whether this
 *                decoder gives exactly the upb path's result. It answers False (give up) for
 *                anything unusual: truncation or garbage, invalid UTF-8, ids of the wrong length
 *                or all zeros, enum values outside the model's, a singular message field or two
 *                members of a oneof given twice (protobuf merges them), groups, nesting deeper
 *                than MAX_DEPTH, varints past 64 bits, tags past 5 bytes or lengths of 2 GiB or
 *                more (upb's limits), and fields upb knows and this decoder does not handle.
 *                The caller then runs the upb path, so errors and warnings stay as they are.
 *   Spans(data)  iterates the spans of a message check() accepted, building each lazily, with
 *                resource and scope attribute dicts cached by their bytes and shared between
 *                spans, as the upb path does. It fails only on MemoryError (on a message check()
 *                did not accept it raises RuntimeError, and stays at its end). The two
 *                markers otlp_common.model_span takes out are taken out the same way: the span
 *                attribute spanscope.shared = true here, a FOLLOWS_FROM link by calling
 *                otlp_common.split_follows_from itself (only for a span with a parent and a link
 *                attribute opentracing.ref_type, the only spans where it can change anything).
 *   configure()  is called once at import by otlp_native.py with the model classes, the enum
 *                members, the marker keys, split_follows_from and, per message type, the field
 *                numbers upb knows.
 * Every read is bounds-checked; both passes share the same parser (build = 0 or 1).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define OK 0
#define ERR (-1)   /* a Python exception is set */
#define GIVEUP 1   /* not for this decoder: let the upb path read the message */
#define MAX_DEPTH 32 /* message nesting; upb's limit is 100, real traces stay under 15 */
#define CACHE_LIMIT 4096

enum {
    M_TRACES, M_RS, M_SS, M_SPAN, M_EVENT, M_LINK, M_STATUS, M_RESOURCE, M_SCOPE, M_KV, M_ANY,
    M_ARRAY, M_KVLIST, M_COUNT
};

#define B(n) (1ULL << (n))
/* Fields each message type has a case for (used or checked and skipped). */
static const uint64_t HANDLED[M_COUNT] = {
    B(1), B(1) | B(2) | B(3), B(1) | B(2) | B(3),
    B(1) | B(2) | B(3) | B(4) | B(5) | B(6) | B(7) | B(8) | B(9) | B(10) | B(11) | B(12) | B(13) |
        B(14) | B(15) | B(16),
    B(1) | B(2) | B(3) | B(4), B(1) | B(2) | B(3) | B(4) | B(5) | B(6), B(2) | B(3), B(1) | B(2),
    B(1) | B(2) | B(3) | B(4), B(1) | B(2) | B(3), B(1) | B(2) | B(3) | B(4) | B(5) | B(6) | B(7),
    B(1), B(1),
};
/* The subset whose values reach the model: upb must know every one of them. */
static const uint64_t USED[M_COUNT] = {
    B(1), B(1) | B(2), B(1) | B(2),
    B(1) | B(2) | B(3) | B(4) | B(5) | B(6) | B(7) | B(8) | B(9) | B(10) | B(11) | B(12) | B(13) |
        B(14) | B(15) | B(16),
    B(1) | B(2) | B(3) | B(4), B(1) | B(2) | B(3) | B(4) | B(5) | B(6), B(2) | B(3), B(1),
    B(1) | B(2) | B(3), B(1) | B(2), B(1) | B(2) | B(3) | B(4) | B(5) | B(6) | B(7), B(1), B(1),
};

static uint64_t giveup_mask[M_COUNT]; /* known to upb, not handled here */
static PyObject *SpanType, *EventType, *LinkType, *Kinds[6], *Codes[3], *SharedKey, *FollowsKey;
static PyObject *SplitFollows; /* otlp_common.split_follows_from */
static int configured;

/* --- wire format primitives (all bounds-checked) --------------------------------------- */

static inline int read_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out) {
    const uint8_t *p = *pp;
    uint64_t value = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (p >= end) return GIVEUP;
        uint8_t byte = *p++;
        if (shift == 63 && byte > 1) return GIVEUP; /* over 64 bits */
        value |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *pp = p;
            *out = value;
            return OK;
        }
    }
    return GIVEUP;
}

static inline int read_tag(const uint8_t **pp, const uint8_t *end, uint32_t *field, int *wt) {
    uint64_t tag;
    const uint8_t *p = *pp;
    if (p < end && *p < 0x80) { /* one-byte tag: the common case */
        tag = *p;
        *pp = p + 1;
    } else if (read_varint(pp, end, &tag) || *pp - p > 5) {
        return GIVEUP; /* upb rejects tags longer than 5 bytes, however small their value */
    }
    if (tag > 0xffffffffu || (tag >> 3) == 0) return GIVEUP;
    *field = (uint32_t)(tag >> 3);
    *wt = (int)(tag & 7);
    return OK;
}

static inline int read_len(const uint8_t **pp, const uint8_t *end, const uint8_t **s,
                           const uint8_t **e) {
    uint64_t n;
    if (read_varint(pp, end, &n)) return GIVEUP;
    if (n >= INT32_MAX || n > (uint64_t)(end - *pp)) return GIVEUP; /* upb's limit, too */
    *s = *pp;
    *e = *pp + n;
    *pp += n;
    return OK;
}

static inline int read_fixed64(const uint8_t **pp, const uint8_t *end, uint64_t *out) {
    const uint8_t *p = *pp;
    if (end - p < 8) return GIVEUP;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    *out = v;
    *pp = p + 8;
    return OK;
}

static inline int read_fixed32(const uint8_t **pp, const uint8_t *end, uint32_t *out) {
    const uint8_t *p = *pp;
    if (end - p < 4) return GIVEUP;
    *out = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    *pp = p + 4;
    return OK;
}

static inline int read_uint32(const uint8_t **pp, const uint8_t *end, uint32_t *out) {
    uint64_t v;
    if (read_varint(pp, end, &v) || v > 0xffffffffu) return GIVEUP; /* upb would truncate */
    *out = (uint32_t)v;
    return OK;
}

static int skip_field(const uint8_t **pp, const uint8_t *end, int msg, uint32_t field, int wt) {
    uint64_t v;
    const uint8_t *s, *e;
    if (field < 64 && ((giveup_mask[msg] >> field) & 1)) return GIVEUP;
    switch (wt) {
    case 0: return read_varint(pp, end, &v);
    case 1: return read_fixed64(pp, end, &v);
    case 2: return read_len(pp, end, &s, &e);
    case 5: {
        uint32_t w;
        return read_fixed32(pp, end, &w);
    }
    default: return GIVEUP; /* groups (3, 4) and invalid wire types */
    }
}

/* Strict UTF-8 as upb and Python check it: no overlongs, no surrogates, nothing over U+10FFFF. */
static int utf8_valid(const uint8_t *s, const uint8_t *end) {
    while (s < end) {
        if (end - s >= 8) {
            uint64_t w;
            memcpy(&w, s, 8);
            if (!(w & 0x8080808080808080ULL)) {
                s += 8;
                continue;
            }
        }
        uint8_t c = *s;
        if (c < 0x80) {
            s++;
        } else if (c >= 0xc2 && c <= 0xdf) {
            if (end - s < 2 || (s[1] & 0xc0) != 0x80) return 0;
            s += 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            if (end - s < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80) return 0;
            if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f)) return 0;
            s += 3;
        } else if (c >= 0xf0 && c <= 0xf4) {
            if (end - s < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
                (s[3] & 0xc0) != 0x80)
                return 0;
            if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f)) return 0;
            s += 4;
        } else {
            return 0;
        }
    }
    return 1;
}

/* A string field: checked in the first pass, decoded (Python checks again) in the second. */
static inline int string_field(int wt, const uint8_t **pp, const uint8_t *end, int build,
                               const uint8_t **s, const uint8_t **e) {
    if (wt != 2 || read_len(pp, end, s, e)) return GIVEUP;
    if (!build && !utf8_valid(*s, *e)) return GIVEUP;
    return OK;
}

/* Keys, names and many values repeat from span to span: a direct-mapped cache of short ASCII
 * strings hands out the same str again (no allocation, and its hash is already computed for the
 * dict insert). Strings are immutable, so sharing them is invisible to callers. The cache lives
 * as long as the module; only the GIL holder touches it. */
#define STR_CACHE_SIZE 4096 /* a power of two */
#define STR_CACHE_MAX_LEN 48
static PyObject *str_cache[STR_CACHE_SIZE];

static inline size_t str_slot(const uint8_t *s, Py_ssize_t n) {
    uint64_t a = 0, z = 0;
    if (n >= 8) {
        memcpy(&a, s, 8);
        memcpy(&z, s + n - 8, 8);
    } else {
        for (Py_ssize_t i = 0; i < n; i++) a = (a << 8) | s[i];
    }
    uint64_t h = (a ^ ((uint64_t)n << 56)) * 0x9e3779b97f4a7c15ULL;
    h = (h ^ (h >> 29) ^ z) * 0xbf58476d1ce4e5b9ULL;
    return (size_t)(h >> 40) & (STR_CACHE_SIZE - 1);
}

/* memcmp() == 0 for the short runs here, inline: the libc call costs more than the compare. */
static inline int same_bytes(const uint8_t *a, const uint8_t *b, Py_ssize_t n) {
    for (; n >= 8; a += 8, b += 8, n -= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y) return 0;
    }
    for (; n > 0; n--)
        if (*a++ != *b++) return 0;
    return 1;
}

static inline PyObject *make_str(const uint8_t *s, const uint8_t *e) {
    Py_ssize_t n = e - s;
    if (n == 0 || n > STR_CACHE_MAX_LEN) return PyUnicode_DecodeUTF8((const char *)s, n, NULL);
    size_t slot = str_slot(s, n);
    PyObject *hit = str_cache[slot];
    if (hit != NULL && PyUnicode_GET_LENGTH(hit) == n && same_bytes(PyUnicode_DATA(hit), s, n))
        return Py_NewRef(hit); /* cached strings are ASCII: length and bytes match */
    uint8_t ascii = 0;
    for (Py_ssize_t i = 0; i < n; i++) ascii |= s[i];
    if (ascii & 0x80) return PyUnicode_DecodeUTF8((const char *)s, n, NULL);
    PyObject *out = PyUnicode_New(n, 127);
    if (out == NULL) return NULL;
    memcpy(PyUnicode_1BYTE_DATA(out), s, n);
    Py_XSETREF(str_cache[slot], Py_NewRef(out));
    return out;
}

static int id_ok(const uint8_t *s, const uint8_t *e, Py_ssize_t size) {
    if (e - s != size) return 0;
    for (Py_ssize_t i = 0; i < size; i++)
        if (s[i]) return 1;
    return 0; /* all zeros */
}

static PyObject *make_hex(const uint8_t *s, const uint8_t *e) {
    static const char digits[] = "0123456789abcdef";
    Py_ssize_t n = e - s;
    PyObject *out = PyUnicode_New(2 * n, 127);
    if (out == NULL) return NULL;
    Py_UCS1 *d = PyUnicode_1BYTE_DATA(out);
    for (Py_ssize_t i = 0; i < n; i++) {
        d[2 * i] = digits[s[i] >> 4];
        d[2 * i + 1] = digits[s[i] & 15];
    }
    return out;
}

/* --- attribute values -------------------------------------------------------------------- */

static int parse_kv(const uint8_t *p, const uint8_t *end, int depth, int build, PyObject *dict,
                    const uint8_t **key, const uint8_t **key_end);

static int parse_any(const uint8_t *p, const uint8_t *end, int depth, int build,
                     PyObject **out);

static int parse_array(const uint8_t *p, const uint8_t *end, int depth, int build,
                       PyObject **out) {
    PyObject *list = NULL;
    if (depth > MAX_DEPTH) return GIVEUP;
    if (build && (list = PyList_New(0)) == NULL) return ERR;
    while (p < end) {
        uint32_t field;
        int wt, rc;
        const uint8_t *s, *e;
        if (read_tag(&p, end, &field, &wt)) goto giveup;
        if (field == 1) {
            PyObject *item = NULL;
            if (wt != 2 || read_len(&p, end, &s, &e)) goto giveup;
            rc = parse_any(s, e, depth + 1, build, build ? &item : NULL);
            if (rc == ERR) goto error;
            if (rc) goto giveup;
            if (build) {
                rc = PyList_Append(list, item);
                Py_DECREF(item);
                if (rc) goto error;
            }
        } else if (skip_field(&p, end, M_ARRAY, field, wt)) {
            goto giveup;
        }
    }
    if (build) *out = list;
    return OK;
giveup:
    Py_XDECREF(list);
    return GIVEUP;
error:
    Py_XDECREF(list);
    return ERR;
}

static int parse_kvlist(const uint8_t *p, const uint8_t *end, int depth, int build,
                        PyObject **out) {
    PyObject *dict = NULL;
    if (depth > MAX_DEPTH) return GIVEUP;
    if (build && (dict = PyDict_New()) == NULL) return ERR;
    while (p < end) {
        uint32_t field;
        int wt, rc;
        const uint8_t *s, *e, *k, *ke;
        if (read_tag(&p, end, &field, &wt)) goto giveup;
        if (field == 1) {
            if (wt != 2 || read_len(&p, end, &s, &e)) goto giveup;
            rc = parse_kv(s, e, depth + 1, build, dict, &k, &ke);
            if (rc == ERR) goto error;
            if (rc) goto giveup;
        } else if (skip_field(&p, end, M_KVLIST, field, wt)) {
            goto giveup;
        }
    }
    if (build) *out = dict;
    return OK;
giveup:
    Py_XDECREF(dict);
    return GIVEUP;
error:
    Py_XDECREF(dict);
    return ERR;
}

/* AnyValue: a oneof. Given twice, protobuf keeps the last (or merges messages): give up. */
static int parse_any(const uint8_t *p, const uint8_t *end, int depth, int build,
                     PyObject **out) {
    PyObject *value = NULL;
    int seen = 0, rc;
    if (depth > MAX_DEPTH) return GIVEUP;
    while (p < end) {
        uint32_t field;
        int wt;
        uint64_t v;
        const uint8_t *s, *e;
        if (read_tag(&p, end, &field, &wt)) goto giveup;
        switch (field) {
        case 1:
            if (seen++ || string_field(wt, &p, end, build, &s, &e)) goto giveup;
            if (build && (value = make_str(s, e)) == NULL) goto error;
            break;
        case 2:
            if (seen++ || wt != 0 || read_varint(&p, end, &v) || v > 1) goto giveup;
            if (build) value = PyBool_FromLong((long)v);
            break;
        case 3:
            if (seen++ || wt != 0 || read_varint(&p, end, &v)) goto giveup;
            if (build && (value = PyLong_FromLongLong((long long)(int64_t)v)) == NULL)
                goto error;
            break;
        case 4: {
            double d;
            if (seen++ || wt != 1 || read_fixed64(&p, end, &v)) goto giveup;
            memcpy(&d, &v, 8);
            if (build && (value = PyFloat_FromDouble(d)) == NULL) goto error;
            break;
        }
        case 5:
        case 6:
            if (seen++ || wt != 2 || read_len(&p, end, &s, &e)) goto giveup;
            rc = (field == 5 ? parse_array : parse_kvlist)(s, e, depth + 1, build, &value);
            if (rc == ERR) goto error;
            if (rc) goto giveup;
            break;
        case 7:
            if (seen++ || wt != 2 || read_len(&p, end, &s, &e)) goto giveup;
            if (build &&
                (value = PyBytes_FromStringAndSize((const char *)s, e - s)) == NULL)
                goto error;
            break;
        default:
            if (skip_field(&p, end, M_ANY, field, wt)) goto giveup;
        }
    }
    if (build) {
        if (value == NULL) value = Py_NewRef(Py_None);
        *out = value;
    }
    return OK;
giveup:
    Py_XDECREF(value);
    return GIVEUP;
error:
    Py_XDECREF(value);
    return ERR;
}

/* KeyValue into `dict` (later keys overwrite, as the Python dict comprehension does). */
static int parse_kv(const uint8_t *p, const uint8_t *end, int depth, int build, PyObject *dict,
                    const uint8_t **key, const uint8_t **key_end) {
    const uint8_t *k = p, *ke = p, *vs = NULL, *ve = NULL;
    if (depth > MAX_DEPTH) return GIVEUP;
    /* The usual shape, key then value, each with a one-byte length: no general field walk. */
    if (end - p >= 4 && p[0] == 0x0a && p[1] < 0x80 && end - p >= 4 + p[1]) {
        const uint8_t *q = p + 2 + p[1];
        if (q[0] == 0x12 && q[1] < 0x80 && end - q == 2 + q[1]) {
            if (!build && !utf8_valid(p + 2, q)) return GIVEUP;
            k = p + 2;
            ke = q;
            vs = q + 2;
            ve = end;
            p = end;
        }
    }
    while (p < end) {
        uint32_t field;
        int wt;
        uint64_t v;
        if (read_tag(&p, end, &field, &wt)) return GIVEUP;
        if (field == 1) {
            if (string_field(wt, &p, end, build, &k, &ke)) return GIVEUP;
        } else if (field == 2) {
            if (vs != NULL || wt != 2 || read_len(&p, end, &vs, &ve)) return GIVEUP;
        } else if (field == 3) { /* key_strindex: the Python path ignores it */
            if (wt != 0 || read_varint(&p, end, &v)) return GIVEUP;
        } else if (skip_field(&p, end, M_KV, field, wt)) {
            return GIVEUP;
        }
    }
    *key = k;
    *key_end = ke;
    /* Most values are one short string_value: AnyValue bytes 0x0a <length> <text>. */
    int plain = vs != NULL && ve - vs >= 2 && vs[0] == 0x0a && vs[1] < 0x80 &&
                ve - vs == 2 + vs[1] && depth + 1 <= MAX_DEPTH;
    if (!build) {
        if (plain) return utf8_valid(vs + 2, ve) ? OK : GIVEUP;
        return vs == NULL ? OK : parse_any(vs, ve, depth + 1, 0, NULL);
    }
    PyObject *value = NULL, *name;
    if (vs == NULL) {
        value = Py_NewRef(Py_None);
    } else if (plain) {
        if ((value = make_str(vs + 2, ve)) == NULL) return ERR;
    } else {
        int rc = parse_any(vs, ve, depth + 1, 1, &value);
        if (rc) return rc;
    }
    if ((name = make_str(k, ke)) == NULL) {
        Py_DECREF(value);
        return ERR;
    }
    int rc = PyDict_SetItem(dict, name, value);
    Py_DECREF(name);
    Py_DECREF(value);
    return rc ? ERR : OK;
}

static inline int key_is(const uint8_t *k, const uint8_t *ke, PyObject *key) {
    /* key: an ASCII str (checked in configure) */
    return ke - k == PyUnicode_GET_LENGTH(key) && memcmp(k, PyUnicode_DATA(key), ke - k) == 0;
}

/* A repeated KeyValue field: append to `dict`, say whether `marker` was one of the keys. */
static inline int attribute_field(int wt, const uint8_t **pp, const uint8_t *end, int depth,
                                  int build, PyObject *dict, PyObject *marker, int *marked) {
    const uint8_t *s, *e, *k, *ke;
    if (wt != 2 || read_len(pp, end, &s, &e)) return GIVEUP;
    int rc = parse_kv(s, e, depth + 1, build, dict, &k, &ke);
    if (rc == OK && marker != NULL && key_is(k, ke, marker)) *marked = 1;
    return rc;
}

/* --- spans ------------------------------------------------------------------------------- */

typedef struct {
    PyObject *resource_attributes, *service, *scope; /* borrowed; scope: (name, version, attrs) */
    const uint8_t *last_trace;                        /* 16 raw bytes of last_trace_id */
    PyObject *last_trace_id;
} SpanContext;

static int parse_event(const uint8_t *p, const uint8_t *end, int depth, int build,
                       PyObject **out) {
    uint64_t time = 0;
    uint32_t dropped = 0;
    const uint8_t *name = p, *name_end = p;
    PyObject *attrs = NULL, *args[4] = {NULL, NULL, NULL, NULL};
    int rc, marked = 0;
    if (depth > MAX_DEPTH) return GIVEUP;
    if (build && (attrs = PyDict_New()) == NULL) return ERR;
    while (p < end) {
        uint32_t field;
        int wt;
        if (read_tag(&p, end, &field, &wt)) goto giveup;
        switch (field) {
        case 1:
            if (wt != 1 || read_fixed64(&p, end, &time)) goto giveup;
            break;
        case 2:
            if (string_field(wt, &p, end, build, &name, &name_end)) goto giveup;
            break;
        case 3:
            rc = attribute_field(wt, &p, end, depth, build, attrs, NULL, &marked);
            if (rc == ERR) goto error;
            if (rc) goto giveup;
            break;
        case 4:
            if (wt != 0 || read_uint32(&p, end, &dropped)) goto giveup;
            break;
        default:
            if (skip_field(&p, end, M_EVENT, field, wt)) goto giveup;
        }
    }
    if (!build) return OK;
    args[2] = attrs;
    if ((args[0] = PyLong_FromUnsignedLongLong(time)) == NULL ||
        (args[1] = make_str(name, name_end)) == NULL ||
        (args[3] = PyLong_FromUnsignedLong(dropped)) == NULL)
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

static int parse_link(const uint8_t *p, const uint8_t *end, int depth, int build,
                      PyObject **out, int *follows_marker) {
    uint32_t dropped = 0, flags = 0;
    const uint8_t *tid = p, *tid_end = p, *sid = p, *sid_end = p, *state = p, *state_end = p;
    PyObject *attrs = NULL, *args[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
    int rc;
    if (depth > MAX_DEPTH) return GIVEUP;
    if (build && (attrs = PyDict_New()) == NULL) return ERR;
    while (p < end) {
        uint32_t field;
        int wt;
        switch (read_tag(&p, end, &field, &wt) ? 0 : field) {
        case 0:
            goto giveup;
        case 1:
            if (wt != 2 || read_len(&p, end, &tid, &tid_end)) goto giveup;
            break;
        case 2:
            if (wt != 2 || read_len(&p, end, &sid, &sid_end)) goto giveup;
            break;
        case 3:
            if (string_field(wt, &p, end, build, &state, &state_end)) goto giveup;
            break;
        case 4:
            rc = attribute_field(wt, &p, end, depth, build, attrs, FollowsKey, follows_marker);
            if (rc == ERR) goto error;
            if (rc) goto giveup;
            break;
        case 5:
            if (wt != 0 || read_uint32(&p, end, &dropped)) goto giveup;
            break;
        case 6:
            if (wt != 5 || read_fixed32(&p, end, &flags)) goto giveup;
            break;
        default:
            if (skip_field(&p, end, M_LINK, field, wt)) goto giveup;
        }
    }
    /* Short ids are padded and empty ones are errors on the upb path: leave both to it. */
    if (!id_ok(tid, tid_end, 16) || !id_ok(sid, sid_end, 8)) goto giveup;
    if (!build) return OK;
    args[3] = attrs;
    if ((args[0] = make_hex(tid, tid_end)) == NULL || (args[1] = make_hex(sid, sid_end)) == NULL ||
        (args[2] = make_str(state, state_end)) == NULL ||
        (args[4] = PyLong_FromUnsignedLong(flags)) == NULL ||
        (args[5] = PyLong_FromUnsignedLong(dropped)) == NULL)
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

static int parse_status(const uint8_t *p, const uint8_t *end, int build, uint64_t *code,
                        const uint8_t **msg, const uint8_t **msg_end) {
    while (p < end) {
        uint32_t field;
        int wt;
        if (read_tag(&p, end, &field, &wt)) return GIVEUP;
        if (field == 2) {
            if (string_field(wt, &p, end, build, msg, msg_end)) return GIVEUP;
        } else if (field == 3) {
            if (wt != 0 || read_varint(&p, end, code)) return GIVEUP;
        } else if (skip_field(&p, end, M_STATUS, field, wt)) {
            return GIVEUP;
        }
    }
    return OK;
}

/* Span field positions in args[] of Span(...): the model's field order, as model_span passes. */
enum {
    A_TRACE, A_SPAN, A_NAME, A_START, A_END, A_PARENT, A_KIND, A_SERVICE, A_CODE, A_MESSAGE,
    A_ATTRS, A_RESOURCE, A_SCOPE_NAME, A_SCOPE_VERSION, A_SCOPE_ATTRS, A_EVENTS, A_LINKS,
    A_STATE, A_FLAGS, A_FOLLOWS, A_SHARED, A_DROPPED_ATTRS, A_DROPPED_EVENTS, A_DROPPED_LINKS,
    A_COUNT
};

static int parse_span(const uint8_t *p, const uint8_t *end, int depth, SpanContext *ctx,
                      PyObject **out) {
    const int build = ctx != NULL;
    const uint8_t *tid = p, *tid_end = p, *sid = p, *sid_end = p, *pid = p, *pid_end = p;
    const uint8_t *state = p, *state_end = p, *name = p, *name_end = p;
    const uint8_t *msg = p, *msg_end = p;
    uint64_t kind = 0, code = 0, start = 0, stop = 0;
    uint32_t flags = 0, dropped_attrs = 0, dropped_events = 0, dropped_links = 0;
    int has_status = 0, shared_marker = 0, follows_marker = 0, rc;
    PyObject *args[A_COUNT] = {NULL};
    PyObject *attrs = NULL, *events = NULL, *links = NULL, *item = NULL;
    if (build && ((attrs = PyDict_New()) == NULL || (events = PyList_New(0)) == NULL ||
                  (links = PyList_New(0)) == NULL))
        goto error;
    while (p < end) {
        uint32_t field;
        int wt;
        const uint8_t *s, *e;
        switch (read_tag(&p, end, &field, &wt) ? 0 : field) {
        case 0:
            goto giveup;
        case 1:
            if (wt != 2 || read_len(&p, end, &tid, &tid_end)) goto giveup;
            break;
        case 2:
            if (wt != 2 || read_len(&p, end, &sid, &sid_end)) goto giveup;
            break;
        case 3:
            if (string_field(wt, &p, end, build, &state, &state_end)) goto giveup;
            break;
        case 4:
            if (wt != 2 || read_len(&p, end, &pid, &pid_end)) goto giveup;
            break;
        case 5:
            if (string_field(wt, &p, end, build, &name, &name_end)) goto giveup;
            break;
        case 6:
            if (wt != 0 || read_varint(&p, end, &kind)) goto giveup;
            break;
        case 7:
            if (wt != 1 || read_fixed64(&p, end, &start)) goto giveup;
            break;
        case 8:
            if (wt != 1 || read_fixed64(&p, end, &stop)) goto giveup;
            break;
        case 9:
            rc = attribute_field(wt, &p, end, depth, build, attrs, SharedKey, &shared_marker);
            if (rc == ERR) goto error;
            if (rc) goto giveup;
            break;
        case 10:
            if (wt != 0 || read_uint32(&p, end, &dropped_attrs)) goto giveup;
            break;
        case 11:
        case 13:
            if (wt != 2 || read_len(&p, end, &s, &e)) goto giveup;
            rc = field == 11 ? parse_event(s, e, depth + 1, build, &item)
                             : parse_link(s, e, depth + 1, build, &item, &follows_marker);
            if (rc == ERR) goto error;
            if (rc) goto giveup;
            if (build) {
                rc = PyList_Append(field == 11 ? events : links, item);
                Py_CLEAR(item);
                if (rc) goto error;
            }
            break;
        case 12:
            if (wt != 0 || read_uint32(&p, end, &dropped_events)) goto giveup;
            break;
        case 14:
            if (wt != 0 || read_uint32(&p, end, &dropped_links)) goto giveup;
            break;
        case 15: /* a singular message given twice merges: give up */
            if (has_status++ || wt != 2 || read_len(&p, end, &s, &e)) goto giveup;
            if (depth + 1 > MAX_DEPTH || parse_status(s, e, build, &code, &msg, &msg_end))
                goto giveup;
            break;
        case 16:
            if (wt != 5 || read_fixed32(&p, end, &flags)) goto giveup;
            break;
        default:
            if (skip_field(&p, end, M_SPAN, field, wt)) goto giveup;
        }
    }
    /* What the upb path errors on, warns about, or post-processes in model_span. */
    if (!id_ok(tid, tid_end, 16) || !id_ok(sid, sid_end, 8) ||
        (pid != pid_end && !id_ok(pid, pid_end, 8)) || kind > 5 || code > 2)
        goto giveup;
    if (!build) return OK;

    if (ctx->last_trace != NULL && same_bytes(ctx->last_trace, tid, 16)) {
        args[A_TRACE] = Py_NewRef(ctx->last_trace_id);
    } else {
        if ((args[A_TRACE] = make_hex(tid, tid_end)) == NULL) goto error;
        Py_XSETREF(ctx->last_trace_id, Py_NewRef(args[A_TRACE]));
        ctx->last_trace = tid;
    }
    args[A_ATTRS] = attrs;
    args[A_EVENTS] = events;
    args[A_LINKS] = links;
    attrs = events = links = NULL;
    if ((args[A_SPAN] = make_hex(sid, sid_end)) == NULL ||
        (args[A_NAME] = make_str(name, name_end)) == NULL ||
        (args[A_START] = PyLong_FromUnsignedLongLong(start)) == NULL ||
        (args[A_END] = PyLong_FromUnsignedLongLong(stop)) == NULL ||
        (args[A_PARENT] = pid == pid_end ? PyUnicode_New(0, 0) : make_hex(pid, pid_end)) ==
            NULL ||
        (args[A_MESSAGE] = make_str(msg, msg_end)) == NULL ||
        (args[A_STATE] = make_str(state, state_end)) == NULL ||
        (args[A_FLAGS] = PyLong_FromUnsignedLong(flags)) == NULL ||
        (args[A_DROPPED_ATTRS] = PyLong_FromUnsignedLong(dropped_attrs)) == NULL ||
        (args[A_DROPPED_EVENTS] = PyLong_FromUnsignedLong(dropped_events)) == NULL ||
        (args[A_DROPPED_LINKS] = PyLong_FromUnsignedLong(dropped_links)) == NULL)
        goto error;
    args[A_KIND] = Py_NewRef(Kinds[kind]);
    args[A_SERVICE] = Py_NewRef(ctx->service);
    args[A_CODE] = Py_NewRef(Codes[code]);
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
    if (follows_marker && pid != pid_end) { /* model_span: split_follows_from, as it is */
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
giveup:
    Py_XDECREF(attrs);
    Py_XDECREF(events);
    Py_XDECREF(links);
    return GIVEUP;
error:
    for (int i = 0; i < A_COUNT; i++) Py_XDECREF(args[i]);
    Py_XDECREF(attrs);
    Py_XDECREF(events);
    Py_XDECREF(links);
    Py_XDECREF(item);
    return ERR;
}

/* --- resources and scopes ---------------------------------------------------------------- */

/* Resource -> dict of its attributes (into *out when building). */
static int parse_resource(const uint8_t *p, const uint8_t *end, int depth, int build,
                          PyObject **out) {
    PyObject *attrs = NULL;
    int rc, marked = 0;
    uint32_t dropped;
    if (depth > MAX_DEPTH) return GIVEUP;
    if (build && (attrs = PyDict_New()) == NULL) return ERR;
    while (p < end) {
        uint32_t field;
        int wt;
        if (read_tag(&p, end, &field, &wt)) goto giveup;
        if (field == 1) {
            rc = attribute_field(wt, &p, end, depth, build, attrs, NULL, &marked);
            if (rc == ERR) goto error;
            if (rc) goto giveup;
        } else if (field == 2) { /* dropped_attributes_count: not in the model */
            if (wt != 0 || read_uint32(&p, end, &dropped)) goto giveup;
        } else if (skip_field(&p, end, M_RESOURCE, field, wt)) {
            goto giveup;
        }
    }
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
    const uint8_t *name = p, *name_end = p, *version = p, *version_end = p;
    PyObject *attrs = NULL, *n = NULL, *v = NULL;
    int rc, marked = 0;
    uint32_t dropped;
    if (depth > MAX_DEPTH) return GIVEUP;
    if (build && (attrs = PyDict_New()) == NULL) return ERR;
    while (p < end) {
        uint32_t field;
        int wt;
        if (read_tag(&p, end, &field, &wt)) goto giveup;
        if (field == 1) {
            if (string_field(wt, &p, end, build, &name, &name_end)) goto giveup;
        } else if (field == 2) {
            if (string_field(wt, &p, end, build, &version, &version_end)) goto giveup;
        } else if (field == 3) {
            rc = attribute_field(wt, &p, end, depth, build, attrs, NULL, &marked);
            if (rc == ERR) goto error;
            if (rc) goto giveup;
        } else if (field == 4) {
            if (wt != 0 || read_uint32(&p, end, &dropped)) goto giveup;
        } else if (skip_field(&p, end, M_SCOPE, field, wt)) {
            goto giveup;
        }
    }
    if (!build) return OK;
    if ((n = make_str(name, name_end)) == NULL || (v = make_str(version, version_end)) == NULL)
        goto error;
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

/* ScopeSpans (first pass only; the iterator walks them itself when building). */
static int check_scope_spans(const uint8_t *p, const uint8_t *end, int depth) {
    int has_scope = 0;
    while (p < end) {
        uint32_t field;
        int wt;
        const uint8_t *s, *e;
        if (read_tag(&p, end, &field, &wt)) return GIVEUP;
        if (field == 1) {
            if (has_scope++ || wt != 2 || read_len(&p, end, &s, &e) ||
                parse_scope(s, e, depth + 1, 0, NULL))
                return GIVEUP;
        } else if (field == 2) {
            if (wt != 2 || read_len(&p, end, &s, &e) || parse_span(s, e, depth + 1, NULL, NULL))
                return GIVEUP;
        } else if (field == 3) { /* schema_url: not in the model, but upb checks its UTF-8 */
            if (string_field(wt, &p, end, 0, &s, &e)) return GIVEUP;
        } else if (skip_field(&p, end, M_SS, field, wt)) {
            return GIVEUP;
        }
    }
    return OK;
}

static int check_resource_spans(const uint8_t *p, const uint8_t *end, int depth) {
    int has_resource = 0;
    while (p < end) {
        uint32_t field;
        int wt;
        const uint8_t *s, *e;
        if (read_tag(&p, end, &field, &wt)) return GIVEUP;
        if (field == 1) {
            if (has_resource++ || wt != 2 || read_len(&p, end, &s, &e) ||
                parse_resource(s, e, depth + 1, 0, NULL))
                return GIVEUP;
        } else if (field == 2) {
            if (wt != 2 || read_len(&p, end, &s, &e) || check_scope_spans(s, e, depth + 1))
                return GIVEUP;
        } else if (field == 3) {
            if (string_field(wt, &p, end, 0, &s, &e)) return GIVEUP;
        } else if (skip_field(&p, end, M_RS, field, wt)) {
            return GIVEUP;
        }
    }
    return OK;
}

static int check_traces(const uint8_t *p, const uint8_t *end) {
    while (p < end) {
        uint32_t field;
        int wt;
        const uint8_t *s, *e;
        if (read_tag(&p, end, &field, &wt)) return GIVEUP;
        if (field == 1) {
            if (wt != 2 || read_len(&p, end, &s, &e) || check_resource_spans(s, e, 1))
                return GIVEUP;
        } else if (skip_field(&p, end, M_TRACES, field, wt)) {
            return GIVEUP;
        }
    }
    return OK;
}

/* --- the iterator over a checked message ------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *data; /* bytes; the positions below point into it */
    const uint8_t *top, *top_end, *rs, *rs_end, *ss, *ss_end;
    PyObject *resources, *scopes; /* caches: serialized bytes -> (attrs, service) / scope */
    PyObject *resource;           /* (attrs, service) of the current ResourceSpans */
    SpanContext ctx;
} SpansObject;

static PyTypeObject SpansType;

static PyObject *inconsistent(void) {
    PyErr_SetString(PyExc_RuntimeError,
                    "spanscope native OTLP decoder: second pass disagrees with the first");
    return NULL;
}

/* The next length-delimited field `want` in [*pp, end), or 0 at the end. */
static int next_message(const uint8_t **pp, const uint8_t *end, uint32_t want, int msg,
                        const uint8_t **s, const uint8_t **e) {
    while (*pp < end) {
        uint32_t field;
        int wt;
        if (read_tag(pp, end, &field, &wt)) return -1;
        if (field == want && wt == 2) return read_len(pp, end, s, e) ? -1 : 1;
        if (skip_field(pp, end, msg, field, wt)) return -1;
    }
    return 0;
}

/* Cached conversion of a resource (kind 0) or scope (kind 1) given by its bytes. */
static PyObject *cached(SpansObject *self, int kind, const uint8_t *s, const uint8_t *e) {
    PyObject *cache = kind ? self->scopes : self->resources;
    PyObject *key = PyBytes_FromStringAndSize((const char *)s, e - s), *value = NULL;
    if (key == NULL) return NULL;
    value = PyDict_GetItemWithError(cache, key);
    if (value != NULL || PyErr_Occurred()) {
        Py_DECREF(key);
        return Py_XNewRef(value);
    }
    int rc;
    if (kind) {
        rc = parse_scope(s, e, 3, 1, &value);
    } else {
        PyObject *attrs = NULL, *service;
        rc = parse_resource(s, e, 2, 1, &attrs);
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

static PyObject *spans_step(SpansObject *self) {
    const uint8_t *s, *e;
    int found;
    for (;;) {
        if (self->ss != NULL) {
            found = next_message(&self->ss, self->ss_end, 2, M_SS, &s, &e);
            if (found < 0) return inconsistent();
            if (found) {
                PyObject *span = NULL;
                int rc = parse_span(s, e, 3, &self->ctx, &span);
                if (rc == OK) return span;
                return rc == ERR ? NULL : inconsistent();
            }
            self->ss = NULL;
            Py_CLEAR(self->ctx.scope);
        }
        if (self->rs != NULL) {
            found = next_message(&self->rs, self->rs_end, 2, M_RS, &s, &e);
            if (found < 0) return inconsistent();
            if (found) {
                const uint8_t *scope = s, *scope_end = s, *p = s;
                self->ss = s;
                self->ss_end = e;
                if (next_message(&p, e, 1, M_SS, &scope, &scope_end) < 0) return inconsistent();
                if ((self->ctx.scope = cached(self, 1, scope, scope_end)) == NULL) return NULL;
                continue;
            }
            self->rs = NULL;
            Py_CLEAR(self->resource);
        }
        found = next_message(&self->top, self->top_end, 1, M_TRACES, &s, &e);
        if (found < 0) return inconsistent();
        if (!found) return NULL; /* StopIteration */
        const uint8_t *res = s, *res_end = s, *p = s;
        if (next_message(&p, e, 1, M_RS, &res, &res_end) < 0) return inconsistent();
        if ((self->resource = cached(self, 0, res, res_end)) == NULL) return NULL;
        self->ctx.resource_attributes = PyTuple_GET_ITEM(self->resource, 0);
        self->ctx.service = PyTuple_GET_ITEM(self->resource, 1);
        self->rs = s;
        self->rs_end = e;
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
    PyObject *data;
    if (!configured) {
        PyErr_SetString(PyExc_RuntimeError, "_otlp_native.configure() was not called");
        return NULL;
    }
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

static PyTypeObject SpansType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "spanscope.formats._otlp_native.Spans",
    .tp_basicsize = sizeof(SpansObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Spans(data): the model spans of a TracesData that check(data) accepted.",
    .tp_new = Spans_new,
    .tp_dealloc = (destructor)Spans_dealloc,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)Spans_next,
};

/* --- module functions -------------------------------------------------------------------- */

static PyObject *check(PyObject *module, PyObject *data) {
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

static PyObject *configure(PyObject *module, PyObject *args) {
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
        if ((USED[i] & ~masks[i]) != 0) {
            PyErr_Format(PyExc_ValueError, "message %d: upb does not know a field we use", i);
            return NULL;
        }
    }
    for (int i = 0; i < M_COUNT; i++) giveup_mask[i] = masks[i] & ~HANDLED[i];
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
    {"configure", configure, METH_VARARGS,
     "configure(Span, Event, Link, kinds, codes, shared_key, follows_key, split_follows_from, "
     "known_fields)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_otlp_native",
    "OTLP protobuf TracesData -> spanscope model spans, in C (see otlp_native.py).", -1, methods,
};

PyMODINIT_FUNC PyInit__otlp_native(void) {
    if (PyType_Ready(&SpansType) < 0) return NULL;
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL) return NULL;
    if (PyModule_AddObjectRef(module, "Spans", (PyObject *)&SpansType) < 0 ||
        PyModule_AddIntConstant(module, "MESSAGE_TYPES", M_COUNT) < 0 ||
        PyModule_AddIntConstant(module, "MAX_DEPTH", MAX_DEPTH) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
