/*
 * A strict, small JSON scanner over one buffer: what document.c needs and no more.
 *
 * It reads the structure of a Jaeger document (objects, arrays, keys), plain strings (printable
 * ASCII with no escape: ids, keys, names), integers (a minus sign only where asked for:
 * durations) and literals, and finds where any other value ends (raw values: tags, logs,
 * processes, whose content msgspec checks in Python). Anything else (an escape or a non-ASCII
 * byte in a plain string, a fraction or exponent, an unexpected sign, a value that does not
 * end) is not an error here: the caller gives the document up, and the Python path reads it. A plain string or number read here is one msgspec reads the same way; a raw value's
 * end is found by its brackets and strings, which is where any JSON parser ends it.
 */
#ifndef SPANSCOPE_PROFILE_SCAN_H
#define SPANSCOPE_PROFILE_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

typedef struct {
    const char *p;   /* next byte */
    const char *end; /* one past the last */
} Scanner;

typedef struct {
    const char *s;
    size_t n;
} Slice;

static inline void skip_space(Scanner *sc) {
    const char *p = sc->p, *end = sc->end;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    sc->p = p;
}

/* Skips white space, then takes `c` if it comes next. */
static inline int take(Scanner *sc, char c) {
    skip_space(sc);
    if (sc->p < sc->end && *sc->p == c) {
        sc->p++;
        return 1;
    }
    return 0;
}

/* A plain string: printable ASCII, no escape. 0 when the next value is anything else. */
static inline int plain_string(Scanner *sc, Slice *out) {
    if (!take(sc, '"')) return 0;
    const char *s = sc->p, *p = s, *end = sc->end;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') break;
        if (c < 0x20 || c >= 0x7f || c == '\\') return 0;
        p++;
    }
    if (p >= end) return 0;
    out->s = s;
    out->n = (size_t)(p - s);
    sc->p = p + 1;
    return 1;
}

/* The literal `word` (null, true, false) if it comes next. */
static inline int literal(Scanner *sc, const char *word) {
    size_t n = strlen(word);
    skip_space(sc);
    if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, word, n) != 0) return 0;
    const char *after = sc->p + n;
    if (after < sc->end && ((*after >= 'a' && *after <= 'z') || (*after >= '0' && *after <= '9')))
        return 0;
    sc->p = after;
    return 1;
}

/* An unsigned JSON integer of at most `max`: digits, no leading zero, nothing after them that
 * would make it a fraction or exponent. 0 for anything else (a sign, a float, too big). */
static inline int unsigned_integer(Scanner *sc, uint64_t max, uint64_t *out) {
    skip_space(sc);
    const char *p = sc->p, *end = sc->end;
    if (p >= end || *p < '0' || *p > '9') return 0;
    if (*p == '0' && p + 1 < end && p[1] >= '0' && p[1] <= '9') return 0; /* leading zero */
    uint64_t value = 0;
    int digits = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        if (++digits > 19) return 0;
        value = value * 10 + (uint64_t)(*p - '0');
        p++;
    }
    if (p < end && (*p == '.' || *p == 'e' || *p == 'E')) return 0;
    if (value > max) return 0;
    sc->p = p;
    *out = value;
    return 1;
}

/* A JSON integer from -`max_negative` to `max`, as unsigned_integer with an optional minus
 * sign ("-0" is given up: msgspec's reading of it is not this scanner's business). */
static inline int signed_integer(Scanner *sc, uint64_t max_negative, uint64_t max, int64_t *out) {
    skip_space(sc);
    if (sc->p < sc->end && *sc->p == '-') {
        const char *at = sc->p;
        sc->p++;
        uint64_t value;
        if (sc->p >= sc->end || *sc->p < '0' || *sc->p > '9' ||
            !unsigned_integer(sc, max_negative, &value) || value == 0) {
            sc->p = at;
            return 0;
        }
        *out = -(int64_t)value;
        return 1;
    }
    uint64_t value;
    if (!unsigned_integer(sc, max, &value)) return 0;
    *out = (int64_t)value;
    return 1;
}

/* Past the end of a string whose opening quote is at p[-1]; NULL if it does not end. */
static inline const char *string_end(const char *p, const char *end) {
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
#endif
    for (;;) {
#ifdef __SSE2__
        while (end - p >= 16) {
            __m128i chunk = _mm_loadu_si128((const __m128i *)p);
            int mask = _mm_movemask_epi8(
                _mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)));
            if (mask) {
                p += __builtin_ctz((unsigned)mask);
                break;
            }
            p += 16;
        }
#endif
        while (p < end && *p != '"' && *p != '\\') p++;
        if (p >= end) return NULL;
        if (*p == '"') return p + 1;
        p += 2; /* an escape: the next byte is never the string's end */
        if (p > end) return NULL;
    }
}

/* The extent of the next value, whatever it is, without checking its content (msgspec does,
 * in Python): strings by their quotes and escapes, containers by their brackets. 0 if the
 * buffer ends first or a closing bracket does not match. */
static inline int raw_value(Scanner *sc, Slice *out) {
    skip_space(sc);
    const char *start = sc->p, *p = start, *end = sc->end;
    if (p >= end) return 0;
    char c = *p;
    if (c == '"') {
        p = string_end(p + 1, end);
        if (p == NULL) return 0;
    } else if (c == '[' || c == '{') {
        /* Brackets as a stack of bits (1 = object) up to 64 deep, then give up: Jaeger's values
         * nest two or three deep. */
        uint64_t kinds = 0;
        int depth = 0;
        while (p < end) {
            c = *p++;
            if (c == '"') {
                p = string_end(p, end);
                if (p == NULL) return 0;
            } else if (c == '[' || c == '{') {
                if (depth == 64) return 0;
                kinds = (kinds << 1) | (c == '{');
                depth++;
            } else if (c == ']' || c == '}') {
                if (!depth || (int)(kinds & 1) != (c == '}')) return 0;
                kinds >>= 1;
                if (--depth == 0) break;
            }
        }
        if (depth) return 0;
    } else {
        /* A number or literal: up to the next delimiter. */
        while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' &&
               *p != '\r' && *p != '\t')
            p++;
        if (p == start) return 0;
    }
    out->s = start;
    out->n = (size_t)(p - start);
    sc->p = p;
    return 1;
}

static inline int slice_is(Slice s, const char *text) {
    size_t n = strlen(text);
    return s.n == n && memcmp(s.s, text, n) == 0;
}

#endif
