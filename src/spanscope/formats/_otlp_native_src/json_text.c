/*
 * Attribute maps as JSON text (see json_text.h). Fields are read by fields.h, as the span
 * decoder reads them.
 */
#include "json_text.h"

#include <stdlib.h>

#include "fields.h"

/* ", \ and control characters escaped (\b \t \n \f \r short, the rest \u00XX), everything else
 * (DEL, non-ASCII UTF-8) as it is. */
int json_string(Buf *b, Slice text) {
    static const char digits[] = "0123456789abcdef";
    const uint8_t *s = text.s, *e = text.e;
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

static int key_add(KeyList *list, Slice key) {
    Py_ssize_t n = key.e - key.s;
    for (int i = 0; i < list->n; i++)
        if (list->keys[i].e - list->keys[i].s == n && same_bytes(list->keys[i].s, key.s, n))
            return GIVEUP;
    if (list->n == MAX_KEYS) return GIVEUP;
    list->keys[list->n++] = key;
    return OK;
}

/* AnyValue as JSON. */
static int json_any(Buf *b, const uint8_t *p, const uint8_t *end, int depth) {
    AnyParts any;
    Slice item;
    int found = 0, rc = OK;
    if (depth > MAX_DEPTH) return GIVEUP;
    if (any_is_short_string(p, end)) return json_string(b, (Slice){p + 2, end});
    if (any_parts(p, end, 0, &any)) return GIVEUP;
    switch (any.which) {
    case 0: return buf_put(b, "null", 4);
    case 1: return json_string(b, any.bytes);
    case 2: return any.number ? buf_put(b, "true", 4) : buf_put(b, "false", 5);
    case 3: return json_int(b, (int64_t)any.number);
    case 5: {
        int first = 1;
        if (buf_byte(b, '[')) return ERR;
        p = any.bytes.s;
        while ((found = next_field(&p, any.bytes.e, 1, M_ARRAY, &item)) > 0) {
            if (!first && buf_byte(b, ',')) return ERR;
            first = 0;
            if ((rc = json_any(b, item.s, item.e, depth + 1))) return rc;
        }
        return found < 0 ? GIVEUP : buf_byte(b, ']');
    }
    case 6: {
        KeyList *keys = malloc(sizeof(KeyList)); /* nested maps are rare: keep the stack small */
        if (keys == NULL) return ERR;
        keys->n = 0;
        if (buf_byte(b, '{')) rc = ERR;
        p = any.bytes.s;
        while (rc == OK && (found = next_field(&p, any.bytes.e, 1, M_KVLIST, &item)) > 0)
            rc = json_kv(b, keys, item, depth + 1, NULL);
        free(keys);
        if (rc == OK && found < 0) rc = GIVEUP;
        return rc ? rc : buf_byte(b, '}');
    }
    default: return GIVEUP; /* 4, 7: a double or bytes */
    }
}

int json_kv(Buf *b, KeyList *keys, Slice item, int depth, PyObject *marker) {
    Slice key, value;
    if (depth > MAX_DEPTH || kv_parts(item.s, item.e, 0, &key, &value)) return GIVEUP;
    if (marker != NULL && key_is(key, marker)) return GIVEUP;
    if (key_add(keys, key)) return GIVEUP;
    if (keys->n > 1 && buf_byte(b, ',')) return ERR;
    if (json_string(b, key) || buf_byte(b, ':')) return ERR;
    if (value.s == NULL) return buf_put(b, "null", 4);
    return json_any(b, value.s, value.e, depth + 1);
}
