/*
 * A document's traces: checked to be ones assembly leaves as they are, then walked along their
 * critical path and charged to call-path stacks. Contract in walk.c's header.
 */
#ifndef SPANSCOPE_PROFILE_WALK_H
#define SPANSCOPE_PROFILE_WALK_H

#include "document.h"

typedef struct {
    Py_ssize_t *parent;      /* span -> index of its parent span, -1 for the root */
    Py_ssize_t *first_child; /* span -> where its children start in `children` */
    Py_ssize_t *child_count; /* span -> how many children it has */
    Py_ssize_t *children;    /* by parent, each parent's children by (start, span id) */
    Py_ssize_t *roots;       /* trace -> index of its root span; -1: left to Python */
} Tree;

/* How many traces of `doc` build_trace leaves unchanged (their trees filled in, the others'
 * roots -1), or -1 on MemoryError. */
Py_ssize_t tree_check(const Document *doc, int adjust_skew, Tree *tree);
void tree_free(Tree *tree);

/* Trace `t`'s critical time by stack: {stack number: ns}, stacks numbered through `numbers`
 * (CallStacks.numbers) and `number` (CallStacks.number); NULL with an error set. */
PyObject *charge_trace(const Document *doc, const Tree *tree, Py_ssize_t t, int strict,
                       PyObject *numbers, PyObject *number);

#endif
