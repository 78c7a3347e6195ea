// _huaweicloud: the native core of the huaweicloud module (the client class
// is frozen Python: micropython/modules/huaweicloud.py).
//
// Only what needs Rust or the device clock: credentials, topics and their
// parsing, id validation, event times, the default subscriptions, the clock
// offset, the $time_sync arithmetic, the streaming SHA-256 of OTA packages
// (rust/iotda, behind qpy_rust.h).
// Secrets and passwords are never printed.

#include <string.h>

#include "py/runtime.h"
#include "py/objstr.h"

#include "qpy_rust.h"

// The streaming SHA-256 below serves only the optional huaweicloud_ota
// module: a port that does not freeze it sets this to 0 (about 1 KB less
// flash: the C here and the Rust it calls).
#ifndef MICROPY_PY_HUAWEICLOUD_OTA
#define MICROPY_PY_HUAWEICLOUD_OTA (1)
#endif

#define UNIX_2000_MS (946684800000LL)

// Offset of the UTC clock from the device clock, in milliseconds: learnt from
// $time_sync or set with set_time_offset(). Used by every default time.
static int64_t clock_offset_ms;

// what: the argument's name, a QSTR (most are keyword names already).
static const char *text_data(mp_obj_t obj, qstr what, size_t *len) {
    if (!mp_obj_is_str_or_bytes(obj)) {
        mp_raise_msg_varg(&mp_type_TypeError, MP_ERROR_TEXT("%q must be str or bytes"), what);
    }
    return mp_obj_str_get_data(obj, len);
}

// MP_NOINLINE below: gcc -Os copies these helpers into each caller, which
// measured larger with the vendor flags (make quectel).

// Raises the core's error, if st is one.
static MP_NOINLINE void check_status(int32_t st) {
    if (st != IOTDA_OK) {
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%s"), iotda_status_message(st));
    }
}

// Text the Rust core wrote from validated UTF-8 (ids, topics, hex, stamps).
static MP_NOINLINE mp_obj_t new_core_str(const uint8_t *data, size_t len) {
    return mp_obj_new_str_copy(&mp_type_str, data, len);
}

// A Python int (any size) as int64_t; OverflowError outside the range.
static int64_t get_i64(mp_obj_t obj, const char *what) {
    if (mp_obj_is_small_int(obj)) {
        return MP_OBJ_SMALL_INT_VALUE(obj);
    }
    if (!mp_obj_is_int(obj)) {
        mp_raise_msg_varg(&mp_type_TypeError, MP_ERROR_TEXT("%s must be an int"), what);
    }
    // obj = hi * 2**29 + lo with 0 <= lo < 2**29. 2**29 is a small int on
    // every build (32-bit ports' small ints stop at 2**30 - 1), and there
    // every Unix time after 2004 is a big int that takes this path.
    mp_obj_t base = MP_OBJ_NEW_SMALL_INT(1 << 29);
    mp_int_t hi = mp_obj_int_get_checked(mp_binary_op(MP_BINARY_OP_FLOOR_DIVIDE, obj, base));
    mp_int_t lo = MP_OBJ_SMALL_INT_VALUE(mp_binary_op(MP_BINARY_OP_MODULO, obj, base));
    if ((int64_t)hi > (INT64_MAX >> 29) || (int64_t)hi < (INT64_MIN >> 29)) {
        mp_raise_msg(&mp_type_OverflowError, MP_ERROR_TEXT("int too large"));
    }
    return (int64_t)hi * (1 << 29) + lo;
}

// Seconds given as int or float (floored).
static int64_t get_seconds(mp_obj_t obj) {
    #if MICROPY_PY_BUILTINS_FLOAT
    if (mp_obj_is_float(obj)) {
        mp_float_t f = mp_obj_get_float(obj);
        if (!(f >= (mp_float_t)-9.2e18 && f <= (mp_float_t)9.2e18)) {
            mp_raise_ValueError(MP_ERROR_TEXT("time out of range"));
        }
        int64_t s = (int64_t)f;
        return (mp_float_t)s > f ? s - 1 : s;
    }
    #endif
    return get_i64(obj, "time");
}

// Not inlined: four callers, each would get its own 64-bit division.
// Not inlined: four callers, each would get its own 64-bit division.
static MP_NOINLINE int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// The device's own clock as Unix milliseconds (1970 epoch whatever the
// port's epoch), without the learnt offset.
static int64_t device_clock_ms(void) {
    mp_obj_t time_mod = mp_import_name(MP_QSTR_time, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
    mp_obj_t dest[2];
    mp_load_method_maybe(time_mod, MP_QSTR_time_ns, dest);
    int64_t ms;
    if (dest[0] != MP_OBJ_NULL) {
        ms = floor_div(get_i64(mp_call_method_n_kw(0, 0, dest), "time_ns()"), 1000000);
    } else {
        mp_obj_t t = mp_call_function_0(mp_load_attr(time_mod, MP_QSTR_time));
        #if MICROPY_PY_BUILTINS_FLOAT
        if (mp_obj_is_float(t)) {
            ms = (int64_t)(mp_obj_get_float(t) * 1000); // keep the milliseconds
        } else
        #endif
        {
            ms = get_i64(t, "time()") * 1000;
        }
    }
    #if !MICROPY_EPOCH_IS_1970
    ms += UNIX_2000_MS;
    #endif
    return ms;
}

static MP_NOINLINE int64_t utc_now_ms(void) {
    return device_clock_ms() + clock_offset_ms;
}

static int64_t time_arg_or_now(mp_obj_t t) {
    return t == mp_const_none ? floor_div(utc_now_ms(), 1000) : get_seconds(t);
}

static mp_obj_t event_time_str(int64_t unix_s) {
    uint8_t out[IOTDA_EVENT_TIME_LEN];
    check_status(iotda_event_time(unix_s, out));
    return new_core_str(out, sizeof(out));
}

static mp_obj_t conninfo_tuple(mp_obj_t device_id, mp_obj_t secret, int64_t unix_s, mp_int_t sign_type) {
    size_t id_len, secret_len;
    const char *id = text_data(device_id, MP_QSTR_device_id, &id_len);
    const char *sec = text_data(secret, MP_QSTR_secret, &secret_len);
    uint8_t client_id[IOTDA_MAX_CLIENT_ID_LEN];
    uint8_t password[IOTDA_PASSWORD_LEN];
    size_t client_id_len;
    check_status(iotda_credentials((const uint8_t *)id, id_len, (const uint8_t *)sec, secret_len, unix_s,
        sign_type < 0 || sign_type > 255 ? 255 : (uint8_t)sign_type, // Rust refuses what is not 0..2
        client_id, sizeof(client_id), &client_id_len, password));
    mp_obj_t items[3] = {
        new_core_str(client_id, client_id_len),
        // validated by the core: a str device id is returned as it is
        mp_obj_is_str(device_id) ? device_id : new_core_str((const uint8_t *)id, id_len),
        new_core_str(password, sizeof(password)),
    };
    memset(password, 0, sizeof(password));
    return mp_obj_new_tuple(3, items);
}

// conninfo(device_id, secret, time=None, check_timestamp=False, *, sign_type=None):
// sign_type (0, 1, 2: HMAC-SM3), when given, replaces check_timestamp's 0 / 1.
static mp_obj_t huaweicloud_conninfo(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_device_id, ARG_secret, ARG_time, ARG_check_timestamp, ARG_sign_type };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_device_id, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_secret, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_time, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_check_timestamp, MP_ARG_BOOL, {.u_bool = false} },
        { MP_QSTR_sign_type, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    mp_obj_t sign = args[ARG_sign_type].u_obj;
    return conninfo_tuple(args[ARG_device_id].u_obj, args[ARG_secret].u_obj,
        time_arg_or_now(args[ARG_time].u_obj),
        sign == mp_const_none ? args[ARG_check_timestamp].u_bool : mp_obj_get_int(sign));
}
static MP_DEFINE_CONST_FUN_OBJ_KW(huaweicloud_conninfo_obj, 2, huaweicloud_conninfo);

// topic(kind, device_id, request_id=None, query=None): request_id is the
// name for USER; query is IoTDA's `?request_id=` suffix (rust/iotda's
// REQUEST_ID_QUERY) for kinds without a request id of their own.
static mp_obj_t huaweicloud_topic(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_kind, ARG_device_id, ARG_request_id, ARG_query };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_kind, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_device_id, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_request_id, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_query, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    mp_int_t kind = args[ARG_kind].u_int;
    // from IOTDA_TOPIC_SUBSCRIPTION on, the core's codes are subscription
    // filters: subscriptions()'s, not topic kinds
    if (kind <= IOTDA_KIND_NOT_OURS || kind >= IOTDA_TOPIC_SUBSCRIPTION) {
        check_status(IOTDA_ERR_UNKNOWN_KIND); // raises
    }
    mp_obj_t rid = args[ARG_request_id].u_obj;
    mp_obj_t query = args[ARG_query].u_obj;
    if (query != mp_const_none && rid != mp_const_none) {
        mp_raise_ValueError(MP_ERROR_TEXT("request_id and query together"));
    }
    size_t id_len, p_len = 0;
    const char *id = text_data(args[ARG_device_id].u_obj, MP_QSTR_device_id, &id_len);
    const char *p = NULL;
    if (rid != mp_const_none) {
        p = text_data(rid, MP_QSTR_request_id, &p_len);
    }
    uint8_t buf[IOTDA_MAX_TOPIC_LEN];
    size_t len;
    // first without a parameter: the kinds that need one fail here
    int32_t st = iotda_topic((const uint8_t *)id, id_len, kind, NULL, 0, buf, sizeof(buf), &len);
    if (p != NULL) { // request_id given (str/bytes data is never NULL)
        // a kind without a parameter would ignore it in Rust; say so instead
        if (st == IOTDA_OK) {
            mp_raise_ValueError(MP_ERROR_TEXT("this topic kind takes no request_id"));
        }
        st = iotda_topic((const uint8_t *)id, id_len, kind, (const uint8_t *)p, p_len, buf, sizeof(buf), &len);
    }
    check_status(st);
    if (query == mp_const_none) {
        return new_core_str(buf, len);
    }
    size_t q_len;
    const char *q = text_data(query, MP_QSTR_query, &q_len);
    check_status(iotda_check_id(IOTDA_ID_REQUEST, (const uint8_t *)q, q_len));
    vstr_t vstr;
    vstr_init(&vstr, len + 12 + q_len);
    vstr_add_strn(&vstr, (const char *)buf, len);
    vstr_add_str(&vstr, "?request_id=");
    vstr_add_strn(&vstr, q, q_len);
    return mp_obj_new_str_from_vstr(&vstr);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(huaweicloud_topic_obj, 2, huaweicloud_topic);

// (kind, param) of topic for device_id, or MP_OBJ_NULL when not ours.
static mp_obj_t classify(mp_obj_t device_id, mp_obj_t topic, uint8_t *kind_out) {
    size_t id_len, topic_len;
    const char *id = text_data(device_id, MP_QSTR_device_id, &id_len);
    const char *t = text_data(topic, MP_QSTR_topic, &topic_len);
    uint8_t kind;
    size_t off, len;
    check_status(iotda_classify((const uint8_t *)id, id_len, (const uint8_t *)t, topic_len, &kind, &off, &len));
    *kind_out = kind;
    return len ? mp_obj_new_str(t + off, len) : mp_const_none;
}

static mp_obj_t huaweicloud_parse_topic(mp_obj_t topic, mp_obj_t device_id) {
    uint8_t kind;
    mp_obj_t param = classify(device_id, topic, &kind);
    if (kind == IOTDA_KIND_NOT_OURS) {
        return mp_const_none;
    }
    mp_obj_t items[2] = { MP_OBJ_NEW_SMALL_INT(kind), param };
    return mp_obj_new_tuple(2, items);
}
static MP_DEFINE_CONST_FUN_OBJ_2(huaweicloud_parse_topic_obj, huaweicloud_parse_topic);

static mp_obj_t huaweicloud_event_time(size_t n_args, const mp_obj_t *args) {
    return event_time_str(time_arg_or_now(n_args > 0 ? args[0] : mp_const_none));
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(huaweicloud_event_time_obj, 0, 1, huaweicloud_event_time);

static mp_obj_t huaweicloud_set_time_offset(mp_obj_t seconds) {
    #if MICROPY_PY_BUILTINS_FLOAT
    if (mp_obj_is_float(seconds)) {
        clock_offset_ms = (int64_t)(mp_obj_get_float(seconds) * 1000);
        return mp_const_none;
    }
    #endif
    int64_t s = get_i64(seconds, "seconds");
    if (s > INT64_MAX / 1000 || s < INT64_MIN / 1000) {
        mp_raise_ValueError(MP_ERROR_TEXT("offset out of range"));
    }
    clock_offset_ms = s * 1000;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(huaweicloud_set_time_offset_obj, huaweicloud_set_time_offset);

static mp_obj_t huaweicloud_get_time_offset(void) {
    return mp_obj_new_int_from_ll(floor_div(clock_offset_ms, 1000));
}
static MP_DEFINE_CONST_FUN_OBJ_0(huaweicloud_get_time_offset_obj, huaweicloud_get_time_offset);

static mp_obj_t huaweicloud_utc_time(void) {
    return mp_obj_new_int_from_ll(floor_div(utc_now_ms(), 1000));
}
static MP_DEFINE_CONST_FUN_OBJ_0(huaweicloud_utc_time_obj, huaweicloud_utc_time);


// device_ms(): the device clock, Unix milliseconds (no offset).
static mp_obj_t huaweicloud_device_ms(void) {
    return mp_obj_new_int_from_ll(device_clock_ms());
}
static MP_DEFINE_CONST_FUN_OBJ_0(huaweicloud_device_ms_obj, huaweicloud_device_ms);

// time_sync(device_send_ms, server_recv_ms, server_send_ms) -> utc_ms: the
// $time_sync answer, received now; sets the clock offset.
static mp_obj_t huaweicloud_time_sync(mp_obj_t device_send, mp_obj_t server_recv, mp_obj_t server_send) {
    // the $time_sync field names, QSTRs of the frozen client already
    static const qstr_short_t names[3] = { MP_QSTR_device_send_time, MP_QSTR_server_recv_time, MP_QSTR_server_send_time };
    const mp_obj_t args[3] = { device_send, server_recv, server_send };
    int64_t ms[3];
    for (size_t i = 0; i < 3; i++) {
        ms[i] = get_i64(args[i], qstr_str(names[i]));
    }
    int64_t recv = device_clock_ms();
    clock_offset_ms = iotda_time_sync_offset_ms(ms[0], ms[1], ms[2], recv);
    return mp_obj_new_int_from_ll(recv + clock_offset_ms);
}
static MP_DEFINE_CONST_FUN_OBJ_3(huaweicloud_time_sync_obj, huaweicloud_time_sync);

// check_id(value, which=ID_DEVICE) -> value as str; ValueError when invalid.
static mp_obj_t huaweicloud_check_id(size_t n_args, const mp_obj_t *args) {
    size_t len;
    const char *s = text_data(args[0], MP_QSTR_id, &len);
    mp_int_t which = n_args > 1 ? mp_obj_get_int(args[1]) : IOTDA_ID_DEVICE;
    check_status(iotda_check_id(which < 0 || which > 255 ? 255 : (uint8_t)which, (const uint8_t *)s, len));
    return mp_obj_is_str(args[0]) ? args[0] : new_core_str((const uint8_t *)s, len);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(huaweicloud_check_id_obj, 1, 2, huaweicloud_check_id);

// subscriptions(device_id) -> the device's system topic filters, in order.
static mp_obj_t huaweicloud_subscriptions(mp_obj_t device_id) {
    size_t id_len;
    const char *id = text_data(device_id, MP_QSTR_device_id, &id_len);
    mp_obj_t items[IOTDA_DEVICE_SUBSCRIPTIONS];
    for (uint8_t i = 0; i < IOTDA_DEVICE_SUBSCRIPTIONS; i++) {
        uint8_t buf[IOTDA_MAX_TOPIC_LEN];
        size_t len;
        // iotda_topic, not iotda_subscription: one core entry point linked for both
        check_status(iotda_topic((const uint8_t *)id, id_len, IOTDA_TOPIC_SUBSCRIPTION + IOTDA_SUB_MESSAGES_DOWN + i,
            NULL, 0, buf, sizeof(buf), &len));
        items[i] = new_core_str(buf, len);
    }
    return mp_obj_new_tuple(IOTDA_DEVICE_SUBSCRIPTIONS, items);
}
static MP_DEFINE_CONST_FUN_OBJ_1(huaweicloud_subscriptions_obj, huaweicloud_subscriptions);


#if MICROPY_PY_HUAWEICLOUD_OTA
// SHA-256 of an OTA package while it streams in (huaweicloud_ota.py): the
// state is a bytearray the script owns, hashed in place by Rust.
static uint8_t *sha256_state(mp_obj_t state) {
    mp_buffer_info_t b;
    mp_get_buffer_raise(state, &b, MP_BUFFER_RW);
    if (b.len != IOTDA_SHA256_STATE_LEN) {
        mp_raise_ValueError(MP_ERROR_TEXT("not a sha256 state"));
    }
    return b.buf;
}

static MP_NOINLINE void sha256_check(int32_t st) {
    if (st != IOTDA_OK) {
        mp_raise_ValueError(MP_ERROR_TEXT("not a sha256 state"));
    }
}

// sha256_init() -> a new state (bytearray)
static mp_obj_t huaweicloud_sha256_init(void) {
    uint8_t st[IOTDA_SHA256_STATE_LEN];
    sha256_check(iotda_sha256_init(st));
    return mp_obj_new_bytearray(sizeof(st), st);
}
static MP_DEFINE_CONST_FUN_OBJ_0(huaweicloud_sha256_init_obj, huaweicloud_sha256_init);

// sha256_update(state, data): data is any buffer (not the state itself)
static mp_obj_t huaweicloud_sha256_update(mp_obj_t state, mp_obj_t data) {
    uint8_t *st = sha256_state(state);
    mp_buffer_info_t d;
    mp_get_buffer_raise(data, &d, MP_BUFFER_READ);
    const uint8_t *p = d.buf;
    if (d.len && p < st + IOTDA_SHA256_STATE_LEN && st < p + d.len) {
        mp_raise_ValueError(MP_ERROR_TEXT("data overlaps the state"));
    }
    sha256_check(iotda_sha256_update(st, p, d.len));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(huaweicloud_sha256_update_obj, huaweicloud_sha256_update);

// sha256_hex(state) -> lowercase hex digest of what was hashed so far
static mp_obj_t huaweicloud_sha256_hex(mp_obj_t state) {
    uint8_t out[IOTDA_SHA256_HEX_LEN];
    sha256_check(iotda_sha256_hex(sha256_state(state), out));
    return new_core_str(out, sizeof(out));
}
static MP_DEFINE_CONST_FUN_OBJ_1(huaweicloud_sha256_hex_obj, huaweicloud_sha256_hex);
#endif


static const mp_rom_map_elem_t huaweicloud_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__huaweicloud) },
    { MP_ROM_QSTR(MP_QSTR_conninfo), MP_ROM_PTR(&huaweicloud_conninfo_obj) },
    { MP_ROM_QSTR(MP_QSTR_topic), MP_ROM_PTR(&huaweicloud_topic_obj) },
    { MP_ROM_QSTR(MP_QSTR_parse_topic), MP_ROM_PTR(&huaweicloud_parse_topic_obj) },
    { MP_ROM_QSTR(MP_QSTR_event_time), MP_ROM_PTR(&huaweicloud_event_time_obj) },
    { MP_ROM_QSTR(MP_QSTR_set_time_offset), MP_ROM_PTR(&huaweicloud_set_time_offset_obj) },
    { MP_ROM_QSTR(MP_QSTR_get_time_offset), MP_ROM_PTR(&huaweicloud_get_time_offset_obj) },
    { MP_ROM_QSTR(MP_QSTR_utc_time), MP_ROM_PTR(&huaweicloud_utc_time_obj) },
    { MP_ROM_QSTR(MP_QSTR_device_ms), MP_ROM_PTR(&huaweicloud_device_ms_obj) },
    { MP_ROM_QSTR(MP_QSTR_time_sync), MP_ROM_PTR(&huaweicloud_time_sync_obj) },
    { MP_ROM_QSTR(MP_QSTR_check_id), MP_ROM_PTR(&huaweicloud_check_id_obj) },
    { MP_ROM_QSTR(MP_QSTR_subscriptions), MP_ROM_PTR(&huaweicloud_subscriptions_obj) },
#if MICROPY_PY_HUAWEICLOUD_OTA
    { MP_ROM_QSTR(MP_QSTR_sha256_init), MP_ROM_PTR(&huaweicloud_sha256_init_obj) },
    { MP_ROM_QSTR(MP_QSTR_sha256_update), MP_ROM_PTR(&huaweicloud_sha256_update_obj) },
    { MP_ROM_QSTR(MP_QSTR_sha256_hex), MP_ROM_PTR(&huaweicloud_sha256_hex_obj) },
#endif
    { MP_ROM_QSTR(MP_QSTR_KEEPALIVE_MIN), MP_ROM_INT(IOTDA_KEEPALIVE_MIN) },
    { MP_ROM_QSTR(MP_QSTR_KEEPALIVE_MAX), MP_ROM_INT(IOTDA_KEEPALIVE_MAX) },
    { MP_ROM_QSTR(MP_QSTR_ID_REQUEST), MP_ROM_INT(IOTDA_ID_REQUEST) },
    { MP_ROM_QSTR(MP_QSTR_ID_TOPIC_NAME), MP_ROM_INT(IOTDA_ID_TOPIC_NAME) },
    { MP_ROM_QSTR(MP_QSTR_MESSAGES_UP), MP_ROM_INT(IOTDA_KIND_MESSAGES_UP) },
    { MP_ROM_QSTR(MP_QSTR_MESSAGES_DOWN), MP_ROM_INT(IOTDA_KIND_MESSAGES_DOWN) },
    { MP_ROM_QSTR(MP_QSTR_PROPERTIES_REPORT), MP_ROM_INT(IOTDA_KIND_PROPERTIES_REPORT) },
    { MP_ROM_QSTR(MP_QSTR_GATEWAY_SUB_DEVICES_REPORT), MP_ROM_INT(IOTDA_KIND_GATEWAY_SUB_DEVICES_REPORT) },
    { MP_ROM_QSTR(MP_QSTR_PROPERTIES_SET), MP_ROM_INT(IOTDA_KIND_PROPERTIES_SET) },
    { MP_ROM_QSTR(MP_QSTR_PROPERTIES_SET_RESPONSE), MP_ROM_INT(IOTDA_KIND_PROPERTIES_SET_RESPONSE) },
    { MP_ROM_QSTR(MP_QSTR_PROPERTIES_GET), MP_ROM_INT(IOTDA_KIND_PROPERTIES_GET) },
    { MP_ROM_QSTR(MP_QSTR_PROPERTIES_GET_RESPONSE), MP_ROM_INT(IOTDA_KIND_PROPERTIES_GET_RESPONSE) },
    { MP_ROM_QSTR(MP_QSTR_SHADOW_GET), MP_ROM_INT(IOTDA_KIND_SHADOW_GET) },
    { MP_ROM_QSTR(MP_QSTR_SHADOW_GET_RESPONSE), MP_ROM_INT(IOTDA_KIND_SHADOW_GET_RESPONSE) },
    { MP_ROM_QSTR(MP_QSTR_COMMAND), MP_ROM_INT(IOTDA_KIND_COMMAND) },
    { MP_ROM_QSTR(MP_QSTR_COMMAND_RESPONSE), MP_ROM_INT(IOTDA_KIND_COMMAND_RESPONSE) },
    { MP_ROM_QSTR(MP_QSTR_EVENTS_UP), MP_ROM_INT(IOTDA_KIND_EVENTS_UP) },
    { MP_ROM_QSTR(MP_QSTR_EVENTS_DOWN), MP_ROM_INT(IOTDA_KIND_EVENTS_DOWN) },
    { MP_ROM_QSTR(MP_QSTR_BOOTSTRAP_UP), MP_ROM_INT(IOTDA_KIND_BOOTSTRAP_UP) },
    { MP_ROM_QSTR(MP_QSTR_BOOTSTRAP_DOWN), MP_ROM_INT(IOTDA_KIND_BOOTSTRAP_DOWN) },
    { MP_ROM_QSTR(MP_QSTR_USER), MP_ROM_INT(IOTDA_KIND_USER) },
};
static MP_DEFINE_CONST_DICT(huaweicloud_module_globals, huaweicloud_module_globals_table);

const mp_obj_module_t huaweicloud_native_cmodule = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&huaweicloud_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR__huaweicloud, huaweicloud_native_cmodule);
