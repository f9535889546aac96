/*
 * Growable byte buffers (Buf) and maps of byte strings to indices (Map) for the column filler:
 * plain C, no Python objects, so they are used without the GIL. ERR means no memory (nothing
 * is set: the caller tells Python).
 */
#ifndef SPANSCOPE_OTLP_BUFFERS_H
#define SPANSCOPE_OTLP_BUFFERS_H

#include "wire.h"

typedef struct {
    uint8_t *data;
    size_t len, cap;
} Buf;

INTERNAL int buf_grow(Buf *b, size_t extra);

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

/* Lowercase hex of the bytes, as the model writes ids. */
static inline int buf_hex(Buf *b, Slice id) {
    static const char digits[] = "0123456789abcdef";
    size_t n = (size_t)(id.e - id.s);
    if (buf_reserve(b, 2 * n)) return ERR;
    uint8_t *d = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        d[2 * i] = digits[id.s[i] >> 4];
        d[2 * i + 1] = digits[id.s[i] & 15];
    }
    b->len += 2 * n;
    return OK;
}

/* Open addressing; the keys are copied into the map. */
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

/* The index stored for `key`, or `fresh` stored for it now (*added = 1); -1 on no memory. */
INTERNAL int32_t map_index(Map *m, const uint8_t *key, size_t n, int32_t fresh, int *added);

INTERNAL void map_free(Map *m);

#endif
