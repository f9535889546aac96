/*
 * The give-up state both halves of _otlp_native share, and the UTF-8 check.
 *
 * HANDLED lists, per message type, the fields some reader here has a case for (used, or
 * checked and skipped); USED the subset whose values reach the model or the columns, which
 * upb must know. configure() hands over the fields upb knows; a field upb knows and no reader
 * handles (a newer schema) is in giveup_mask, and skip_field gives up on it rather than
 * silently skip what upb reads.
 */
#include "wire.h"

#define B(n) (1ULL << (n))
static const uint64_t HANDLED[M_COUNT] = {
    B(1), B(1) | B(2) | B(3), B(1) | B(2) | B(3),
    B(1) | B(2) | B(3) | B(4) | B(5) | B(6) | B(7) | B(8) | B(9) | B(10) | B(11) | B(12) | B(13) |
        B(14) | B(15) | B(16),
    B(1) | B(2) | B(3) | B(4), B(1) | B(2) | B(3) | B(4) | B(5) | B(6), B(2) | B(3), B(1) | B(2),
    B(1) | B(2) | B(3) | B(4), B(1) | B(2) | B(3), B(1) | B(2) | B(3) | B(4) | B(5) | B(6) | B(7),
    B(1), B(1),
};
static const uint64_t USED[M_COUNT] = {
    B(1), B(1) | B(2), B(1) | B(2),
    B(1) | B(2) | B(3) | B(4) | B(5) | B(6) | B(7) | B(8) | B(9) | B(10) | B(11) | B(12) | B(13) |
        B(14) | B(15) | B(16),
    B(1) | B(2) | B(3) | B(4), B(1) | B(2) | B(3) | B(4) | B(5) | B(6), B(2) | B(3), B(1),
    B(1) | B(2) | B(3), B(1) | B(2), B(1) | B(2) | B(3) | B(4) | B(5) | B(6) | B(7), B(1), B(1),
};

uint64_t giveup_mask[M_COUNT];

int wire_configure(const uint64_t known[M_COUNT]) {
    for (int i = 0; i < M_COUNT; i++)
        if ((USED[i] & ~known[i]) != 0) return i;
    for (int i = 0; i < M_COUNT; i++) giveup_mask[i] = known[i] & ~HANDLED[i];
    return -1;
}

int utf8_valid(const uint8_t *s, const uint8_t *end) {
    while (s < end) {
        if (end - s >= 8) {
            uint64_t w;
            memcpy(&w, s, 8);
            if (!(w & 0x8080808080808080ULL)) {
                s += 8;
                continue;
            }
        }
        uint8_t c = *s;
        if (c < 0x80) {
            s++;
        } else if (c >= 0xc2 && c <= 0xdf) {
            if (end - s < 2 || (s[1] & 0xc0) != 0x80) return 0;
            s += 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            if (end - s < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80) return 0;
            if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f)) return 0;
            s += 3;
        } else if (c >= 0xf0 && c <= 0xf4) {
            if (end - s < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
                (s[3] & 0xc0) != 0x80)
                return 0;
            if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f)) return 0;
            s += 4;
        } else {
            return 0;
        }
    }
    return 1;
}
