/*
 * Growable byte buffers and maps of byte strings to indices (see buffers.h).
 */
#include "buffers.h"

#include <stdlib.h>

int buf_grow(Buf *b, size_t extra) {
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

int32_t map_index(Map *m, const uint8_t *key, size_t n, int32_t fresh, int *added) {
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

void map_free(Map *m) {
    free(m->slots);
    free(m->keys.data);
}
