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
static PyObject *cached(PyObject *resources, PyObject *scopes, int kind, const uint8_t *s,
                        const uint8_t *e) {
    PyObject *cache = kind ? scopes : resources;
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
                if ((self->ctx.scope = cached(self->resources, self->scopes, 1, scope, scope_end)) == NULL) return NULL;
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
        if ((self->resource = cached(self->resources, self->scopes, 0, res, res_end)) == NULL) return NULL;
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

/* --- columns: requests straight into the store's Arrow columns ---------------------------
 *
 * Why: on the ingest path (no tail sampler) a request's spans only go into the store, whose
 * columns (spanscope.store.columns) are Arrow arrays. Building model Spans and their dicts and
 * then taking them apart again in Python cost ~7 us a span under the GIL; here one C pass over
 * the protobuf fills the raw Arrow buffers (offsets and bytes of strings, fixed-width values,
 * the JSON text of attribute maps as msgspec writes it, list offsets of events and links) for
 * a whole batch of requests, without the GIL, and Python wraps them with a constant number of
 * pyarrow calls per batch.
 *
 * Contract (one semantics, two paths: columns.encode_batch of the model spans is the
 * reference):
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
 *                   a link with opentracing.ref_type), an end before the start or times past
 *                   int64 (what codec.is_plain says is not plain, and a little more); and every
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
 */

#define MAX_TIME_NS 0x7ffffffffffffffeULL /* DuckDB's TIMESTAMP_NS: int64 minus its infinity */
#define MAX_KEYS 128                       /* keys per map checked for repeats; more: odd */

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

static const char *const BUFFER_NAMES[B_COUNT] = {
    "start", "trace_offsets", "trace", "span_offsets", "span", "parent_offsets", "parent",
    "state_offsets", "state", "name_offsets", "name", "kind", "service_offsets", "service",
    "resource", "scope_name_offsets", "scope_name", "scope_version_offsets", "scope_version",
    "attributes_offsets", "attributes", "duration", "status", "message_offsets", "message",
    "events", "event_time", "event_name_offsets", "event_name", "event_attributes_offsets",
    "event_attributes", "links", "link_trace_offsets", "link_trace", "link_span_offsets",
    "link_span", "link_state_offsets", "link_state", "link_attributes_offsets",
    "link_attributes", "link_flags", "scope", "flags", "resource_json_offsets", "resource_json",
    "scope_json_offsets", "scope_json", "range_trace_offsets", "range_trace", "range_start",
    "range_end", "range_key",
};

/* Buffers that are Arrow offsets (int32, starting at 0). */
static const int OFFSET_BUFFERS[] = {
    B_TRACE_OFF, B_SPAN_OFF, B_PARENT_OFF, B_STATE_OFF, B_NAME_OFF, B_SERVICE_OFF,
    B_SCOPE_NAME_OFF, B_SCOPE_VERSION_OFF, B_ATTRS_OFF, B_MESSAGE_OFF, B_EVENTS,
    B_EVENT_NAME_OFF, B_EVENT_ATTRS_OFF, B_LINKS, B_LINK_TRACE_OFF, B_LINK_SPAN_OFF,
    B_LINK_STATE_OFF, B_LINK_ATTRS_OFF, B_RES_JSON_OFF, B_SCOPE_JSON_OFF, B_RANGE_ID_OFF,
};

enum { FAIL_NONE, FAIL_MEMORY, FAIL_INCONSISTENT, FAIL_TOO_BIG };

typedef struct {
    uint8_t *data;
    size_t len, cap;
} Buf;

static int buf_grow(Buf *b, size_t extra) {
    size_t cap = b->cap ? b->cap : 1024;
    while (cap - b->len < extra) {
        if (cap > SIZE_MAX / 2) return ERR;
        cap *= 2;
    }
    uint8_t *data = realloc(b->data, cap);
    if (data == NULL) return ERR;
    b->data = data;
    b->cap = cap;
    return OK;
}

static inline int buf_reserve(Buf *b, size_t extra) {
    return b->cap - b->len >= extra ? OK : buf_grow(b, extra);
}

static inline int buf_put(Buf *b, const void *s, size_t n) {
    if (buf_reserve(b, n)) return ERR;
    if (n) memcpy(b->data + b->len, s, n);
    b->len += n;
    return OK;
}

static inline int buf_byte(Buf *b, uint8_t c) {
    if (buf_reserve(b, 1)) return ERR;
    b->data[b->len++] = c;
    return OK;
}

static inline int buf_hex(Buf *b, const uint8_t *s, const uint8_t *e) {
    static const char digits[] = "0123456789abcdef";
    size_t n = (size_t)(e - s);
    if (buf_reserve(b, 2 * n)) return ERR;
    uint8_t *d = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        d[2 * i] = digits[s[i] >> 4];
        d[2 * i + 1] = digits[s[i] & 15];
    }
    b->len += 2 * n;
    return OK;
}

/* A JSON string as msgspec writes it: ", \ and control characters escaped (\b \t \n \f \r
 * short, the rest \u00XX), everything else (DEL, non-ASCII UTF-8) as it is. */
static int json_string(Buf *b, const uint8_t *s, const uint8_t *e) {
    static const char digits[] = "0123456789abcdef";
    if (buf_reserve(b, 6 * (size_t)(e - s) + 2)) return ERR;
    uint8_t *d = b->data + b->len;
    *d++ = '"';
    for (; s < e; s++) {
        uint8_t c = *s;
        if (c >= 0x20 && c != '"' && c != '\\') {
            *d++ = c;
            continue;
        }
        *d++ = '\\';
        switch (c) {
        case '"': *d++ = '"'; break;
        case '\\': *d++ = '\\'; break;
        case '\b': *d++ = 'b'; break;
        case '\t': *d++ = 't'; break;
        case '\n': *d++ = 'n'; break;
        case '\f': *d++ = 'f'; break;
        case '\r': *d++ = 'r'; break;
        default:
            *d++ = 'u';
            *d++ = '0';
            *d++ = '0';
            *d++ = digits[c >> 4];
            *d++ = digits[c & 15];
        }
    }
    *d++ = '"';
    b->len = (size_t)(d - b->data);
    return OK;
}

static int json_int(Buf *b, int64_t v) {
    char text[24], *t = text + sizeof text;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--t = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *--t = '-';
    return buf_put(b, t, (size_t)(text + sizeof text - t));
}

typedef struct {
    const uint8_t *s, *e;
} Slice;

/* The keys of one map so far: a key given twice makes the map odd (the model's dict keeps the
 * first position and the last value; not worth mirroring). */
typedef struct {
    int n;
    Slice keys[MAX_KEYS];
} KeyList;

static int key_add(KeyList *list, const uint8_t *k, const uint8_t *ke) {
    Py_ssize_t n = ke - k;
    for (int i = 0; i < list->n; i++)
        if (list->keys[i].e - list->keys[i].s == n && same_bytes(list->keys[i].s, k, n))
            return GIVEUP;
    if (list->n == MAX_KEYS) return GIVEUP;
    list->keys[list->n].s = k;
    list->keys[list->n].e = ke;
    list->n++;
    return OK;
}

/* KeyValue -> key and value bytes (value NULL when absent). */
static int kv_parts(const uint8_t *p, const uint8_t *end, Slice *key, Slice *value) {
    const uint8_t *k = p, *ke = p, *vs = NULL, *ve = NULL;
    if (end - p >= 4 && p[0] == 0x0a && p[1] < 0x80 && end - p >= 4 + p[1]) {
        const uint8_t *q = p + 2 + p[1];
        if (q[0] == 0x12 && q[1] < 0x80 && end - q == 2 + q[1]) {
            key->s = p + 2;
            key->e = q;
            value->s = q + 2;
            value->e = end;
            return OK;
        }
    }
    while (p < end) {
        uint32_t field;
        int wt;
        uint64_t v;
        if (read_tag(&p, end, &field, &wt)) return GIVEUP;
        if (field == 1) {
            if (wt != 2 || read_len(&p, end, &k, &ke)) return GIVEUP;
        } else if (field == 2) {
            if (vs != NULL || wt != 2 || read_len(&p, end, &vs, &ve)) return GIVEUP;
        } else if (field == 3) {
            if (wt != 0 || read_varint(&p, end, &v)) return GIVEUP;
        } else if (skip_field(&p, end, M_KV, field, wt)) {
            return GIVEUP;
        }
    }
    key->s = k;
    key->e = ke;
    value->s = vs;
    value->e = ve;
    return OK;
}

static int json_kv(Buf *b, KeyList *keys, const uint8_t *p, const uint8_t *end, int depth,
                   PyObject *marker);

/* AnyValue as JSON; GIVEUP for what JSON would not keep exactly (doubles, bytes). */
static int json_any(Buf *b, const uint8_t *p, const uint8_t *end, int depth) {
    const uint8_t *s = NULL, *e = NULL;
    uint64_t v = 0;
    int which = 0;
    if (depth > MAX_DEPTH) return GIVEUP;
    /* The usual value: one short string. */
    if (end - p >= 2 && p[0] == 0x0a && p[1] < 0x80 && end - p == 2 + p[1])
        return json_string(b, p + 2, end);
    while (p < end) {
        uint32_t field;
        int wt;
        if (read_tag(&p, end, &field, &wt)) return GIVEUP;
        switch (field) {
        case 1:
        case 5:
        case 6:
            if (which || wt != 2 || read_len(&p, end, &s, &e)) return GIVEUP;
            which = (int)field;
            break;
        case 2:
        case 3:
            if (which || wt != 0 || read_varint(&p, end, &v)) return GIVEUP;
            if (field == 2 && v > 1) return GIVEUP;
            which = (int)field;
            break;
        case 4:
        case 7:
            return GIVEUP;
        default:
            if (skip_field(&p, end, M_ANY, field, wt)) return GIVEUP;
        }
    }
    switch (which) {
    case 0: return buf_put(b, "null", 4);
    case 1: return json_string(b, s, e);
    case 2: return v ? buf_put(b, "true", 4) : buf_put(b, "false", 5);
    case 3: return json_int(b, (int64_t)v);
    case 5: {
        int first = 1, rc;
        if (buf_byte(b, '[')) return ERR;
        for (p = s; p < e;) {
            uint32_t field;
            int wt;
            const uint8_t *is, *ie;
            if (read_tag(&p, e, &field, &wt)) return GIVEUP;
            if (field == 1) {
                if (wt != 2 || read_len(&p, e, &is, &ie)) return GIVEUP;
                if (!first && buf_byte(b, ',')) return ERR;
                first = 0;
                if ((rc = json_any(b, is, ie, depth + 1))) return rc;
            } else if (skip_field(&p, e, M_ARRAY, field, wt)) {
                return GIVEUP;
            }
        }
        return buf_byte(b, ']');
    }
    default: { /* 6: a kvlist */
        KeyList *keys = malloc(sizeof(KeyList));
        int rc = OK;
        if (keys == NULL) return ERR;
        keys->n = 0;
        if (buf_byte(b, '{')) rc = ERR;
        for (p = s; rc == OK && p < e;) {
            uint32_t field;
            int wt;
            const uint8_t *is, *ie;
            if (read_tag(&p, e, &field, &wt)) {
                rc = GIVEUP;
            } else if (field == 1) {
                if (wt != 2 || read_len(&p, e, &is, &ie))
                    rc = GIVEUP;
                else
                    rc = json_kv(b, keys, is, ie, depth + 1, NULL);
            } else if (skip_field(&p, e, M_KVLIST, field, wt)) {
                rc = GIVEUP;
            }
        }
        free(keys);
        return rc ? rc : buf_byte(b, '}');
    }
    }
}

/* One KeyValue of a map into its JSON object (after "{" and the earlier members). A key equal
 * to `marker` makes it odd. */
static int json_kv(Buf *b, KeyList *keys, const uint8_t *p, const uint8_t *end, int depth,
                   PyObject *marker) {
    Slice key, value;
    if (depth > MAX_DEPTH || kv_parts(p, end, &key, &value)) return GIVEUP;
    if (marker != NULL && key_is(key.s, key.e, marker)) return GIVEUP;
    if (key_add(keys, key.s, key.e)) return GIVEUP;
    if (keys->n > 1 && buf_byte(b, ',')) return ERR;
    if (json_string(b, key.s, key.e) || buf_byte(b, ':')) return ERR;
    if (value.s == NULL) return buf_put(b, "null", 4);
    return json_any(b, value.s, value.e, depth + 1);
}

/* --- open-addressing maps of byte strings to indices (keys copied into the map) ---------- */

typedef struct {
    uint64_t hash;
    size_t off, len;
    int32_t value; /* -1: empty slot */
} Slot;

typedef struct {
    Slot *slots;
    size_t cap, used;
    Buf keys;
} Map;

static uint64_t hash_bytes(const uint8_t *s, size_t n) {
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n;
    for (; n >= 8; s += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
    }
    uint64_t w = 0;
    if (n) memcpy(&w, s, n);
    h = (h ^ w) * 0x94d049bb133111ebULL;
    return h ^ (h >> 29);
}

static int map_rehash(Map *m) {
    size_t cap = m->cap ? 2 * m->cap : 64;
    Slot *slots = malloc(cap * sizeof(Slot));
    if (slots == NULL) return ERR;
    for (size_t i = 0; i < cap; i++) slots[i].value = -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].value < 0) continue;
        size_t j = m->slots[i].hash & (cap - 1);
        while (slots[j].value >= 0) j = (j + 1) & (cap - 1);
        slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return OK;
}

/* The index stored for `key`, or `fresh` stored for it now (*added = 1); -1 on no memory. */
static int32_t map_index(Map *m, const uint8_t *key, size_t n, int32_t fresh, int *added) {
    if (2 * (m->used + 1) > m->cap && map_rehash(m)) return -1;
    uint64_t h = hash_bytes(key, n);
    size_t j = h & (m->cap - 1);
    *added = 0;
    for (; m->slots[j].value >= 0; j = (j + 1) & (m->cap - 1)) {
        Slot *slot = &m->slots[j];
        if (slot->hash == h && slot->len == n &&
            same_bytes(m->keys.data + slot->off, key, (Py_ssize_t)n))
            return slot->value;
    }
    size_t off = m->keys.len;
    if (buf_put(&m->keys, key, n)) return -1;
    m->slots[j] = (Slot){h, off, n, fresh};
    m->used++;
    *added = 1;
    return fresh;
}

static void map_free(Map *m) {
    free(m->slots);
    free(m->keys.data);
}

/* --- filling ------------------------------------------------------------------------------ */

typedef struct {
    const uint8_t *span, *span_end, *resource, *resource_end, *scope, *scope_end;
    int64_t position; /* among all the spans of the call */
} OddSpan;

typedef struct {
    Slice service, name, version; /* service of a resource; name, version of a scope */
    int odd;                      /* its attributes are not for the columns: its spans are odd */
} Shared;

typedef struct {
    Buf b[B_COUNT];
    Map resources, scopes, traces, operations;
    Shared *resource_info, *scope_info;
    size_t resource_cap, scope_cap;
    int32_t n_resources, n_scopes, n_ranges;
    int64_t rows, events, links, spans;
    OddSpan *odd;
    size_t n_odd, odd_cap;
    Buf scratch;
    int fail;
} Fill;

typedef struct {
    int32_t resource, scope;
    const uint8_t *res, *res_end, *sc, *sc_end;
} FillContext;

static int fill_init(Fill *f) {
    memset(f, 0, sizeof *f);
    int32_t zero = 0;
    for (size_t i = 0; i < sizeof OFFSET_BUFFERS / sizeof OFFSET_BUFFERS[0]; i++)
        if (buf_put(&f->b[OFFSET_BUFFERS[i]], &zero, 4)) return ERR;
    return OK;
}

static void fill_free(Fill *f) {
    for (int i = 0; i < B_COUNT; i++) free(f->b[i].data);
    map_free(&f->resources);
    map_free(&f->scopes);
    map_free(&f->traces);
    map_free(&f->operations);
    free(f->resource_info);
    free(f->scope_info);
    free(f->odd);
    free(f->scratch.data);
}

/* Close the current value of the string column whose offsets are buffer `off`. */
static inline int end_value(Fill *f, int off) {
    size_t len = f->b[off + 1].len;
    if (len > INT32_MAX) {
        f->fail = FAIL_TOO_BIG;
        return ERR;
    }
    int32_t v = (int32_t)len;
    return buf_put(&f->b[off], &v, 4);
}

static inline int put_value(Fill *f, int off, const uint8_t *s, const uint8_t *e) {
    return buf_put(&f->b[off + 1], s, (size_t)(e - s)) || end_value(f, off);
}

static inline int put_hex_value(Fill *f, int off, const uint8_t *s, const uint8_t *e) {
    return buf_hex(&f->b[off + 1], s, e) || end_value(f, off);
}

static inline int put_count(Fill *f, int off, int64_t count) {
    if (count > INT32_MAX) {
        f->fail = FAIL_TOO_BIG;
        return ERR;
    }
    int32_t v = (int32_t)count;
    return buf_put(&f->b[off], &v, 4);
}

/* A map of attributes (repeated KeyValue field `want` of a message) as a JSON object. */
static int json_attributes(Buf *b, const uint8_t *p, const uint8_t *end, int msg, uint32_t want,
                           int depth) {
    KeyList keys;
    keys.n = 0;
    if (buf_byte(b, '{')) return ERR;
    while (p < end) {
        uint32_t field;
        int wt, rc;
        const uint8_t *s, *e;
        if (read_tag(&p, end, &field, &wt)) return GIVEUP;
        if (field == want) {
            if (wt != 2 || read_len(&p, end, &s, &e)) return GIVEUP;
            if ((rc = json_kv(b, &keys, s, e, depth + 1, NULL))) return rc;
        } else if (skip_field(&p, end, msg, field, wt)) {
            return GIVEUP;
        }
    }
    return buf_byte(b, '}');
}

/* The service.name of a resource (its bytes; empty when absent or empty): GIVEUP when it is
 * something other than a string (the model would write str() of it). */
static int resource_service(const uint8_t *p, const uint8_t *end, Slice *service) {
    service->s = service->e = p;
    while (p < end) {
        uint32_t field;
        int wt;
        const uint8_t *s, *e;
        if (read_tag(&p, end, &field, &wt)) return GIVEUP;
        if (field != 1) {
            if (skip_field(&p, end, M_RESOURCE, field, wt)) return GIVEUP;
            continue;
        }
        Slice key, value;
        if (wt != 2 || read_len(&p, end, &s, &e) || kv_parts(s, e, &key, &value)) return GIVEUP;
        if (key.e - key.s != 12 || memcmp(key.s, "service.name", 12)) continue;
        service->s = service->e = s;
        if (value.s == NULL) continue;
        const uint8_t *q = value.s;
        int which = 0;
        while (q < value.e) {
            uint32_t f2;
            int wt2;
            if (read_tag(&q, value.e, &f2, &wt2)) return GIVEUP;
            if (f2 == 1) {
                if (which++ || wt2 != 2 || read_len(&q, value.e, &service->s, &service->e))
                    return GIVEUP;
            } else if (f2 >= 2 && f2 <= 7) {
                return GIVEUP;
            } else if (skip_field(&q, value.e, M_ANY, f2, wt2)) {
                return GIVEUP;
            }
        }
    }
    return OK;
}

/* The scope's name and version (the last of each given, as protobuf reads them). */
static int scope_strings(const uint8_t *p, const uint8_t *end, Shared *info) {
    info->name.s = info->name.e = info->version.s = info->version.e = p;
    while (p < end) {
        uint32_t field;
        int wt;
        if (read_tag(&p, end, &field, &wt)) return GIVEUP;
        if (field == 1 || field == 2) {
            Slice *out = field == 1 ? &info->name : &info->version;
            if (wt != 2 || read_len(&p, end, &out->s, &out->e)) return GIVEUP;
        } else if (skip_field(&p, end, M_SCOPE, field, wt)) {
            return GIVEUP;
        }
    }
    return OK;
}

static int fill_resource(Fill *f, FillContext *ctx, const uint8_t *s, const uint8_t *e) {
    int added;
    int32_t index = map_index(&f->resources, s, (size_t)(e - s), f->n_resources, &added);
    if (index < 0) return ERR;
    ctx->resource = index;
    ctx->res = s;
    ctx->res_end = e;
    if (!added) return OK;
    if ((size_t)f->n_resources == f->resource_cap) {
        size_t cap = f->resource_cap ? 2 * f->resource_cap : 16;
        Shared *info = realloc(f->resource_info, cap * sizeof(Shared));
        if (info == NULL) return ERR;
        f->resource_info = info;
        f->resource_cap = cap;
    }
    Shared *info = &f->resource_info[f->n_resources];
    size_t mark = f->b[B_RES_JSON].len;
    int rc = json_attributes(&f->b[B_RES_JSON], s, e, M_RESOURCE, 1, 2);
    if (rc == OK) rc = resource_service(s, e, &info->service);
    if (rc == ERR) return ERR;
    info->odd = rc == GIVEUP;
    if (info->odd) { /* an unused entry of the dictionary: valid JSON all the same */
        f->b[B_RES_JSON].len = mark;
        if (buf_put(&f->b[B_RES_JSON], "{}", 2)) return ERR;
    }
    if (end_value(f, B_RES_JSON_OFF)) return ERR;
    f->n_resources++;
    return OK;
}

static int fill_scope(Fill *f, FillContext *ctx, const uint8_t *s, const uint8_t *e) {
    int added;
    int32_t index = map_index(&f->scopes, s, (size_t)(e - s), f->n_scopes, &added);
    if (index < 0) return ERR;
    ctx->scope = index;
    ctx->sc = s;
    ctx->sc_end = e;
    if (!added) return OK;
    if ((size_t)f->n_scopes == f->scope_cap) {
        size_t cap = f->scope_cap ? 2 * f->scope_cap : 16;
        Shared *info = realloc(f->scope_info, cap * sizeof(Shared));
        if (info == NULL) return ERR;
        f->scope_info = info;
        f->scope_cap = cap;
    }
    Shared *info = &f->scope_info[f->n_scopes];
    size_t mark = f->b[B_SCOPE_JSON].len;
    int rc = json_attributes(&f->b[B_SCOPE_JSON], s, e, M_SCOPE, 3, 3);
    if (rc == OK) rc = scope_strings(s, e, info);
    if (rc == ERR) return ERR;
    info->odd = rc == GIVEUP;
    if (info->odd) {
        f->b[B_SCOPE_JSON].len = mark;
        if (buf_put(&f->b[B_SCOPE_JSON], "{}", 2)) return ERR;
    }
    if (end_value(f, B_SCOPE_JSON_OFF)) return ERR;
    f->n_scopes++;
    return OK;
}

static int fill_event(Fill *f, const uint8_t *p, const uint8_t *end, int depth) {
    uint64_t time = 0;
    uint32_t dropped;
    const uint8_t *name = p, *name_end = p, *s, *e;
    Buf *attrs = &f->b[B_EVENT_ATTRS];
    KeyList keys;
    int rc;
    keys.n = 0;
    if (depth > MAX_DEPTH) return GIVEUP;
    if (buf_byte(attrs, '{')) return ERR;
    while (p < end) {
        uint32_t field;
        int wt;
        if (read_tag(&p, end, &field, &wt)) return GIVEUP;
        switch (field) {
        case 1:
            if (wt != 1 || read_fixed64(&p, end, &time)) return GIVEUP;
            break;
        case 2:
            if (wt != 2 || read_len(&p, end, &name, &name_end)) return GIVEUP;
            break;
        case 3:
            if (wt != 2 || read_len(&p, end, &s, &e)) return GIVEUP;
            if ((rc = json_kv(attrs, &keys, s, e, depth + 1, NULL))) return rc;
            break;
        case 4:
            if (wt != 0 || read_uint32(&p, end, &dropped) || dropped) return GIVEUP;
            break;
        default:
            if (skip_field(&p, end, M_EVENT, field, wt)) return GIVEUP;
        }
    }
    if (time > MAX_TIME_NS) return GIVEUP;
    int64_t t = (int64_t)time;
    if (buf_byte(attrs, '}') || end_value(f, B_EVENT_ATTRS_OFF) ||
        buf_put(&f->b[B_EVENT_TIME], &t, 8) || put_value(f, B_EVENT_NAME_OFF, name, name_end))
        return ERR;
    return OK;
}

static int fill_link(Fill *f, const uint8_t *p, const uint8_t *end, int depth) {
    uint32_t dropped, flags = 0;
    const uint8_t *tid = p, *tid_end = p, *sid = p, *sid_end = p, *state = p, *state_end = p;
    const uint8_t *s, *e;
    Buf *attrs = &f->b[B_LINK_ATTRS];
    KeyList keys;
    int rc;
    keys.n = 0;
    if (depth > MAX_DEPTH) return GIVEUP;
    if (buf_byte(attrs, '{')) return ERR;
    while (p < end) {
        uint32_t field;
        int wt;
        if (read_tag(&p, end, &field, &wt)) return GIVEUP;
        switch (field) {
        case 1:
            if (wt != 2 || read_len(&p, end, &tid, &tid_end)) return GIVEUP;
            break;
        case 2:
            if (wt != 2 || read_len(&p, end, &sid, &sid_end)) return GIVEUP;
            break;
        case 3:
            if (wt != 2 || read_len(&p, end, &state, &state_end)) return GIVEUP;
            break;
        case 4: /* a FOLLOWS_FROM marker is model_span's business: odd */
            if (wt != 2 || read_len(&p, end, &s, &e)) return GIVEUP;
            if ((rc = json_kv(attrs, &keys, s, e, depth + 1, FollowsKey))) return rc;
            break;
        case 5:
            if (wt != 0 || read_uint32(&p, end, &dropped) || dropped) return GIVEUP;
            break;
        case 6:
            if (wt != 5 || read_fixed32(&p, end, &flags)) return GIVEUP;
            break;
        default:
            if (skip_field(&p, end, M_LINK, field, wt)) return GIVEUP;
        }
    }
    if (!id_ok(tid, tid_end, 16) || !id_ok(sid, sid_end, 8)) return GIVEUP;
    if (buf_byte(attrs, '}') || end_value(f, B_LINK_ATTRS_OFF) ||
        put_hex_value(f, B_LINK_TRACE_OFF, tid, tid_end) ||
        put_hex_value(f, B_LINK_SPAN_OFF, sid, sid_end) ||
        put_value(f, B_LINK_STATE_OFF, state, state_end) ||
        buf_put(&f->b[B_LINK_FLAGS], &flags, 4))
        return ERR;
    return OK;
}

/* The trace's time range in the batch (otel_traces_trace_id_ts): first and last span start. */
static int fill_range(Fill *f, const uint8_t *tid, int64_t start) {
    int added;
    int32_t index = map_index(&f->traces, tid, 16, f->n_ranges, &added);
    if (index < 0) return ERR;
    if (!added) {
        int64_t *low = (int64_t *)f->b[B_RANGE_START].data + index;
        int64_t *high = (int64_t *)f->b[B_RANGE_END].data + index;
        if (start < *low) *low = start;
        if (start > *high) *high = start;
        return OK;
    }
    uint64_t key = 0;
    for (int i = 8; i < 16; i++) key = (key << 8) | tid[i];
    if (put_hex_value(f, B_RANGE_ID_OFF, tid, tid + 16) ||
        buf_put(&f->b[B_RANGE_START], &start, 8) || buf_put(&f->b[B_RANGE_END], &start, 8) ||
        buf_put(&f->b[B_RANGE_KEY], &key, 8))
        return ERR;
    f->n_ranges++;
    return OK;
}

/* (service, span name, kind) into the set of operations. */
static int fill_operation(Fill *f, Slice service, const uint8_t *name, const uint8_t *name_end,
                          uint8_t kind) {
    Buf *key = &f->scratch;
    uint32_t n = (uint32_t)(service.e - service.s);
    int added;
    key->len = 0;
    if (buf_byte(key, kind) || buf_put(key, &n, 4) || buf_put(key, service.s, n) ||
        buf_put(key, name, (size_t)(name_end - name)))
        return ERR;
    return map_index(&f->operations, key->data, key->len, 0, &added) < 0 ? ERR : OK;
}

static int add_odd(Fill *f, const FillContext *ctx, const uint8_t *s, const uint8_t *e) {
    if (f->n_odd == f->odd_cap) {
        size_t cap = f->odd_cap ? 2 * f->odd_cap : 16;
        OddSpan *odd = realloc(f->odd, cap * sizeof(OddSpan));
        if (odd == NULL) return ERR;
        f->odd = odd;
        f->odd_cap = cap;
    }
    f->odd[f->n_odd++] =
        (OddSpan){s, e, ctx->res, ctx->res_end, ctx->sc, ctx->sc_end, f->spans - 1};
    return OK;
}

/* One span into the columns, or into the odd list. */
static int fill_span(Fill *f, const FillContext *ctx, const uint8_t *p, const uint8_t *end,
                     int depth) {
    const uint8_t *const span = p, *const span_end = end;
    const uint8_t *tid = p, *tid_end = p, *sid = p, *sid_end = p, *pid = p, *pid_end = p;
    const uint8_t *state = p, *state_end = p, *name = p, *name_end = p;
    const uint8_t *msg = p, *msg_end = p;
    uint64_t kind = 0, code = 0, start = 0, stop = 0;
    uint32_t flags = 0, dropped;
    int64_t events = 0, links = 0;
    int has_status = 0, rc;
    size_t mark[B_SPAN_COUNT];
    KeyList keys;
    Buf *attrs = &f->b[B_ATTRS];
    for (int i = 0; i < B_SPAN_COUNT; i++) mark[i] = f->b[i].len;
    f->spans++;
    if (f->resource_info[ctx->resource].odd || f->scope_info[ctx->scope].odd) goto odd;
    keys.n = 0;
    if (buf_byte(attrs, '{')) return ERR;
    while (p < end) {
        uint32_t field;
        int wt;
        const uint8_t *s, *e;
        switch (read_tag(&p, end, &field, &wt) ? 0 : field) {
        case 0:
            goto odd;
        case 1:
            if (wt != 2 || read_len(&p, end, &tid, &tid_end)) goto odd;
            break;
        case 2:
            if (wt != 2 || read_len(&p, end, &sid, &sid_end)) goto odd;
            break;
        case 3:
            if (wt != 2 || read_len(&p, end, &state, &state_end)) goto odd;
            break;
        case 4:
            if (wt != 2 || read_len(&p, end, &pid, &pid_end)) goto odd;
            break;
        case 5:
            if (wt != 2 || read_len(&p, end, &name, &name_end)) goto odd;
            break;
        case 6:
            if (wt != 0 || read_varint(&p, end, &kind)) goto odd;
            break;
        case 7:
            if (wt != 1 || read_fixed64(&p, end, &start)) goto odd;
            break;
        case 8:
            if (wt != 1 || read_fixed64(&p, end, &stop)) goto odd;
            break;
        case 9:
            if (wt != 2 || read_len(&p, end, &s, &e)) goto odd;
            rc = json_kv(attrs, &keys, s, e, depth + 1, SharedKey);
            if (rc == ERR) return ERR;
            if (rc) goto odd;
            break;
        case 10:
        case 12:
        case 14:
            if (wt != 0 || read_uint32(&p, end, &dropped) || dropped) goto odd;
            break;
        case 11:
        case 13:
            if (wt != 2 || read_len(&p, end, &s, &e)) goto odd;
            rc = field == 11 ? fill_event(f, s, e, depth + 1) : fill_link(f, s, e, depth + 1);
            if (rc == ERR) return ERR;
            if (rc) goto odd;
            if (field == 11)
                events++;
            else
                links++;
            break;
        case 15:
            if (has_status++ || wt != 2 || read_len(&p, end, &s, &e)) goto odd;
            if (depth + 1 > MAX_DEPTH || parse_status(s, e, 1, &code, &msg, &msg_end)) goto odd;
            break;
        case 16:
            if (wt != 5 || read_fixed32(&p, end, &flags)) goto odd;
            break;
        default:
            if (skip_field(&p, end, M_SPAN, field, wt)) goto odd;
        }
    }
    if (!id_ok(tid, tid_end, 16) || !id_ok(sid, sid_end, 8) ||
        (pid != pid_end && !id_ok(pid, pid_end, 8)) || kind > 5 || code > 2)
        goto odd;
    if (stop < start || stop > MAX_TIME_NS) goto odd;

    const Shared *resource = &f->resource_info[ctx->resource];
    const Shared *scope = &f->scope_info[ctx->scope];
    int64_t start_ns = (int64_t)start;
    uint64_t duration = stop - start;
    int8_t kind8 = (int8_t)kind, code8 = (int8_t)code;
    f->events += events;
    f->links += links;
    if (buf_put(&f->b[B_START], &start_ns, 8) || put_hex_value(f, B_TRACE_OFF, tid, tid_end) ||
        put_hex_value(f, B_SPAN_OFF, sid, sid_end) ||
        put_hex_value(f, B_PARENT_OFF, pid, pid_end) ||
        put_value(f, B_STATE_OFF, state, state_end) ||
        put_value(f, B_NAME_OFF, name, name_end) || buf_put(&f->b[B_KIND], &kind8, 1) ||
        put_value(f, B_SERVICE_OFF, resource->service.s, resource->service.e) ||
        buf_put(&f->b[B_RESOURCE], &ctx->resource, 4) ||
        put_value(f, B_SCOPE_NAME_OFF, scope->name.s, scope->name.e) ||
        put_value(f, B_SCOPE_VERSION_OFF, scope->version.s, scope->version.e) ||
        buf_byte(attrs, '}') || end_value(f, B_ATTRS_OFF) ||
        buf_put(&f->b[B_DURATION], &duration, 8) || buf_put(&f->b[B_STATUS], &code8, 1) ||
        put_value(f, B_MESSAGE_OFF, msg, msg_end) || put_count(f, B_EVENTS, f->events) ||
        put_count(f, B_LINKS, f->links) || buf_put(&f->b[B_SCOPE], &ctx->scope, 4) ||
        buf_put(&f->b[B_FLAGS], &flags, 4) || fill_range(f, tid, start_ns) ||
        fill_operation(f, resource->service, name, name_end, kind8))
        return ERR;
    f->rows++;
    return OK;
odd:
    for (int i = 0; i < B_SPAN_COUNT; i++) f->b[i].len = mark[i];
    return add_odd(f, ctx, span, span_end);
}

/* Every span of one scanned TracesData. */
static int fill_message(Fill *f, const uint8_t *p, const uint8_t *end) {
    const uint8_t *rs, *rs_end;
    int found;
    while ((found = next_message(&p, end, 1, M_TRACES, &rs, &rs_end)) > 0) {
        FillContext ctx;
        const uint8_t *q = rs, *res = rs, *res_end = rs, *ss, *ss_end;
        if (next_message(&q, rs_end, 1, M_RS, &res, &res_end) < 0) goto inconsistent;
        if (fill_resource(f, &ctx, res, res_end)) return ERR;
        for (q = rs; (found = next_message(&q, rs_end, 2, M_RS, &ss, &ss_end)) > 0;) {
            const uint8_t *r = ss, *sc = ss, *sc_end = ss, *sp, *sp_end;
            if (next_message(&r, ss_end, 1, M_SS, &sc, &sc_end) < 0) goto inconsistent;
            if (fill_scope(f, &ctx, sc, sc_end)) return ERR;
            for (r = ss; (found = next_message(&r, ss_end, 2, M_SS, &sp, &sp_end)) > 0;)
                if (fill_span(f, &ctx, sp, sp_end, 3)) return ERR;
            if (found < 0) goto inconsistent;
        }
        if (found < 0) goto inconsistent;
    }
    if (found < 0) goto inconsistent;
    return OK;
inconsistent:
    f->fail = FAIL_INCONSISTENT;
    return ERR;
}

/* scan() without the GIL: the span count, or -1 when check() declines the message. */
static int64_t scan_message(const uint8_t *p, const uint8_t *end) {
    const uint8_t *rs, *rs_end;
    int64_t count = 0;
    int found;
    if (check_traces(p, end)) return -1;
    while ((found = next_message(&p, end, 1, M_TRACES, &rs, &rs_end)) > 0) {
        const uint8_t *q = rs, *ss, *ss_end;
        while ((found = next_message(&q, rs_end, 2, M_RS, &ss, &ss_end)) > 0) {
            const uint8_t *r = ss, *sp, *sp_end;
            while ((found = next_message(&r, ss_end, 2, M_SS, &sp, &sp_end)) > 0) count++;
            if (found < 0) return -1;
        }
        if (found < 0) return -1;
    }
    return found < 0 ? -1 : count;
}

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

static PyTypeObject BufferType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "spanscope.formats._otlp_native.Buffer",
    .tp_basicsize = sizeof(BufferObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Bytes of one column buffer made by columns().",
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
        PyObject *item = Py_BuildValue("(N N i)", make_str(service, name), make_str(name, end),
                                       (int)key[0]);
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
        Py_XSETREF(resource, cached(resources, scopes, 0, odd->resource, odd->resource_end));
        if (resource == NULL) goto error;
        Py_XSETREF(ctx.scope, cached(resources, scopes, 1, odd->scope, odd->scope_end));
        if (ctx.scope == NULL) goto error;
        ctx.resource_attributes = PyTuple_GET_ITEM(resource, 0);
        ctx.service = PyTuple_GET_ITEM(resource, 1);
        int rc = parse_span(odd->span, odd->span_end, 3, &ctx, &span);
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

static PyObject *scan(PyObject *module, PyObject *data) {
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

/* Columns(): a batch of columns that messages are added to one by one (add), then taken as
 * Arrow buffers (finish). One call at a time (a second one meanwhile raises RuntimeError). */
typedef struct {
    PyObject_HEAD
    Fill *fill;       /* NULL once finished or failed */
    PyObject *bodies; /* the added messages: the fill points into them */
    int busy;
} ColumnsObject;

static PyTypeObject ColumnsType;

static void Columns_close(ColumnsObject *self) {
    if (self->fill != NULL) {
        fill_free(self->fill);
        free(self->fill);
        self->fill = NULL;
    }
}

static PyObject *Columns_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    if (!configured) {
        PyErr_SetString(PyExc_RuntimeError, "_otlp_native.configure() was not called");
        return NULL;
    }
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

static PyObject *Columns_spans(ColumnsObject *self, void *closure) {
    return PyLong_FromLongLong(self->fill == NULL ? 0 : (long long)self->fill->spans);
}

static PyMethodDef Columns_methods[] = {
    {"add", (PyCFunction)Columns_add, METH_O,
     "add(data: bytes): the spans of a TracesData that scan() took (GIL released)"},
    {"finish", (PyCFunction)Columns_finish, METH_NOARGS,
     "finish() -> (rows, events, links, resources, scopes, ranges, buffers, operations, odd)"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Columns_getset[] = {
    {"spans", (getter)Columns_spans, NULL, "spans added so far (plain and odd)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ColumnsType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "spanscope.formats._otlp_native.Columns",
    .tp_basicsize = sizeof(ColumnsObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Columns(): the store's column buffers of messages added one by one.",
    .tp_new = Columns_new,
    .tp_dealloc = (destructor)Columns_dealloc,
    .tp_methods = Columns_methods,
    .tp_getset = Columns_getset,
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
    {"scan", scan, METH_O,
     "scan(data: bytes) -> int | None: the spans of a TracesData columns() takes, or None"},
    {"configure", configure, METH_VARARGS,
     "configure(Span, Event, Link, kinds, codes, shared_key, follows_key, split_follows_from, "
     "known_fields)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_otlp_native",
    "OTLP protobuf TracesData -> spanscope model spans, in C (see otlp_native.py).", -1, methods,
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
        PyModule_AddIntConstant(module, "MESSAGE_TYPES", M_COUNT) < 0 ||
        PyModule_AddIntConstant(module, "MAX_DEPTH", MAX_DEPTH) < 0 ||
        add_owned(module, "COLUMN_BUFFERS", buffer_names()) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
