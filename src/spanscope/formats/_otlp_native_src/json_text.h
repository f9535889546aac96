/*
 * Attribute maps as the JSON text msgspec writes for the store's columns (the reference is
 * spanscope.store.columns.encode_batch), written from protobuf KeyValues without the GIL.
 * GIVEUP for what the text would not keep exactly (doubles, bytes, a key given twice in one
 * map, more than MAX_KEYS keys, the marker key the caller names): the caller makes the span odd.
 */
#ifndef SPANSCOPE_OTLP_JSON_TEXT_H
#define SPANSCOPE_OTLP_JSON_TEXT_H

#include "buffers.h"

#define MAX_KEYS 128 /* keys per map checked for repeats; more: odd */

/* The keys of one map so far: a key given twice makes the map odd (the model's dict keeps the
 * first position and the last value; not worth mirroring). Start with n = 0. */
typedef struct {
    int n;
    Slice keys[MAX_KEYS];
} KeyList;

/* A JSON string as msgspec writes it. */
INTERNAL int json_string(Buf *b, Slice text);

/* One KeyValue (at `depth`) of a map into its JSON object, after "{" and the earlier members
 * (whose keys are in `keys`). A key equal to `marker` (NULL: none) gives up. */
INTERNAL int json_kv(Buf *b, KeyList *keys, Slice item, int depth, PyObject *marker);

#endif
