/*
 * Python values for the span decoder: strings (with a cache of short ASCII ones), hex ids, and
 * attribute maps (KeyValue/AnyValue -> dict, list, str, bool, int, float, bytes, None), as the
 * upb path in otlp_proto.py builds them.
 *
 * Each parse_* function both checks (build = 0: first pass, GIL released, no Python objects)
 * and builds (build = 1: a message the first pass accepted); OK, GIVEUP or ERR (wire.h).
 */
#ifndef SPANSCOPE_OTLP_DECODE_VALUES_H
#define SPANSCOPE_OTLP_DECODE_VALUES_H

#include "fields.h"

/* Keys, names and many values repeat from span to span: a direct-mapped cache of short ASCII
 * strings hands out the same str again (no allocation, and its hash is already computed for the
 * dict insert). Strings are immutable, so sharing them is invisible to callers. The cache lives
 * as long as the module; only the GIL holder touches it. */
#define STR_CACHE_SIZE 4096 /* a power of two */
#define STR_CACHE_MAX_LEN 48
INTERNAL extern PyObject *str_cache[STR_CACHE_SIZE];

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

/* A str of UTF-8 bytes a first pass checked. */
static inline PyObject *make_str(Slice text) {
    const uint8_t *s = text.s;
    Py_ssize_t n = text.e - s;
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

/* Lowercase hex of an id, as the model writes ids. */
INTERNAL PyObject *make_hex(Slice id);

/* KeyValue (at `depth`) into `dict` when building (later keys overwrite, as the Python dict
 * comprehension does); its key into *key. */
INTERNAL int parse_kv(const uint8_t *p, const uint8_t *end, int depth, int build,
                      PyObject *dict, Slice *key);

/* One attribute (the bytes of a KeyValue field of a message at `depth`) into `dict` when
 * building; *marked = 1 when its key is `marker` (NULL: none). Inline: it runs for every
 * attribute, and the decoder's messages are in another file than parse_kv. */
static inline int parse_attribute(Slice item, int depth, int build, PyObject *dict,
                                  PyObject *marker, int *marked) {
    Slice key;
    int rc = parse_kv(item.s, item.e, depth + 1, build, dict, &key);
    if (rc == OK && marker != NULL && key_is(key, marker)) *marked = 1;
    return rc;
}

#endif
