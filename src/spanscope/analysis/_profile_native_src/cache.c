/* The caches of cache.h: open addressing over a fixed table, copies of the keys owned here. */
#include "cache.h"

#define CACHE_SLOTS 32768 /* at most 16384 entries, as the Python tag cache (jaeger_lean) */

CacheEntry *cache_add(Cache *cache, const char *s, size_t n, uint64_t hash, PyObject *value,
                      long number, int *failed) {
    *failed = 0;
    if (cache->slots == NULL) {
        cache->slots = PyMem_Calloc(CACHE_SLOTS, sizeof(CacheEntry));
        if (cache->slots == NULL) goto fail;
        cache->capacity = CACHE_SLOTS;
        cache->used = 0;
    }
    if (cache->used * 2 >= cache->capacity) {
        Py_XDECREF(value);
        return NULL;
    }
    char *copy = PyMem_Malloc(n ? n : 1);
    if (copy == NULL) goto fail;
    memcpy(copy, s, n);
    size_t mask = cache->capacity - 1;
    size_t i = hash & mask;
    while (cache->slots[i].bytes != NULL) i = (i + 1) & mask;
    CacheEntry *entry = &cache->slots[i];
    entry->bytes = copy;
    entry->n = n;
    entry->hash = hash;
    entry->value = value;
    entry->number = number;
    memset(entry->hints, 0, sizeof(entry->hints));
    entry->next_hint = 0;
    cache->used++;
    return entry;
fail:
    Py_XDECREF(value);
    PyErr_NoMemory();
    *failed = 1;
    return NULL;
}

int cache_full(const Cache *cache) {
    return cache->slots != NULL && cache->used * 2 >= cache->capacity;
}

void cache_clear(Cache *cache) {
    if (cache->slots == NULL) return;
    for (size_t i = 0; i < cache->capacity; i++) {
        CacheEntry *entry = &cache->slots[i];
        if (entry->bytes != NULL) {
            PyMem_Free(entry->bytes);
            Py_XDECREF(entry->value);
            entry->bytes = NULL;
            entry->value = NULL;
        }
    }
    cache->used = 0;
}
