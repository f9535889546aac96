/*
 * The protobuf wire format as both halves of _otlp_native read it: varints, tags, lengths,
 * fixed-width values, skipping a field, strict UTF-8, and the shared give-up state (which
 * fields of each OTLP message upb knows and we do not handle).
 *
 * Every reader is bounds-checked and answers OK, or GIVEUP for anything this extension does not
 * read exactly as upb does (the caller then lets the upb path read the message). They are
 * static inline because they run for every field: a call across files costs more than they do.
 */
#ifndef SPANSCOPE_OTLP_WIRE_H
#define SPANSCOPE_OTLP_WIRE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Symbols shared between the files of the extension, not exported from it (and called without
 * the indirection an exported function gets in a shared object). */
#if defined(__GNUC__) && !defined(_WIN32)
#define INTERNAL __attribute__((visibility("hidden")))
#else
#define INTERNAL
#endif

#define OK 0
#define ERR (-1)     /* a Python exception is set (or, without the GIL, no memory) */
#define GIVEUP 1     /* not for this extension: let the upb path read the message */
#define MAX_DEPTH 32 /* message nesting; upb's limit is 100, real traces stay under 15 */

/* The OTLP message types, in the order of otlp_native._MESSAGES. */
enum {
    M_TRACES, M_RS, M_SS, M_SPAN, M_EVENT, M_LINK, M_STATUS, M_RESOURCE, M_SCOPE, M_KV, M_ANY,
    M_ARRAY, M_KVLIST, M_COUNT
};

/* Bytes [s, e) of the message being read. */
typedef struct {
    const uint8_t *s, *e;
} Slice;

/* Per message type, the fields upb knows and this extension has no case for: seeing one means
 * giving up. Set once by configure() (wire_configure), read by skip_field. */
INTERNAL extern uint64_t giveup_mask[M_COUNT];

/* Sets giveup_mask from the field numbers upb knows (a bit mask per message type); answers the
 * first message type whose used fields upb does not all know, or -1 when all is well. */
INTERNAL int wire_configure(const uint64_t known[M_COUNT]);

/* Strict UTF-8 as upb and Python check it: no overlongs, no surrogates, nothing over U+10FFFF. */
INTERNAL int utf8_valid(const uint8_t *s, const uint8_t *end);

static inline int read_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out) {
    const uint8_t *p = *pp;
    uint64_t value = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (p >= end) return GIVEUP;
        uint8_t byte = *p++;
        if (shift == 63 && byte > 1) return GIVEUP; /* over 64 bits */
        value |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *pp = p;
            *out = value;
            return OK;
        }
    }
    return GIVEUP;
}

static inline int read_tag(const uint8_t **pp, const uint8_t *end, uint32_t *field, int *wt) {
    uint64_t tag;
    const uint8_t *p = *pp;
    if (p < end && *p < 0x80) { /* one-byte tag: the common case */
        tag = *p;
        *pp = p + 1;
    } else if (read_varint(pp, end, &tag) || *pp - p > 5) {
        return GIVEUP; /* upb rejects tags longer than 5 bytes, however small their value */
    }
    if (tag > 0xffffffffu || (tag >> 3) == 0) return GIVEUP;
    *field = (uint32_t)(tag >> 3);
    *wt = (int)(tag & 7);
    return OK;
}

static inline int read_len(const uint8_t **pp, const uint8_t *end, const uint8_t **s,
                           const uint8_t **e) {
    uint64_t n;
    if (read_varint(pp, end, &n)) return GIVEUP;
    if (n >= INT32_MAX || n > (uint64_t)(end - *pp)) return GIVEUP; /* upb's limit, too */
    *s = *pp;
    *e = *pp + n;
    *pp += n;
    return OK;
}

static inline int read_fixed64(const uint8_t **pp, const uint8_t *end, uint64_t *out) {
    const uint8_t *p = *pp;
    if (end - p < 8) return GIVEUP;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    *out = v;
    *pp = p + 8;
    return OK;
}

static inline int read_fixed32(const uint8_t **pp, const uint8_t *end, uint32_t *out) {
    const uint8_t *p = *pp;
    if (end - p < 4) return GIVEUP;
    *out = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    *pp = p + 4;
    return OK;
}

static inline int read_uint32(const uint8_t **pp, const uint8_t *end, uint32_t *out) {
    uint64_t v;
    if (read_varint(pp, end, &v) || v > 0xffffffffu) return GIVEUP; /* upb would truncate */
    *out = (uint32_t)v;
    return OK;
}

/* A field of message type `msg` that the reader has no case for: skipped, unless upb knows it. */
static inline int skip_field(const uint8_t **pp, const uint8_t *end, int msg, uint32_t field,
                             int wt) {
    uint64_t v;
    const uint8_t *s, *e;
    if (field < 64 && ((giveup_mask[msg] >> field) & 1)) return GIVEUP;
    switch (wt) {
    case 0: return read_varint(pp, end, &v);
    case 1: return read_fixed64(pp, end, &v);
    case 2: return read_len(pp, end, &s, &e);
    case 5: {
        uint32_t w;
        return read_fixed32(pp, end, &w);
    }
    default: return GIVEUP; /* groups (3, 4) and invalid wire types */
    }
}

/* A string field; `check`: its UTF-8 too (the first pass checks, later ones trust it). */
static inline int string_field(int wt, const uint8_t **pp, const uint8_t *end, int check,
                               Slice *out) {
    if (wt != 2 || read_len(pp, end, &out->s, &out->e)) return GIVEUP;
    if (check && !utf8_valid(out->s, out->e)) return GIVEUP;
    return OK;
}

/* The next occurrence of the repeated message field `want` of message type `msg` in
 * [*pp, end): 1 with its bytes in *out, 0 at the end, -1 when the rest is not read as upb
 * reads it (`want` not length-delimited, too). Other fields are skipped as skip_field does. */
static inline int next_field(const uint8_t **pp, const uint8_t *end, uint32_t want, int msg,
                             Slice *out) {
    while (*pp < end) {
        uint32_t field;
        int wt;
        if (read_tag(pp, end, &field, &wt)) return -1;
        if (field == want) return wt != 2 || read_len(pp, end, &out->s, &out->e) ? -1 : 1;
        if (skip_field(pp, end, msg, field, wt)) return -1;
    }
    return 0;
}

/* The first field `want` of a message: its bytes, empty (at the message's
 * start) when absent; ERR when the message is not read as upb reads it. */
static inline int first_field(Slice message, uint32_t want, int msg, Slice *out) {
    const uint8_t *p = message.s;
    out->s = out->e = message.s;
    return next_field(&p, message.e, want, msg, out) < 0 ? ERR : OK;
}

/* memcmp() == 0 for the short runs here, inline: the libc call costs more than the compare. */
static inline int same_bytes(const uint8_t *a, const uint8_t *b, Py_ssize_t n) {
    for (; n >= 8; a += 8, b += 8, n -= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y) return 0;
    }
    for (; n > 0; n--)
        if (*a++ != *b++) return 0;
    return 1;
}

/* A trace (16) or span (8) id as the model takes it: that many bytes, not all zeros. */
static inline int id_ok(Slice id, Py_ssize_t size) {
    if (id.e - id.s != size) return 0;
    for (Py_ssize_t i = 0; i < size; i++)
        if (id.s[i]) return 1;
    return 0;
}

#endif
