/*
 * The fields of the OTLP messages, read once for both halves of _otlp_native: the span decoder
 * (decode_*.c, which builds model objects) and the column filler (fill_*.c, which writes the
 * store's columns). Each reader takes what both use the same way (ids, strings, numbers, the
 * status, the members of an AnyValue) and stops at what they use differently (attributes,
 * events, links), handing its bytes to the caller.
 *
 * `check`: the first pass (check(), scan()) also checks UTF-8; later passes read messages that
 * pass accepted, and trust them. A reader answers GIVEUP where upb would read the message
 * differently from us, or reject it or warn about it.
 */
#ifndef SPANSCOPE_OTLP_FIELDS_H
#define SPANSCOPE_OTLP_FIELDS_H

#include "wire.h"

/* KeyValue: key and value bytes (value.s NULL when absent; key_strindex ignored, as the Python
 * path ignores it). */
static inline int kv_parts(const uint8_t *p, const uint8_t *end, int check, Slice *key,
                           Slice *value) {
    key->s = key->e = p;
    value->s = value->e = NULL;
    /* The usual shape, key then value, each with a one-byte length: no general field walk. */
    if (end - p >= 4 && p[0] == 0x0a && p[1] < 0x80 && end - p >= 4 + p[1]) {
        const uint8_t *q = p + 2 + p[1];
        if (q[0] == 0x12 && q[1] < 0x80 && end - q == 2 + q[1]) {
            if (check && !utf8_valid(p + 2, q)) return GIVEUP;
            key->s = p + 2;
            key->e = q;
            value->s = q + 2;
            value->e = end;
            return OK;
        }
    }
    while (p < end) {
        uint32_t field;
        int wt;
        uint64_t v;
        if (read_tag(&p, end, &field, &wt)) return GIVEUP;
        if (field == 1) {
            if (string_field(wt, &p, end, check, key)) return GIVEUP;
        } else if (field == 2) { /* a singular message given twice merges: give up */
            if (value->s != NULL || wt != 2 || read_len(&p, end, &value->s, &value->e))
                return GIVEUP;
        } else if (field == 3) { /* key_strindex */
            if (wt != 0 || read_varint(&p, end, &v)) return GIVEUP;
        } else if (skip_field(&p, end, M_KV, field, wt)) {
            return GIVEUP;
        }
    }
    return OK;
}

/* Whether a key is `key`, an ASCII str (configure() checks the marker keys); reads only the
 * str's bytes, so it runs without the GIL. */
static inline int key_is(Slice k, PyObject *key) {
    return k.e - k.s == PyUnicode_GET_LENGTH(key) &&
           memcmp(k.s, PyUnicode_DATA(key), k.e - k.s) == 0;
}

/* An AnyValue that is one short string_value, the most common value: 0x0a <length> <text>. */
static inline int any_is_short_string(const uint8_t *p, const uint8_t *end) {
    return end - p >= 2 && p[0] == 0x0a && p[1] < 0x80 && end - p == 2 + p[1];
}

/* AnyValue, a oneof: which member is set (its field number; 0: none) and its value, a number
 * (bool, int, double's bits) or bytes (string, array, kvlist, bytes). A member given twice
 * (protobuf keeps the last, or merges messages): give up. */
typedef struct {
    uint32_t which;
    uint64_t number;
    Slice bytes;
} AnyParts;

static inline int any_parts(const uint8_t *p, const uint8_t *end, int check, AnyParts *out) {
    out->which = 0;
    out->number = 0;
    out->bytes.s = out->bytes.e = p;
    while (p < end) {
        uint32_t field;
        int wt;
        if (read_tag(&p, end, &field, &wt)) return GIVEUP;
        switch (field) {
        case 1:
            if (out->which || string_field(wt, &p, end, check, &out->bytes)) return GIVEUP;
            break;
        case 2:
        case 3:
            if (out->which || wt != 0 || read_varint(&p, end, &out->number)) return GIVEUP;
            if (field == 2 && out->number > 1) return GIVEUP;
            break;
        case 4:
            if (out->which || wt != 1 || read_fixed64(&p, end, &out->number)) return GIVEUP;
            break;
        case 5:
        case 6:
        case 7:
            if (out->which || wt != 2 || read_len(&p, end, &out->bytes.s, &out->bytes.e))
                return GIVEUP;
            break;
        default:
            if (skip_field(&p, end, M_ANY, field, wt)) return GIVEUP;
            continue;
        }
        out->which = field;
    }
    return OK;
}

/* Status: code and message (the last of each given, as protobuf reads them). */
static inline int status_fields(const uint8_t *p, const uint8_t *end, int check, uint64_t *code,
                                Slice *message) {
    while (p < end) {
        uint32_t field;
        int wt;
        if (read_tag(&p, end, &field, &wt)) return GIVEUP;
        if (field == 2) {
            if (string_field(wt, &p, end, check, message)) return GIVEUP;
        } else if (field == 3) {
            if (wt != 0 || read_varint(&p, end, code)) return GIVEUP;
        } else if (skip_field(&p, end, M_STATUS, field, wt)) {
            return GIVEUP;
        }
    }
    return OK;
}

/* What a Span holds besides its attributes, events and links. Strings and ids are empty until
 * given; dropped_any is the OR of every dropped count given (the columns take none). */
typedef struct {
    Slice trace, span, state, parent, name, message;
    uint64_t kind, code, start, end;
    uint32_t flags, dropped_attributes, dropped_events, dropped_links, dropped_any;
    int has_status;
} SpanFields;

enum { SPAN_ATTRIBUTE = 9, SPAN_EVENT = 11, SPAN_LINK = 13 };

static inline void span_fields_init(SpanFields *f, const uint8_t *p) {
    memset(f, 0, sizeof *f);
    f->trace.s = f->trace.e = f->span.s = f->span.e = f->state.s = f->state.e = p;
    f->parent.s = f->parent.e = f->name.s = f->name.e = f->message.s = f->message.e = p;
}

/* Reads a Span's fields from *pp on into *f, up to its next attribute, event or link: answers
 * that field's number (SPAN_*) with its bytes in *item, 0 at the end of the span, -1 to give
 * up. `depth`: the span's. */
static inline int span_next(const uint8_t **pp, const uint8_t *end, int depth, int check,
                            SpanFields *f, Slice *item) {
    while (*pp < end) {
        uint32_t field, *dropped;
        int wt;
        switch (read_tag(pp, end, &field, &wt) ? 0 : field) {
        case 0:
            return -1;
        case 1:
        case 2:
        case 4: {
            Slice *id = field == 1 ? &f->trace : field == 2 ? &f->span : &f->parent;
            if (wt != 2 || read_len(pp, end, &id->s, &id->e)) return -1;
            break;
        }
        case 3:
        case 5:
            if (string_field(wt, pp, end, check, field == 3 ? &f->state : &f->name)) return -1;
            break;
        case 6:
            if (wt != 0 || read_varint(pp, end, &f->kind)) return -1;
            break;
        case 7:
        case 8:
            if (wt != 1 || read_fixed64(pp, end, field == 7 ? &f->start : &f->end)) return -1;
            break;
        case SPAN_ATTRIBUTE:
        case SPAN_EVENT:
        case SPAN_LINK:
            if (wt != 2 || read_len(pp, end, &item->s, &item->e)) return -1;
            return (int)field;
        case 10:
        case 12:
        case 14:
            dropped = field == 10   ? &f->dropped_attributes
                      : field == 12 ? &f->dropped_events
                                    : &f->dropped_links;
            if (wt != 0 || read_uint32(pp, end, dropped)) return -1;
            f->dropped_any |= *dropped;
            break;
        case 15: { /* a singular message given twice merges: give up */
            Slice status;
            if (f->has_status++ || wt != 2 || read_len(pp, end, &status.s, &status.e) ||
                depth + 1 > MAX_DEPTH ||
                status_fields(status.s, status.e, check, &f->code, &f->message))
                return -1;
            break;
        }
        case 16:
            if (wt != 5 || read_fixed32(pp, end, &f->flags)) return -1;
            break;
        default:
            if (skip_field(pp, end, M_SPAN, field, wt)) return -1;
        }
    }
    return 0;
}

/* A time the model holds: fixed64 nanoseconds up to 2^63-1 (the year 2262), the bound OTLP
 * JSON's reader enforces too. The upb path leaves out, with a warning, a span with a start,
 * end or event time past it, so a message with one goes to upb (late_times() in module.c
 * finds that span's byte offset for the warning). */
static inline int time_ok(uint64_t time) {
    return time <= (uint64_t)INT64_MAX;
}

/* What the upb path errors on or warns about: ids of the wrong length or all zeros (a parent
 * may be absent), a kind or status code outside the model's, a time past int64. */
static inline int span_fields_ok(const SpanFields *f) {
    return id_ok(f->trace, 16) && id_ok(f->span, 8) &&
           (f->parent.s == f->parent.e || id_ok(f->parent, 8)) && f->kind <= 5 && f->code <= 2 &&
           time_ok(f->start | f->end);
}

/* Span.Event besides its attributes (EVENT_ATTRIBUTE fields, handed to the caller). */
typedef struct {
    uint64_t time;
    Slice name;
    uint32_t dropped, dropped_any;
} EventFields;

enum { EVENT_ATTRIBUTE = 3 };

static inline void event_fields_init(EventFields *f, const uint8_t *p) {
    memset(f, 0, sizeof *f);
    f->name.s = f->name.e = p;
}

static inline int event_next(const uint8_t **pp, const uint8_t *end, int check, EventFields *f,
                             Slice *item) {
    while (*pp < end) {
        uint32_t field;
        int wt;
        if (read_tag(pp, end, &field, &wt)) return -1;
        switch (field) {
        case 1:
            if (wt != 1 || read_fixed64(pp, end, &f->time)) return -1;
            break;
        case 2:
            if (string_field(wt, pp, end, check, &f->name)) return -1;
            break;
        case EVENT_ATTRIBUTE:
            if (wt != 2 || read_len(pp, end, &item->s, &item->e)) return -1;
            return EVENT_ATTRIBUTE;
        case 4:
            if (wt != 0 || read_uint32(pp, end, &f->dropped)) return -1;
            f->dropped_any |= f->dropped;
            break;
        default:
            if (skip_field(pp, end, M_EVENT, field, wt)) return -1;
        }
    }
    return 0;
}

/* Span.Link besides its attributes (LINK_ATTRIBUTE fields, handed to the caller). */
typedef struct {
    Slice trace, span, state;
    uint32_t flags, dropped, dropped_any;
} LinkFields;

enum { LINK_ATTRIBUTE = 4 };

static inline void link_fields_init(LinkFields *f, const uint8_t *p) {
    memset(f, 0, sizeof *f);
    f->trace.s = f->trace.e = f->span.s = f->span.e = f->state.s = f->state.e = p;
}

static inline int link_next(const uint8_t **pp, const uint8_t *end, int check, LinkFields *f,
                            Slice *item) {
    while (*pp < end) {
        uint32_t field;
        int wt;
        switch (read_tag(pp, end, &field, &wt) ? 0 : field) {
        case 0:
            return -1;
        case 1:
        case 2: {
            Slice *id = field == 1 ? &f->trace : &f->span;
            if (wt != 2 || read_len(pp, end, &id->s, &id->e)) return -1;
            break;
        }
        case 3:
            if (string_field(wt, pp, end, check, &f->state)) return -1;
            break;
        case LINK_ATTRIBUTE:
            if (wt != 2 || read_len(pp, end, &item->s, &item->e)) return -1;
            return LINK_ATTRIBUTE;
        case 5:
            if (wt != 0 || read_uint32(pp, end, &f->dropped)) return -1;
            f->dropped_any |= f->dropped;
            break;
        case 6:
            if (wt != 5 || read_fixed32(pp, end, &f->flags)) return -1;
            break;
        default:
            if (skip_field(pp, end, M_LINK, field, wt)) return -1;
        }
    }
    return 0;
}

/* Short ids are padded and empty ones are errors on the upb path: leave both to it. */
static inline int link_fields_ok(const LinkFields *f) {
    return id_ok(f->trace, 16) && id_ok(f->span, 8);
}

/* Resource: its attributes (field 1, handed to the caller); the dropped count is not kept. */
static inline int resource_next(const uint8_t **pp, const uint8_t *end, Slice *item) {
    while (*pp < end) {
        uint32_t field, dropped;
        int wt;
        if (read_tag(pp, end, &field, &wt)) return -1;
        if (field == 1) {
            if (wt != 2 || read_len(pp, end, &item->s, &item->e)) return -1;
            return 1;
        } else if (field == 2) {
            if (wt != 0 || read_uint32(pp, end, &dropped)) return -1;
        } else if (skip_field(pp, end, M_RESOURCE, field, wt)) {
            return -1;
        }
    }
    return 0;
}

/* InstrumentationScope: name and version (the last of each given, as protobuf reads them);
 * its attributes (field 3) handed to the caller; the dropped count is not kept. */
typedef struct {
    Slice name, version;
} ScopeFields;

static inline int scope_next(const uint8_t **pp, const uint8_t *end, int check, ScopeFields *f,
                             Slice *item) {
    while (*pp < end) {
        uint32_t field, dropped;
        int wt;
        if (read_tag(pp, end, &field, &wt)) return -1;
        if (field == 1 || field == 2) {
            if (string_field(wt, pp, end, check, field == 1 ? &f->name : &f->version)) return -1;
        } else if (field == 3) {
            if (wt != 2 || read_len(pp, end, &item->s, &item->e)) return -1;
            return 3;
        } else if (field == 4) {
            if (wt != 0 || read_uint32(pp, end, &dropped)) return -1;
        } else if (skip_field(pp, end, M_SCOPE, field, wt)) {
            return -1;
        }
    }
    return 0;
}

#endif
