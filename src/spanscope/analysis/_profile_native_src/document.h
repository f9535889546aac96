/*
 * One Jaeger JSON document read into the few fields the critical-path profile needs, or given
 * up (the Python path reads it then). What is read and when it gives up: document.c's header.
 */
#ifndef SPANSCOPE_PROFILE_DOCUMENT_H
#define SPANSCOPE_PROFILE_DOCUMENT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#include "scan.h"

enum { KIND_OTHER = 0, KIND_PRODUCER = 1, KIND_CONSUMER = 2 };

typedef struct {
    uint64_t span_id;
    uint64_t parent_id; /* 0: no parent */
    int64_t start_ns;
    int64_t end_ns;    /* 0: never ended (as the projection reads it) */
    PyObject *service; /* borrowed: the processes dicts are held by the Document */
    PyObject *name;    /* borrowed: from the name cache, or held by the Document when full */
    uint8_t follows_from;
    uint8_t kind;
    /* While its trace is read: its trace id and process id as written (the trace's default id
     * and its processes may come after the spans). */
    Slice raw_trace_id;
    Slice process_id;
} NativeSpan;

typedef struct {
    char trace_id[32]; /* normalized: 32 lowercase hex digits */
    Py_ssize_t first;  /* its spans are spans[first .. first + count) */
    Py_ssize_t count;
    Slice text;        /* its "data" entry in the document, as written */
} NativeTrace;

/* What reading needs from Python, each a callable: tag_kind(bytes) -> 0, 1 (producer) or 2
 * (consumer); processes(bytes) -> {process id: (service, resource attributes)};
 * normalize_id(str, width) -> str; each None to give up; logs_ok(bytes) -> bool. */
typedef struct {
    PyObject *tag_kind;
    PyObject *processes;
    PyObject *logs_ok;
    PyObject *normalize_id;
} Hooks;

typedef struct {
    NativeSpan *spans;
    Py_ssize_t span_count, span_capacity;
    NativeTrace *traces;
    Py_ssize_t trace_count, trace_capacity;
    PyObject *held; /* a list: the processes dicts and names the spans borrow from */
} Document;

/* 1: read; 0: given up; -1: a Python error is set. `doc` must be zeroed; free it with
 * document_free whatever the result. */
int document_read(const char *data, Py_ssize_t size, const Hooks *hooks, Document *doc);
void document_free(Document *doc);

#endif
