/*
 * Growable arrays: reserve() makes room, doubling, for the document's spans and traces
 * (document.c) and the walk's work lists (walk.c).
 */
#ifndef SPANSCOPE_PROFILE_RESERVE_H
#define SPANSCOPE_PROFILE_RESERVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Grows `*items` (of `size` bytes each, `*capacity` of them) to hold `need`: 0, or -1 with
 * MemoryError set. */
static inline int reserve(void **items, Py_ssize_t *capacity, Py_ssize_t need, size_t size) {
    if (need <= *capacity) return 0;
    Py_ssize_t grown = *capacity ? *capacity : 16;
    while (grown < need) grown *= 2;
    void *more = PyMem_Realloc(*items, (size_t)grown * size);
    if (more == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *items = more;
    *capacity = grown;
    return 0;
}

#endif
