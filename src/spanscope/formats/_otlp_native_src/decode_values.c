/*
 * Python values for the span decoder (see decode_values.h): attribute values, keys, ids.
 */
#include "decode_values.h"

#include "fields.h"

PyObject *str_cache[STR_CACHE_SIZE];

PyObject *make_hex(Slice id) {
    static const char digits[] = "0123456789abcdef";
    Py_ssize_t n = id.e - id.s;
    PyObject *out = PyUnicode_New(2 * n, 127);
    if (out == NULL) return NULL;
    Py_UCS1 *d = PyUnicode_1BYTE_DATA(out);
    for (Py_ssize_t i = 0; i < n; i++) {
        d[2 * i] = digits[id.s[i] >> 4];
        d[2 * i + 1] = digits[id.s[i] & 15];
    }
    return out;
}

static int parse_any(const uint8_t *p, const uint8_t *end, int depth, int build,
                     PyObject **out);

/* ArrayValue -> list. */
static int parse_array(const uint8_t *p, const uint8_t *end, int depth, int build,
                       PyObject **out) {
    PyObject *list = NULL;
    Slice item;
    int found, rc;
    if (depth > MAX_DEPTH) return GIVEUP;
    if (build && (list = PyList_New(0)) == NULL) return ERR;
    while ((found = next_field(&p, end, 1, M_ARRAY, &item)) > 0) {
        PyObject *value = NULL;
        rc = parse_any(item.s, item.e, depth + 1, build, build ? &value : NULL);
        if (rc == ERR) goto error;
        if (rc) goto giveup;
        if (build) {
            rc = PyList_Append(list, value);
            Py_DECREF(value);
            if (rc) goto error;
        }
    }
    if (found < 0) goto giveup;
    if (build) *out = list;
    return OK;
giveup:
    Py_XDECREF(list);
    return GIVEUP;
error:
    Py_XDECREF(list);
    return ERR;
}

/* KeyValueList -> dict. */
static int parse_kvlist(const uint8_t *p, const uint8_t *end, int depth, int build,
                        PyObject **out) {
    PyObject *dict = NULL;
    Slice item, key;
    int found, rc;
    if (depth > MAX_DEPTH) return GIVEUP;
    if (build && (dict = PyDict_New()) == NULL) return ERR;
    while ((found = next_field(&p, end, 1, M_KVLIST, &item)) > 0) {
        rc = parse_kv(item.s, item.e, depth + 1, build, dict, &key);
        if (rc == ERR) goto error;
        if (rc) goto giveup;
    }
    if (found < 0) goto giveup;
    if (build) *out = dict;
    return OK;
giveup:
    Py_XDECREF(dict);
    return GIVEUP;
error:
    Py_XDECREF(dict);
    return ERR;
}

/* AnyValue -> its member's value (None when none is set). */
static int parse_any(const uint8_t *p, const uint8_t *end, int depth, int build,
                     PyObject **out) {
    AnyParts any;
    if (depth > MAX_DEPTH || any_parts(p, end, !build, &any)) return GIVEUP;
    if (any.which == 5 || any.which == 6)
        return (any.which == 5 ? parse_array : parse_kvlist)(any.bytes.s, any.bytes.e, depth + 1,
                                                             build, out);
    if (!build) return OK;
    PyObject *value;
    switch (any.which) {
    case 0: value = Py_NewRef(Py_None); break;
    case 1: value = make_str(any.bytes); break;
    case 2: value = PyBool_FromLong((long)any.number); break;
    case 3: value = PyLong_FromLongLong((long long)(int64_t)any.number); break;
    case 4: {
        double d;
        memcpy(&d, &any.number, 8);
        value = PyFloat_FromDouble(d);
        break;
    }
    default: /* 7 */
        value = PyBytes_FromStringAndSize((const char *)any.bytes.s, any.bytes.e - any.bytes.s);
    }
    if (value == NULL) return ERR;
    *out = value;
    return OK;
}

int parse_kv(const uint8_t *p, const uint8_t *end, int depth, int build, PyObject *dict,
             Slice *key) {
    Slice value;
    if (depth > MAX_DEPTH || kv_parts(p, end, !build, key, &value)) return GIVEUP;
    int plain = value.s != NULL && any_is_short_string(value.s, value.e) && depth + 1 <= MAX_DEPTH;
    if (!build) {
        if (plain) return utf8_valid(value.s + 2, value.e) ? OK : GIVEUP;
        return value.s == NULL ? OK : parse_any(value.s, value.e, depth + 1, 0, NULL);
    }
    PyObject *item = NULL, *name;
    if (value.s == NULL) {
        item = Py_NewRef(Py_None);
    } else if (plain) {
        if ((item = make_str((Slice){value.s + 2, value.e})) == NULL) return ERR;
    } else {
        int rc = parse_any(value.s, value.e, depth + 1, 1, &item);
        if (rc) return rc;
    }
    if ((name = make_str(*key)) == NULL) {
        Py_DECREF(item);
        return ERR;
    }
    int rc = PyDict_SetItem(dict, name, item);
    Py_DECREF(name);
    Py_DECREF(item);
    return rc ? ERR : OK;
}
