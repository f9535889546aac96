/*
 * The column filler (see fill_columns.h): resources, scopes, spans, events and links into the
 * column buffers. Fields are read by fields.h, as the span decoder reads them; attribute maps
 * are written by json_text.c.
 */
#include "fill_columns.h"

#include <stdlib.h>

#include "decode_spans.h" /* check_traces, SharedKey, FollowsKey */
#include "fields.h"
#include "json_text.h"

#define MAX_TIME_NS 0x7ffffffffffffffeULL /* DuckDB's TIMESTAMP_NS: int64 minus its infinity */

const char *const BUFFER_NAMES[B_COUNT] = {
    "start", "trace_offsets", "trace", "span_offsets", "span", "parent_offsets", "parent",
    "state_offsets", "state", "name_offsets", "name", "kind", "service_offsets", "service",
    "resource", "scope_name_offsets", "scope_name", "scope_version_offsets", "scope_version",
    "attributes_offsets", "attributes", "duration", "status", "message_offsets", "message",
    "events", "event_time", "event_name_offsets", "event_name", "event_attributes_offsets",
    "event_attributes", "links", "link_trace_offsets", "link_trace", "link_span_offsets",
    "link_span", "link_state_offsets", "link_state", "link_attributes_offsets",
    "link_attributes", "link_flags", "scope", "flags", "resource_json_offsets", "resource_json",
    "scope_json_offsets", "scope_json", "range_trace_offsets", "range_trace", "range_start",
    "range_end", "range_key",
};

/* Buffers that are Arrow offsets (int32, starting at 0). */
static const int OFFSET_BUFFERS[] = {
    B_TRACE_OFF, B_SPAN_OFF, B_PARENT_OFF, B_STATE_OFF, B_NAME_OFF, B_SERVICE_OFF,
    B_SCOPE_NAME_OFF, B_SCOPE_VERSION_OFF, B_ATTRS_OFF, B_MESSAGE_OFF, B_EVENTS,
    B_EVENT_NAME_OFF, B_EVENT_ATTRS_OFF, B_LINKS, B_LINK_TRACE_OFF, B_LINK_SPAN_OFF,
    B_LINK_STATE_OFF, B_LINK_ATTRS_OFF, B_RES_JSON_OFF, B_SCOPE_JSON_OFF, B_RANGE_ID_OFF,
};

/* The resource and scope of the spans being filled. */
typedef struct {
    int32_t resource, scope;
    Slice res, sc;
} FillContext;

int fill_init(Fill *f) {
    memset(f, 0, sizeof *f);
    int32_t zero = 0;
    for (size_t i = 0; i < sizeof OFFSET_BUFFERS / sizeof OFFSET_BUFFERS[0]; i++)
        if (buf_put(&f->b[OFFSET_BUFFERS[i]], &zero, 4)) return ERR;
    return OK;
}

void fill_free(Fill *f) {
    for (int i = 0; i < B_COUNT; i++) free(f->b[i].data);
    map_free(&f->resources);
    map_free(&f->scopes);
    map_free(&f->traces);
    map_free(&f->operations);
    free(f->resource_info);
    free(f->scope_info);
    free(f->odd);
    free(f->scratch.data);
}

/* Close the current value of the string column whose offsets are buffer `off`. */
static inline int end_value(Fill *f, int off) {
    size_t len = f->b[off + 1].len;
    if (len > INT32_MAX) {
        f->fail = FAIL_TOO_BIG;
        return ERR;
    }
    int32_t v = (int32_t)len;
    return buf_put(&f->b[off], &v, 4);
}

static inline int put_value(Fill *f, int off, Slice value) {
    return buf_put(&f->b[off + 1], value.s, (size_t)(value.e - value.s)) || end_value(f, off);
}

static inline int put_hex_value(Fill *f, int off, Slice id) {
    return buf_hex(&f->b[off + 1], id) || end_value(f, off);
}

static inline int put_count(Fill *f, int off, int64_t count) {
    if (count > INT32_MAX) {
        f->fail = FAIL_TOO_BIG;
        return ERR;
    }
    int32_t v = (int32_t)count;
    return buf_put(&f->b[off], &v, 4);
}

/* The service.name of a resource's attribute `item` into *service when it is that key (its
 * bytes; empty when its value is absent or empty): GIVEUP when the value is something other
 * than a string (the model would write str() of it). */
static int service_name(Slice item, Slice *service) {
    Slice key, value;
    AnyParts any;
    if (kv_parts(item.s, item.e, 0, &key, &value)) return GIVEUP;
    if (key.e - key.s != 12 || memcmp(key.s, "service.name", 12)) return OK;
    service->s = service->e = item.s;
    if (value.s == NULL) return OK;
    if (any_parts(value.s, value.e, 0, &any) || any.which > 1) return GIVEUP;
    if (any.which == 1) *service = any.bytes;
    return OK;
}

/* A resource's attributes as a JSON object, and its service. */
static int resource_columns(Buf *json, Slice resource, Slice *service) {
    const uint8_t *p = resource.s;
    KeyList keys;
    Slice item;
    int field, rc;
    keys.n = 0;
    service->s = service->e = resource.s;
    if (buf_byte(json, '{')) return ERR;
    while ((field = resource_next(&p, resource.e, &item)) > 0)
        if ((rc = json_kv(json, &keys, item, 3, NULL)) || (rc = service_name(item, service)))
            return rc;
    return field < 0 ? GIVEUP : buf_byte(json, '}');
}

/* A scope's attributes as a JSON object, and its name and version. */
static int scope_columns(Buf *json, Slice scope, Shared *info) {
    const uint8_t *p = scope.s;
    ScopeFields f = {{p, p}, {p, p}};
    KeyList keys;
    Slice item;
    int field, rc;
    keys.n = 0;
    if (buf_byte(json, '{')) return ERR;
    while ((field = scope_next(&p, scope.e, 0, &f, &item)) > 0)
        if ((rc = json_kv(json, &keys, item, 4, NULL))) return rc;
    info->name = f.name;
    info->version = f.version;
    return field < 0 ? GIVEUP : buf_byte(json, '}');
}

/* A resource (kind 0) or scope (kind 1) of the batch: its index in ctx, and for one not seen
 * before, its entry in the dictionary of their JSON texts ("{}" and odd when its attributes or
 * service are not for the columns). */
static int fill_shared(Fill *f, FillContext *ctx, int kind, Slice bytes) {
    Map *map = kind ? &f->scopes : &f->resources;
    int32_t *count = kind ? &f->n_scopes : &f->n_resources;
    Shared **infos = kind ? &f->scope_info : &f->resource_info;
    size_t *cap = kind ? &f->scope_cap : &f->resource_cap;
    Buf *json = &f->b[kind ? B_SCOPE_JSON : B_RES_JSON];
    int added;
    int32_t index = map_index(map, bytes.s, (size_t)(bytes.e - bytes.s), *count, &added);
    if (index < 0) return ERR;
    if (kind) {
        ctx->scope = index;
        ctx->sc = bytes;
    } else {
        ctx->resource = index;
        ctx->res = bytes;
    }
    if (!added) return OK;
    if ((size_t)*count == *cap) {
        size_t grown = *cap ? 2 * *cap : 16;
        Shared *info = realloc(*infos, grown * sizeof(Shared));
        if (info == NULL) return ERR;
        *infos = info;
        *cap = grown;
    }
    Shared *info = &(*infos)[*count];
    size_t mark = json->len;
    int rc = kind ? scope_columns(json, bytes, info)
                  : resource_columns(json, bytes, &info->service);
    if (rc == ERR) return ERR;
    info->odd = rc == GIVEUP;
    if (info->odd) { /* an unused entry of the dictionary: valid JSON all the same */
        json->len = mark;
        if (buf_put(json, "{}", 2)) return ERR;
    }
    if (end_value(f, kind ? B_SCOPE_JSON_OFF : B_RES_JSON_OFF)) return ERR;
    (*count)++;
    return OK;
}

static int fill_event(Fill *f, Slice event, int depth) {
    const uint8_t *p = event.s;
    EventFields ev;
    Buf *attrs = &f->b[B_EVENT_ATTRS];
    KeyList keys;
    Slice item;
    int field, rc;
    keys.n = 0;
    if (depth > MAX_DEPTH) return GIVEUP;
    if (buf_byte(attrs, '{')) return ERR;
    event_fields_init(&ev, p);
    while ((field = event_next(&p, event.e, 0, &ev, &item)) > 0)
        if ((rc = json_kv(attrs, &keys, item, depth + 1, NULL))) return rc;
    if (field < 0 || ev.dropped_any || ev.time > MAX_TIME_NS) return GIVEUP;
    int64_t t = (int64_t)ev.time;
    if (buf_byte(attrs, '}') || end_value(f, B_EVENT_ATTRS_OFF) ||
        buf_put(&f->b[B_EVENT_TIME], &t, 8) || put_value(f, B_EVENT_NAME_OFF, ev.name))
        return ERR;
    return OK;
}

static int fill_link(Fill *f, Slice link, int depth) {
    const uint8_t *p = link.s;
    LinkFields lf;
    Buf *attrs = &f->b[B_LINK_ATTRS];
    KeyList keys;
    Slice item;
    int field, rc;
    keys.n = 0;
    if (depth > MAX_DEPTH) return GIVEUP;
    if (buf_byte(attrs, '{')) return ERR;
    link_fields_init(&lf, p);
    /* A FOLLOWS_FROM marker is model_span's business: odd. */
    while ((field = link_next(&p, link.e, 0, &lf, &item)) > 0)
        if ((rc = json_kv(attrs, &keys, item, depth + 1, FollowsKey))) return rc;
    if (field < 0 || lf.dropped_any || !link_fields_ok(&lf)) return GIVEUP;
    if (buf_byte(attrs, '}') || end_value(f, B_LINK_ATTRS_OFF) ||
        put_hex_value(f, B_LINK_TRACE_OFF, lf.trace) ||
        put_hex_value(f, B_LINK_SPAN_OFF, lf.span) || put_value(f, B_LINK_STATE_OFF, lf.state) ||
        buf_put(&f->b[B_LINK_FLAGS], &lf.flags, 4))
        return ERR;
    return OK;
}

/* The trace's time range in the batch (otel_traces_trace_id_ts): first and last span start. */
static int fill_range(Fill *f, const uint8_t *tid, int64_t start) {
    int added;
    int32_t index = map_index(&f->traces, tid, 16, f->n_ranges, &added);
    if (index < 0) return ERR;
    if (!added) {
        int64_t *low = (int64_t *)f->b[B_RANGE_START].data + index;
        int64_t *high = (int64_t *)f->b[B_RANGE_END].data + index;
        if (start < *low) *low = start;
        if (start > *high) *high = start;
        return OK;
    }
    uint64_t key = 0;
    for (int i = 8; i < 16; i++) key = (key << 8) | tid[i];
    if (put_hex_value(f, B_RANGE_ID_OFF, (Slice){tid, tid + 16}) ||
        buf_put(&f->b[B_RANGE_START], &start, 8) || buf_put(&f->b[B_RANGE_END], &start, 8) ||
        buf_put(&f->b[B_RANGE_KEY], &key, 8))
        return ERR;
    f->n_ranges++;
    return OK;
}

/* (service, span name, kind) into the set of operations. */
static int fill_operation(Fill *f, Slice service, Slice name, uint8_t kind) {
    Buf *key = &f->scratch;
    uint32_t n = (uint32_t)(service.e - service.s);
    int added;
    key->len = 0;
    if (buf_byte(key, kind) || buf_put(key, &n, 4) || buf_put(key, service.s, n) ||
        buf_put(key, name.s, (size_t)(name.e - name.s)))
        return ERR;
    return map_index(&f->operations, key->data, key->len, 0, &added) < 0 ? ERR : OK;
}

static int add_odd(Fill *f, const FillContext *ctx, Slice span) {
    if (f->n_odd == f->odd_cap) {
        size_t cap = f->odd_cap ? 2 * f->odd_cap : 16;
        OddSpan *odd = realloc(f->odd, cap * sizeof(OddSpan));
        if (odd == NULL) return ERR;
        f->odd = odd;
        f->odd_cap = cap;
    }
    f->odd[f->n_odd++] = (OddSpan){span, ctx->res, ctx->sc, f->spans - 1};
    return OK;
}

/* One span into the columns, or into the odd list. */
static int fill_span(Fill *f, const FillContext *ctx, Slice span, int depth) {
    const uint8_t *p = span.s;
    SpanFields sf;
    int64_t events = 0, links = 0;
    int field, rc;
    size_t mark[B_SPAN_COUNT];
    KeyList keys;
    Slice item;
    Buf *attrs = &f->b[B_ATTRS];
    for (int i = 0; i < B_SPAN_COUNT; i++) mark[i] = f->b[i].len;
    f->spans++;
    if (f->resource_info[ctx->resource].odd || f->scope_info[ctx->scope].odd) goto odd;
    keys.n = 0;
    if (buf_byte(attrs, '{')) return ERR;
    span_fields_init(&sf, p);
    while ((field = span_next(&p, span.e, depth, 0, &sf, &item)) > 0) {
        if (sf.dropped_any) goto odd; /* no need to read further */
        if (field == SPAN_ATTRIBUTE) {
            rc = json_kv(attrs, &keys, item, depth + 1, SharedKey);
        } else if (field == SPAN_EVENT) {
            rc = fill_event(f, item, depth + 1);
            events++;
        } else {
            rc = fill_link(f, item, depth + 1);
            links++;
        }
        if (rc == ERR) return ERR;
        if (rc) goto odd;
    }
    if (field < 0 || sf.dropped_any || !span_fields_ok(&sf)) goto odd;
    if (sf.end < sf.start || sf.end > MAX_TIME_NS) goto odd;

    const Shared *resource = &f->resource_info[ctx->resource];
    const Shared *scope = &f->scope_info[ctx->scope];
    int64_t start_ns = (int64_t)sf.start;
    uint64_t duration = sf.end - sf.start;
    int8_t kind8 = (int8_t)sf.kind, code8 = (int8_t)sf.code;
    f->events += events;
    f->links += links;
    if (buf_put(&f->b[B_START], &start_ns, 8) || put_hex_value(f, B_TRACE_OFF, sf.trace) ||
        put_hex_value(f, B_SPAN_OFF, sf.span) || put_hex_value(f, B_PARENT_OFF, sf.parent) ||
        put_value(f, B_STATE_OFF, sf.state) || put_value(f, B_NAME_OFF, sf.name) ||
        buf_put(&f->b[B_KIND], &kind8, 1) ||
        put_value(f, B_SERVICE_OFF, resource->service) ||
        buf_put(&f->b[B_RESOURCE], &ctx->resource, 4) ||
        put_value(f, B_SCOPE_NAME_OFF, scope->name) ||
        put_value(f, B_SCOPE_VERSION_OFF, scope->version) || buf_byte(attrs, '}') ||
        end_value(f, B_ATTRS_OFF) || buf_put(&f->b[B_DURATION], &duration, 8) ||
        buf_put(&f->b[B_STATUS], &code8, 1) || put_value(f, B_MESSAGE_OFF, sf.message) ||
        put_count(f, B_EVENTS, f->events) || put_count(f, B_LINKS, f->links) ||
        buf_put(&f->b[B_SCOPE], &ctx->scope, 4) || buf_put(&f->b[B_FLAGS], &sf.flags, 4) ||
        fill_range(f, sf.trace.s, start_ns) ||
        fill_operation(f, resource->service, sf.name, (uint8_t)kind8))
        return ERR;
    f->rows++;
    return OK;
odd:
    for (int i = 0; i < B_SPAN_COUNT; i++) f->b[i].len = mark[i];
    return add_odd(f, ctx, span);
}

int fill_message(Fill *f, const uint8_t *p, const uint8_t *end) {
    Slice rs, ss, sp, res, sc;
    int found;
    while ((found = next_field(&p, end, 1, M_TRACES, &rs)) > 0) {
        FillContext ctx;
        const uint8_t *q = rs.s;
        if (first_field(rs, 1, M_RS, &res)) goto inconsistent;
        if (fill_shared(f, &ctx, 0, res)) return ERR;
        while ((found = next_field(&q, rs.e, 2, M_RS, &ss)) > 0) {
            const uint8_t *r = ss.s;
            if (first_field(ss, 1, M_SS, &sc)) goto inconsistent;
            if (fill_shared(f, &ctx, 1, sc)) return ERR;
            while ((found = next_field(&r, ss.e, 2, M_SS, &sp)) > 0)
                if (fill_span(f, &ctx, sp, 3)) return ERR;
            if (found < 0) goto inconsistent;
        }
        if (found < 0) goto inconsistent;
    }
    if (found < 0) goto inconsistent;
    return OK;
inconsistent:
    f->fail = FAIL_INCONSISTENT;
    return ERR;
}

int64_t scan_message(const uint8_t *p, const uint8_t *end) {
    Slice rs, ss, sp;
    int64_t count = 0;
    int found;
    if (check_traces(p, end)) return -1;
    while ((found = next_field(&p, end, 1, M_TRACES, &rs)) > 0) {
        const uint8_t *q = rs.s;
        while ((found = next_field(&q, rs.e, 2, M_RS, &ss)) > 0) {
            const uint8_t *r = ss.s;
            while ((found = next_field(&r, ss.e, 2, M_SS, &sp)) > 0) count++;
            if (found < 0) return -1;
        }
        if (found < 0) return -1;
    }
    return found < 0 ? -1 : count;
}
