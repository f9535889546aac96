/*
 * Byte strings -> what they gave, kept between documents: tag lists -> span kind, operation
 * names -> their str. Open addressing, a fixed number of slots; when half full the cache is
 * cleared, only ever between documents (cache_full), so nothing a document's spans borrow is
 * freed under them.
 */
#ifndef SPANSCOPE_PROFILE_CACHE_H
#define SPANSCOPE_PROFILE_CACHE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define HINTS 4

typedef struct {
    char *bytes; /* owned copy; NULL: an empty slot */
    size_t n;
    uint64_t hash;
    PyObject *value; /* owned, or NULL */
    long number;
    /* Entries of another cache this one led to lately (document.c), newest replacing the
     * oldest. */
    const void *hints[HINTS];
    unsigned next_hint;
} CacheEntry;

typedef struct {
    CacheEntry *slots;
    size_t capacity; /* a power of two */
    size_t used;
} Cache;

/* FNV-1a of a short string (a name). */
static inline uint64_t hash_all(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* A long string (a tag list) hashed by its length and three samples of 16 bytes: the lookup
 * compares the whole string anyway, and hashing every byte would cost a second pass. */
static inline uint64_t hash_sampled(const char *s, size_t n) {
    if (n <= 48) return hash_all(s, n) ^ n;
    uint64_t h = hash_all(s, 16);
    h ^= hash_all(s + n / 2 - 8, 16) * 31;
    h ^= hash_all(s + n - 16, 16) * 131;
    return h ^ (n * 0x9E3779B97F4A7C15ULL);
}

static inline CacheEntry *cache_find(Cache *cache, const char *s, size_t n, uint64_t hash) {
    if (cache->slots == NULL) return NULL;
    size_t mask = cache->capacity - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        CacheEntry *entry = &cache->slots[i];
        if (entry->bytes == NULL) return NULL;
        if (entry->hash == hash && entry->n == n && memcmp(entry->bytes, s, n) == 0) return entry;
    }
}

/* Adds a copy of `s` (not already there); NULL when the cache is half full (the caller goes on
 * without it) or on MemoryError (set). `value` is taken over (a new reference, or NULL). */
CacheEntry *cache_add(Cache *cache, const char *s, size_t n, uint64_t hash, PyObject *value,
                      long number, int *failed);
int cache_full(const Cache *cache);
void cache_clear(Cache *cache);

#endif
