// huaweicloud: Huawei Cloud IoTDA device client in the style of QuecPython's
// cloud modules (aLiYun, TXyun), on top of the umqtt module.
//
// The IoTDA protocol (credentials, hour stamps, topics, topic classification,
// event times, the $time_sync arithmetic) runs in Rust behind qpy_rust.h.
// This file converts arguments, builds and reads JSON with MicroPython's own
// json module, and drives umqtt.MQTTClient through ordinary Python-level
// calls. Secrets and passwords are never printed.

#include <string.h>

#include "py/runtime.h"
#include "py/mphal.h"
#include "py/mperrno.h"
#include "py/objstr.h"

#include "qpy_rust.h"

#define KEEPALIVE_MIN (30)
#define KEEPALIVE_MAX (1200)
#define KEEPALIVE_DEFAULT (120)
#define RECV_RETRY_MS (1000)
#define UNIX_2000_MS (946684800000LL)

// getHuaweiCloudSta() before setMqtt(): as umqtt's "closed".
#define STA_CLOSED (-1)
#define STA_SERVER_CLOSED (2)

// Default answers (documented in docs/huaweicloud.md).
#define REASON_NO_HANDLER "no handler"
#define REASON_MALFORMED "malformed request"
#define REASON_HANDLER_ERROR "handler error"

// Offset of the UTC clock from the device clock, in milliseconds: learnt from
// $time_sync or set with set_time_offset(). Used by every default time.
static int64_t clock_offset_ms;

typedef struct _huaweicloud_obj_t {
    mp_obj_base_t base;
    mp_obj_t device_id; // str
    mp_obj_t secret;    // str or bytes; never printed
    mp_obj_t server;    // str
    mp_obj_t ssl_params;
    mp_obj_t mqtt;      // umqtt.MQTTClient, or None before setMqtt()
    mp_obj_t raw_cb, error_cb, message_cb, command_cb, property_set_cb, property_get_cb;
    mp_obj_t shadow_cb, event_cb, time_sync_cb;
    mp_obj_t sw_version, fw_version; // last reported, for version_query
    mp_int_t port;
    uint32_t request_seq;
    volatile uint32_t generation; // of the receive thread
    volatile bool running;
    uint16_t keepalive;
    uint8_t sign_type;
    bool ssl, clean_session, reconn;
} huaweicloud_obj_t;

/******************************************************************************/
// Helpers.

static const char *text_data(mp_obj_t obj, const char *what, size_t *len) {
    if (!mp_obj_is_str_or_bytes(obj)) {
        mp_raise_msg_varg(&mp_type_TypeError, MP_ERROR_TEXT("%s must be str or bytes"), what);
    }
    return mp_obj_str_get_data(obj, len);
}

static mp_obj_t to_str(mp_obj_t obj, const char *what) {
    size_t len;
    const char *s = text_data(obj, what, &len);
    return mp_obj_is_str(obj) ? obj : mp_obj_new_str(s, len);
}

static NORETURN void raise_status(int32_t st) {
    mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%s"), iotda_status_message(st));
}

static bool str_equals(mp_obj_t obj, const char *lit) {
    if (obj == MP_OBJ_NULL || !mp_obj_is_str_or_bytes(obj)) {
        return false;
    }
    size_t len;
    const char *s = mp_obj_str_get_data(obj, &len);
    return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

static mp_obj_t new_str(const char *s) {
    return mp_obj_new_str(s, strlen(s));
}

// Text the Rust core wrote from validated UTF-8 (ids, topics, hex, stamps):
// no second UTF-8 check and no interned-string lookup.
static mp_obj_t new_core_str(const uint8_t *data, size_t len) {
    return mp_obj_new_str_copy(&mp_type_str, data, len);
}

static mp_obj_t import_first(qstr name, qstr fallback) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t m = mp_import_name(name, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
        nlr_pop();
        return m;
    }
    return mp_import_name(fallback, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
}

static mp_obj_t call_method(mp_obj_t obj, qstr name, size_t n_args, const mp_obj_t *args) {
    mp_obj_t dest[2 + 4];
    mp_load_method(obj, name, dest);
    for (size_t i = 0; i < n_args; i++) {
        dest[2 + i] = args[i];
    }
    return mp_call_method_n_kw(n_args, 0, dest);
}

static bool is_instance_of(mp_obj_t obj, const mp_obj_type_t *type) {
    return mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(obj)), MP_OBJ_FROM_PTR(type));
}

static bool is_fatal(mp_obj_t exc) {
    return is_instance_of(exc, &mp_type_KeyboardInterrupt) || is_instance_of(exc, &mp_type_SystemExit);
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

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// The device's own clock as Unix milliseconds (1970 epoch whatever the
// port's epoch), without the learnt offset.
static int64_t device_clock_ms(void) {
    mp_obj_t time_mod = import_first(MP_QSTR_time, MP_QSTR_utime);
    mp_obj_t dest[2];
    mp_load_method_maybe(time_mod, MP_QSTR_time_ns, dest);
    int64_t ms;
    if (dest[0] != MP_OBJ_NULL) {
        ms = floor_div(get_i64(mp_call_method_n_kw(0, 0, dest), "time_ns()"), 1000000);
    } else {
        mp_obj_t t = mp_call_function_0(mp_load_attr(time_mod, MP_QSTR_time));
        #if MICROPY_PY_BUILTINS_FLOAT
        if (mp_obj_is_float(t)) {
            ms = (int64_t)(mp_obj_get_float(t) * 1000);
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

static int64_t utc_now_ms(void) {
    return device_clock_ms() + clock_offset_ms;
}

static int64_t time_arg_or_now(mp_obj_t t) {
    return t == mp_const_none ? floor_div(utc_now_ms(), 1000) : get_seconds(t);
}

static mp_obj_t event_time_str(int64_t unix_s) {
    uint8_t out[IOTDA_EVENT_TIME_LEN];
    int32_t st = iotda_event_time(unix_s, out);
    if (st != IOTDA_OK) {
        raise_status(st);
    }
    return new_core_str(out, sizeof(out));
}

// Topic of `kind` for device_id; param may be MP_OBJ_NULL / None.
static mp_obj_t build_topic(mp_obj_t device_id, uint8_t kind, mp_obj_t param) {
    size_t id_len, param_len = 0;
    const char *id = text_data(device_id, "device_id", &id_len);
    const char *p = NULL;
    if (param != MP_OBJ_NULL && param != mp_const_none) {
        p = text_data(param, "request_id", &param_len);
    }
    uint8_t buf[IOTDA_MAX_TOPIC_LEN];
    size_t len;
    int32_t st = iotda_topic((const uint8_t *)id, id_len, kind, (const uint8_t *)p, param_len, buf, sizeof(buf), &len);
    if (st != IOTDA_OK) {
        raise_status(st);
    }
    return new_core_str(buf, len);
}

static void check_device_id(mp_obj_t device_id) {
    build_topic(device_id, IOTDA_KIND_MESSAGES_UP, MP_OBJ_NULL);
}

static mp_obj_t json_module(void) {
    return import_first(MP_QSTR_json, MP_QSTR_ujson);
}

static mp_obj_t json_dumps(mp_obj_t obj) {
    return mp_call_function_1(mp_load_attr(json_module(), MP_QSTR_dumps), obj);
}

// json.loads(payload), or MP_OBJ_NULL when it is not JSON.
static mp_obj_t json_loads_or_null(mp_obj_t payload) {
    mp_obj_t loads = mp_load_attr(json_module(), MP_QSTR_loads);
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t r = mp_call_function_1(loads, payload);
        nlr_pop();
        return r;
    }
    if (is_fatal(MP_OBJ_FROM_PTR(nlr.ret_val))) {
        nlr_jump(nlr.ret_val);
    }
    return MP_OBJ_NULL;
}

static mp_obj_t dict_get(mp_obj_t dict, qstr key) {
    if (dict == MP_OBJ_NULL || !mp_obj_is_type(dict, &mp_type_dict)) {
        return MP_OBJ_NULL;
    }
    mp_map_elem_t *e = mp_map_lookup(mp_obj_dict_get_map(dict), MP_OBJ_NEW_QSTR(key), MP_MAP_LOOKUP);
    return e ? e->value : MP_OBJ_NULL;
}

static void dict_put(mp_obj_t dict, qstr key, mp_obj_t value) {
    mp_obj_dict_store(dict, MP_OBJ_NEW_QSTR(key), value);
}

static void dict_put_opt(mp_obj_t dict, qstr key, mp_obj_t value) {
    if (value != mp_const_none && value != MP_OBJ_NULL) {
        dict_put(dict, key, value);
    }
}

static mp_obj_t check_callable(mp_obj_t f) {
    if (f != mp_const_none && !mp_obj_is_callable(f)) {
        mp_raise_TypeError(MP_ERROR_TEXT("callback must be callable or None"));
    }
    return f;
}

static mp_int_t check_qos(mp_int_t qos) {
    if (qos != 0 && qos != 1) {
        mp_raise_ValueError(MP_ERROR_TEXT("qos must be 0 or 1 (IoTDA has no QoS 2)"));
    }
    return qos;
}

/******************************************************************************/
// Module-level functions.

static mp_obj_t conninfo_tuple(mp_obj_t device_id, mp_obj_t secret, int64_t unix_s, bool check_timestamp) {
    size_t id_len, secret_len;
    const char *id = text_data(device_id, "device_id", &id_len);
    const char *sec = text_data(secret, "secret", &secret_len);
    uint8_t client_id[IOTDA_MAX_CLIENT_ID_LEN];
    uint8_t password[IOTDA_PASSWORD_LEN];
    size_t client_id_len;
    int32_t st = iotda_credentials((const uint8_t *)id, id_len, (const uint8_t *)sec, secret_len, unix_s,
        check_timestamp ? IOTDA_SIGN_TIMESTAMP_CHECK : IOTDA_SIGN_NO_TIMESTAMP_CHECK,
        client_id, sizeof(client_id), &client_id_len, password);
    if (st != IOTDA_OK) {
        raise_status(st);
    }
    mp_obj_t items[3] = {
        new_core_str(client_id, client_id_len),
        // validated by the core: a str device id is returned as it is
        mp_obj_is_str(device_id) ? device_id : new_core_str((const uint8_t *)id, id_len),
        new_core_str(password, sizeof(password)),
    };
    memset(password, 0, sizeof(password));
    return mp_obj_new_tuple(3, items);
}

// conninfo(device_id, secret, time=None, check_timestamp=False)
static mp_obj_t huaweicloud_conninfo(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_device_id, ARG_secret, ARG_time, ARG_check_timestamp };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_device_id, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_secret, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_time, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_check_timestamp, MP_ARG_BOOL, {.u_bool = false} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    return conninfo_tuple(args[ARG_device_id].u_obj, args[ARG_secret].u_obj,
        time_arg_or_now(args[ARG_time].u_obj), args[ARG_check_timestamp].u_bool);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(huaweicloud_conninfo_obj, 2, huaweicloud_conninfo);

// topic(kind, device_id, request_id=None): request_id is the name for USER.
static mp_obj_t huaweicloud_topic(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_kind, ARG_device_id, ARG_request_id };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_kind, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_device_id, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_request_id, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    mp_int_t kind = args[ARG_kind].u_int;
    if (kind <= IOTDA_KIND_NOT_OURS || kind > 255) {
        raise_status(IOTDA_ERR_UNKNOWN_KIND);
    }
    mp_obj_t rid = args[ARG_request_id].u_obj;
    if (rid == mp_const_none) {
        return build_topic(args[ARG_device_id].u_obj, kind, MP_OBJ_NULL);
    }
    mp_obj_t with = build_topic(args[ARG_device_id].u_obj, kind, rid);
    // a kind without a parameter ignores it in Rust; say so instead
    size_t id_len, len;
    const char *id = mp_obj_str_get_data(to_str(args[ARG_device_id].u_obj, "device_id"), &id_len);
    uint8_t buf[IOTDA_MAX_TOPIC_LEN];
    if (iotda_topic((const uint8_t *)id, id_len, kind, NULL, 0, buf, sizeof(buf), &len) == IOTDA_OK) {
        mp_raise_ValueError(MP_ERROR_TEXT("this topic kind takes no request_id"));
    }
    return with;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(huaweicloud_topic_obj, 2, huaweicloud_topic);

// (kind, param) of topic for device_id, or MP_OBJ_NULL when not ours.
static mp_obj_t classify(mp_obj_t device_id, mp_obj_t topic, uint8_t *kind_out) {
    size_t id_len, topic_len;
    const char *id = text_data(device_id, "device_id", &id_len);
    const char *t = text_data(topic, "topic", &topic_len);
    uint8_t kind;
    size_t off, len;
    int32_t st = iotda_classify((const uint8_t *)id, id_len, (const uint8_t *)t, topic_len, &kind, &off, &len);
    if (st != IOTDA_OK) {
        raise_status(st);
    }
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

/******************************************************************************/
// The client: reporting to the script.

static void callback_failed(mp_obj_t exc) {
    if (is_fatal(exc)) {
        nlr_raise(exc);
    }
    mp_printf(&mp_plat_print, "huaweicloud: callback raised: ");
    mp_obj_print_exception(&mp_plat_print, exc);
}

// Sends msg to the error callback (never raises, except KeyboardInterrupt).
static void report(huaweicloud_obj_t *self, mp_obj_t msg) {
    if (self->error_cb == mp_const_none) {
        return;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_call_function_1(self->error_cb, msg);
        nlr_pop();
    } else {
        callback_failed(MP_OBJ_FROM_PTR(nlr.ret_val));
    }
}

static void report_text(huaweicloud_obj_t *self, const char *msg) {
    report(self, new_str(msg));
}

// "huaweicloud: <what>: <ExceptionType>: <message>"
static void report_exception(huaweicloud_obj_t *self, const char *what, mp_obj_t exc) {
    vstr_t vstr;
    mp_print_t print;
    vstr_init_print(&vstr, 64, &print);
    mp_printf(&print, "huaweicloud: %s: ", what);
    mp_obj_print_helper(&print, exc, PRINT_EXC);
    report(self, mp_obj_new_str_from_vstr(&vstr));
}

// Calls f(args...) and returns its result; an exception goes to the error
// callback and MP_OBJ_NULL is returned.
static mp_obj_t call_user(huaweicloud_obj_t *self, const char *what, mp_obj_t f, size_t n, const mp_obj_t *args) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t r = mp_call_function_n_kw(f, n, 0, args);
        nlr_pop();
        return r;
    }
    mp_obj_t exc = MP_OBJ_FROM_PTR(nlr.ret_val);
    if (is_fatal(exc)) {
        nlr_jump(nlr.ret_val);
    }
    report_exception(self, what, exc);
    return MP_OBJ_NULL;
}

static void deliver_raw(huaweicloud_obj_t *self, mp_obj_t topic, mp_obj_t msg) {
    if (self->raw_cb != mp_const_none) {
        mp_obj_t args[2] = { topic, msg };
        call_user(self, "callback", self->raw_cb, 2, args);
    }
}

/******************************************************************************/
// The client: uplinks.

static mp_obj_t mqtt_of(huaweicloud_obj_t *self) {
    if (self->mqtt == mp_const_none) {
        mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("not started: call setMqtt() and start()"));
    }
    return self->mqtt;
}

// Calls a method of the MQTT client on behalf of the script.
static mp_obj_t mqtt_call(huaweicloud_obj_t *self, qstr name, size_t n_args, const mp_obj_t *args) {
    return call_method(mqtt_of(self), name, n_args, args);
}

static mp_obj_t mqtt_publish(huaweicloud_obj_t *self, mp_obj_t topic, mp_obj_t payload, mp_int_t qos) {
    mp_obj_t args[4] = { topic, payload, mp_const_false, MP_OBJ_NEW_SMALL_INT(qos) };
    return mqtt_call(self, MP_QSTR_publish, 4, args);
}

static mp_obj_t publish_json(huaweicloud_obj_t *self, uint8_t kind, mp_obj_t request_id, mp_obj_t obj, mp_int_t qos) {
    mp_obj_t topic = build_topic(self->device_id, kind, request_id);
    return mqtt_publish(self, topic, json_dumps(obj), qos);
}

// {"services": [...]} from a list of service dicts or {service_id: properties}.
static mp_obj_t services_list(mp_obj_t services) {
    if (mp_obj_is_type(services, &mp_type_dict)) {
        mp_map_t *map = mp_obj_dict_get_map(services);
        mp_obj_t list = mp_obj_new_list(0, NULL);
        for (size_t i = 0; i < map->alloc; i++) {
            if (mp_map_slot_is_filled(map, i)) {
                mp_obj_t svc = mp_obj_new_dict(2);
                dict_put(svc, MP_QSTR_service_id, to_str(map->table[i].key, "service_id"));
                dict_put(svc, MP_QSTR_properties, map->table[i].value);
                mp_obj_list_append(list, svc);
            }
        }
        return list;
    }
    if (!mp_obj_is_type(services, &mp_type_list) && !mp_obj_is_type(services, &mp_type_tuple)) {
        mp_raise_TypeError(MP_ERROR_TEXT("services must be a list of dicts or a dict {service_id: properties}"));
    }
    size_t n;
    mp_obj_t *items;
    mp_obj_get_array(services, &n, &items);
    for (size_t i = 0; i < n; i++) {
        if (dict_get(items[i], MP_QSTR_service_id) == MP_OBJ_NULL) {
            mp_raise_ValueError(MP_ERROR_TEXT("each service must be a dict with a \"service_id\""));
        }
    }
    return mp_obj_new_list(n, items);
}

static mp_obj_t services_payload(mp_obj_t services) {
    mp_obj_t d = mp_obj_new_dict(1);
    dict_put(d, MP_QSTR_services, services_list(services));
    return d;
}

// {"object_device_id": id, "services": [{service_id, event_type, event_time?, paras}]}
static mp_obj_t event_payload(huaweicloud_obj_t *self, mp_obj_t service_id, mp_obj_t event_type, mp_obj_t paras,
    mp_obj_t event_time) {
    mp_obj_t svc = mp_obj_new_dict(4);
    dict_put(svc, MP_QSTR_service_id, to_str(service_id, "service_id"));
    dict_put(svc, MP_QSTR_event_type, to_str(event_type, "event_type"));
    if (event_time != mp_const_none) {
        dict_put(svc, MP_QSTR_event_time,
            mp_obj_is_str(event_time) ? event_time : event_time_str(get_seconds(event_time)));
    }
    dict_put(svc, MP_QSTR_paras, paras == mp_const_none ? mp_obj_new_dict(0) : paras);
    mp_obj_t d = mp_obj_new_dict(2);
    dict_put(d, MP_QSTR_object_device_id, self->device_id);
    dict_put(d, MP_QSTR_services, mp_obj_new_list(1, &svc));
    return d;
}

static mp_obj_t publish_event(huaweicloud_obj_t *self, const char *service_id, const char *event_type, mp_obj_t paras) {
    mp_obj_t payload = event_payload(self, new_str(service_id), new_str(event_type), paras, mp_const_none);
    return publish_json(self, IOTDA_KIND_EVENTS_UP, MP_OBJ_NULL, payload, 1);
}

static mp_obj_t version_paras(mp_obj_t sw, mp_obj_t fw) {
    mp_obj_t paras = mp_obj_new_dict(2);
    dict_put_opt(paras, MP_QSTR_sw_version, sw);
    dict_put_opt(paras, MP_QSTR_fw_version, fw);
    return paras;
}

static void respond_command(huaweicloud_obj_t *self, mp_obj_t request_id, mp_obj_t response) {
    if (dict_get(response, MP_QSTR_result_code) == MP_OBJ_NULL) {
        dict_put(response, MP_QSTR_result_code, MP_OBJ_NEW_SMALL_INT(0));
    }
    publish_json(self, IOTDA_KIND_COMMAND_RESPONSE, request_id, response, 1);
}

static void respond_command_failed(huaweicloud_obj_t *self, mp_obj_t request_id, const char *reason) {
    mp_obj_t r = mp_obj_new_dict(2);
    dict_put(r, MP_QSTR_result_code, MP_OBJ_NEW_SMALL_INT(1));
    dict_put(r, MP_QSTR_response_name, new_str(reason));
    respond_command(self, request_id, r);
}

static void respond_property_set(huaweicloud_obj_t *self, mp_obj_t request_id, mp_int_t code, const char *desc) {
    mp_obj_t r = mp_obj_new_dict(2);
    dict_put(r, MP_QSTR_result_code, MP_OBJ_NEW_SMALL_INT(code));
    dict_put(r, MP_QSTR_result_desc, new_str(desc));
    publish_json(self, IOTDA_KIND_PROPERTIES_SET_RESPONSE, request_id, r, 1);
}

static void respond_property_get(huaweicloud_obj_t *self, mp_obj_t request_id, mp_obj_t services) {
    mp_obj_t r = mp_obj_new_dict(1);
    dict_put(r, MP_QSTR_services, services);
    publish_json(self, IOTDA_KIND_PROPERTIES_GET_RESPONSE, request_id, r, 1);
}

/******************************************************************************/
// The client: downlinks.

static void on_messages_down(huaweicloud_obj_t *self, mp_obj_t topic, mp_obj_t msg) {
    if (self->message_cb == mp_const_none) {
        deliver_raw(self, topic, msg);
        return;
    }
    mp_obj_t obj = json_loads_or_null(msg);
    mp_obj_t arg = (obj != MP_OBJ_NULL && mp_obj_is_type(obj, &mp_type_dict)) ? obj : msg;
    call_user(self, "message callback", self->message_cb, 1, &arg);
}

// The parsed request, or MP_OBJ_NULL (reported) when it is not a JSON object.
static mp_obj_t request_of(huaweicloud_obj_t *self, const char *what, mp_obj_t msg) {
    mp_obj_t obj = json_loads_or_null(msg);
    if (obj == MP_OBJ_NULL || !mp_obj_is_type(obj, &mp_type_dict)) {
        vstr_t vstr;
        mp_print_t print;
        vstr_init_print(&vstr, 48, &print);
        mp_printf(&print, "huaweicloud: malformed %s (not a JSON object)", what);
        report(self, mp_obj_new_str_from_vstr(&vstr));
        return MP_OBJ_NULL;
    }
    return obj;
}

static void on_command(huaweicloud_obj_t *self, mp_obj_t rid, mp_obj_t msg) {
    mp_obj_t req = request_of(self, "command", msg);
    if (req == MP_OBJ_NULL) {
        respond_command_failed(self, rid, REASON_MALFORMED);
        return;
    }
    if (self->command_cb == mp_const_none) {
        respond_command_failed(self, rid, REASON_NO_HANDLER);
        return;
    }
    mp_obj_t args[2] = { rid, req };
    mp_obj_t r = call_user(self, "command callback", self->command_cb, 2, args);
    if (r == MP_OBJ_NULL) {
        respond_command_failed(self, rid, REASON_HANDLER_ERROR);
    } else if (r == mp_const_none) {
        // the application answers with respond_command()
    } else if (mp_obj_is_type(r, &mp_type_dict)) {
        respond_command(self, rid, r);
    } else if (mp_obj_is_int(r)) {
        mp_obj_t d = mp_obj_new_dict(1);
        dict_put(d, MP_QSTR_result_code, r);
        respond_command(self, rid, d);
    } else {
        report_text(self, "huaweicloud: command callback must return a dict, an int or None");
        respond_command_failed(self, rid, REASON_HANDLER_ERROR);
    }
}

static void on_property_set(huaweicloud_obj_t *self, mp_obj_t rid, mp_obj_t msg) {
    mp_obj_t req = request_of(self, "property set request", msg);
    if (req == MP_OBJ_NULL) {
        respond_property_set(self, rid, 1, REASON_MALFORMED);
        return;
    }
    if (self->property_set_cb == mp_const_none) {
        respond_property_set(self, rid, 1, REASON_NO_HANDLER);
        return;
    }
    mp_obj_t args[2] = { rid, req };
    mp_obj_t r = call_user(self, "property set callback", self->property_set_cb, 2, args);
    if (r == MP_OBJ_NULL) {
        respond_property_set(self, rid, 1, REASON_HANDLER_ERROR);
    } else if (r == mp_const_none) {
        respond_property_set(self, rid, 0, "success");
    } else if (mp_obj_is_small_int(r)) {
        mp_int_t code = MP_OBJ_SMALL_INT_VALUE(r);
        respond_property_set(self, rid, code, code == 0 ? "success" : "failure");
    } else if (mp_obj_is_type(r, &mp_type_dict)) {
        if (dict_get(r, MP_QSTR_result_code) == MP_OBJ_NULL) {
            dict_put(r, MP_QSTR_result_code, MP_OBJ_NEW_SMALL_INT(0));
        }
        publish_json(self, IOTDA_KIND_PROPERTIES_SET_RESPONSE, rid, r, 1);
    } else {
        report_text(self, "huaweicloud: property set callback must return an int, a dict or None");
        respond_property_set(self, rid, 1, REASON_HANDLER_ERROR);
    }
}

static void on_property_get(huaweicloud_obj_t *self, mp_obj_t rid, mp_obj_t msg) {
    mp_obj_t empty = mp_obj_new_list(0, NULL);
    mp_obj_t req = request_of(self, "property get request", msg);
    if (req == MP_OBJ_NULL || self->property_get_cb == mp_const_none) {
        respond_property_get(self, rid, empty);
        return;
    }
    mp_obj_t args[2] = { rid, req };
    mp_obj_t r = call_user(self, "property get callback", self->property_get_cb, 2, args);
    mp_obj_t services = empty;
    if (r != MP_OBJ_NULL && r != mp_const_none) {
        mp_obj_t inner = dict_get(r, MP_QSTR_services);
        nlr_buf_t nlr;
        if (nlr_push(&nlr) == 0) {
            services = services_list(inner != MP_OBJ_NULL ? inner : r);
            nlr_pop();
        } else {
            if (is_fatal(MP_OBJ_FROM_PTR(nlr.ret_val))) {
                nlr_jump(nlr.ret_val);
            }
            report_exception(self, "property get callback result", MP_OBJ_FROM_PTR(nlr.ret_val));
        }
    }
    respond_property_get(self, rid, services);
}

static void on_shadow(huaweicloud_obj_t *self, mp_obj_t topic, mp_obj_t rid, mp_obj_t msg) {
    if (self->shadow_cb == mp_const_none) {
        deliver_raw(self, topic, msg);
        return;
    }
    mp_obj_t resp = request_of(self, "shadow response", msg);
    if (resp != MP_OBJ_NULL) {
        mp_obj_t args[2] = { rid, resp };
        call_user(self, "shadow callback", self->shadow_cb, 2, args);
    }
}

static void on_time_sync(huaweicloud_obj_t *self, mp_obj_t paras) {
    int64_t device_recv = device_clock_ms();
    mp_obj_t ds = dict_get(paras, MP_QSTR_device_send_time);
    mp_obj_t sr = dict_get(paras, MP_QSTR_server_recv_time);
    mp_obj_t ss = dict_get(paras, MP_QSTR_server_send_time);
    if (ds == MP_OBJ_NULL || sr == MP_OBJ_NULL || ss == MP_OBJ_NULL
        || !mp_obj_is_int(ds) || !mp_obj_is_int(sr) || !mp_obj_is_int(ss)) {
        report_text(self, "huaweicloud: malformed time_sync_response");
        return;
    }
    int64_t utc = iotda_time_sync_ms(get_i64(ds, "device_send_time"), get_i64(sr, "server_recv_time"),
        get_i64(ss, "server_send_time"), device_recv);
    clock_offset_ms = utc - device_recv;
    if (self->time_sync_cb != mp_const_none) {
        mp_obj_t arg = mp_obj_new_int_from_ll(utc);
        call_user(self, "time sync callback", self->time_sync_cb, 1, &arg);
    }
}

static void on_events(huaweicloud_obj_t *self, mp_obj_t topic, mp_obj_t msg) {
    mp_obj_t obj = request_of(self, "event", msg);
    mp_obj_t services = dict_get(obj, MP_QSTR_services);
    if (obj == MP_OBJ_NULL) {
        return;
    }
    if (services == MP_OBJ_NULL || !mp_obj_is_type(services, &mp_type_list)) {
        report_text(self, "huaweicloud: malformed event (no \"services\" list)");
        return;
    }
    bool unhandled = false;
    size_t n;
    mp_obj_t *items;
    mp_obj_list_get(services, &n, &items);
    for (size_t i = 0; i < n; i++) {
        mp_obj_t sid = dict_get(items[i], MP_QSTR_service_id);
        mp_obj_t type = dict_get(items[i], MP_QSTR_event_type);
        mp_obj_t paras = dict_get(items[i], MP_QSTR_paras);
        if (sid == MP_OBJ_NULL || type == MP_OBJ_NULL) {
            report_text(self, "huaweicloud: malformed event (no service_id / event_type)");
            continue;
        }
        if (paras == MP_OBJ_NULL) {
            paras = mp_obj_new_dict(0);
        }
        if (str_equals(sid, "$time_sync") && str_equals(type, "time_sync_response")) {
            on_time_sync(self, paras);
        } else if (self->event_cb != mp_const_none) {
            mp_obj_t args[3] = { sid, type, paras };
            call_user(self, "event callback", self->event_cb, 3, args);
        } else if (str_equals(sid, "$ota") && str_equals(type, "version_query")
                   && (self->sw_version != mp_const_none || self->fw_version != mp_const_none)) {
            publish_event(self, "$ota", "version_report", version_paras(self->sw_version, self->fw_version));
        } else {
            unhandled = true;
        }
    }
    if (unhandled) {
        deliver_raw(self, topic, msg);
    }
}

static void dispatch(huaweicloud_obj_t *self, mp_obj_t topic, mp_obj_t msg) {
    uint8_t kind;
    mp_obj_t param = classify(self->device_id, topic, &kind);
    switch (kind) {
        case IOTDA_KIND_MESSAGES_DOWN:
            on_messages_down(self, topic, msg);
            break;
        case IOTDA_KIND_COMMAND:
            on_command(self, param, msg);
            break;
        case IOTDA_KIND_PROPERTIES_SET:
            on_property_set(self, param, msg);
            break;
        case IOTDA_KIND_PROPERTIES_GET:
            on_property_get(self, param, msg);
            break;
        case IOTDA_KIND_SHADOW_GET_RESPONSE:
            on_shadow(self, topic, param, msg);
            break;
        case IOTDA_KIND_EVENTS_DOWN:
            on_events(self, topic, msg);
            break;
        default:
            deliver_raw(self, topic, msg);
            break;
    }
}

// umqtt's callback: nothing escapes to umqtt but KeyboardInterrupt/SystemExit.
static mp_obj_t huaweicloud_on_publish(mp_obj_t self_in, mp_obj_t topic, mp_obj_t msg) {
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(self_in);
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        dispatch(self, topic, msg);
        nlr_pop();
    } else {
        mp_obj_t exc = MP_OBJ_FROM_PTR(nlr.ret_val);
        if (is_fatal(exc)) {
            nlr_jump(nlr.ret_val);
        }
        report_exception(self, "downlink", exc);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(huaweicloud_on_publish_obj, huaweicloud_on_publish);

// umqtt's credentials callback: fresh (client_id, username, password) for
// every CONNECT, from the device clock plus the learnt offset.
static mp_obj_t huaweicloud_credentials(mp_obj_t self_in) {
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return conninfo_tuple(self->device_id, self->secret, floor_div(utc_now_ms(), 1000),
        self->sign_type == IOTDA_SIGN_TIMESTAMP_CHECK);
}
static MP_DEFINE_CONST_FUN_OBJ_1(huaweicloud_credentials_obj, huaweicloud_credentials);

/******************************************************************************/
// The client: background receive.

static bool receive_stopped(huaweicloud_obj_t *self) {
    mp_int_t sta = mp_obj_get_int(call_method(self->mqtt, MP_QSTR_get_mqttsta, 0, NULL));
    return sta == STA_CLOSED || (sta == STA_SERVER_CLOSED && !self->reconn);
}

// Blocks in wait_msg(): umqtt lets the script's threads in while this one
// waits, and a script call waiting for an acknowledgement that this thread
// handled notices it at once.
static mp_obj_t huaweicloud_receive_loop(mp_obj_t self_in, mp_obj_t generation_in) {
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(self_in);
    uint32_t generation = mp_obj_get_int(generation_in);
    while (self->running && self->generation == generation) {
        nlr_buf_t nlr;
        if (nlr_push(&nlr) == 0) {
            call_method(self->mqtt, MP_QSTR_wait_msg, 0, NULL);
            nlr_pop();
            continue;
        }
        mp_obj_t exc = MP_OBJ_FROM_PTR(nlr.ret_val);
        if (!self->running || self->generation != generation || is_fatal(exc)) {
            break;
        }
        report_exception(self, "receive", exc);
        if (receive_stopped(self)) {
            self->running = false;
            report_text(self, "huaweicloud: receive thread stopped: connection closed");
            break;
        }
        mp_hal_delay_ms(RECV_RETRY_MS);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(huaweicloud_receive_loop_obj, huaweicloud_receive_loop);

static bool start_receive_thread(huaweicloud_obj_t *self) {
    self->generation++;
    self->running = true;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t thread = mp_import_name(MP_QSTR__thread, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
        mp_obj_t args[2] = { MP_OBJ_FROM_PTR(self), mp_obj_new_int_from_uint(self->generation) };
        mp_obj_t start_args[2] = { MP_OBJ_FROM_PTR(&huaweicloud_receive_loop_obj), mp_obj_new_tuple(2, args) };
        mp_call_function_n_kw(mp_load_attr(thread, MP_QSTR_start_new_thread), 2, 0, start_args);
        nlr_pop();
        return true;
    }
    // no _thread: the script calls check_msg()/wait_msg() itself
    self->running = false;
    return false;
}

/******************************************************************************/
// The client: Python API.

static mp_obj_t huaweicloud_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *all_args) {
    enum { ARG_device_id, ARG_secret, ARG_server, ARG_port, ARG_ssl, ARG_ssl_params, ARG_check_timestamp };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_device_id, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_secret, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_server, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_port, MP_ARG_INT, {.u_int = 1883} },
        { MP_QSTR_ssl, MP_ARG_BOOL, {.u_bool = false} },
        { MP_QSTR_ssl_params, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_check_timestamp, MP_ARG_BOOL, {.u_bool = false} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    mp_obj_t device_id = to_str(args[ARG_device_id].u_obj, "device_id");
    check_device_id(device_id);
    size_t len;
    text_data(args[ARG_secret].u_obj, "secret", &len);
    mp_obj_t server = to_str(args[ARG_server].u_obj, "server");
    mp_int_t port = args[ARG_port].u_int;
    if (port <= 0 || port > 65535) {
        mp_raise_ValueError(MP_ERROR_TEXT("port must be 1..65535"));
    }
    mp_obj_t ssl_params = args[ARG_ssl_params].u_obj;
    if (ssl_params == mp_const_none) {
        ssl_params = mp_obj_new_dict(0);
    } else if (!mp_obj_is_type(ssl_params, &mp_type_dict)) {
        mp_raise_TypeError(MP_ERROR_TEXT("ssl_params must be a dict"));
    }

    huaweicloud_obj_t *self = mp_obj_malloc(huaweicloud_obj_t, type);
    self->device_id = device_id;
    self->secret = args[ARG_secret].u_obj;
    self->server = server;
    self->port = port;
    self->ssl = args[ARG_ssl].u_bool;
    self->ssl_params = ssl_params;
    self->sign_type = args[ARG_check_timestamp].u_bool ? IOTDA_SIGN_TIMESTAMP_CHECK : IOTDA_SIGN_NO_TIMESTAMP_CHECK;
    self->mqtt = mp_const_none;
    self->raw_cb = self->error_cb = self->message_cb = self->command_cb = mp_const_none;
    self->property_set_cb = self->property_get_cb = self->shadow_cb = mp_const_none;
    self->event_cb = self->time_sync_cb = mp_const_none;
    self->sw_version = self->fw_version = mp_const_none;
    self->keepalive = KEEPALIVE_DEFAULT;
    self->clean_session = true;
    self->reconn = true;
    self->request_seq = 0;
    self->generation = 0;
    self->running = false;
    return MP_OBJ_FROM_PTR(self);
}

static void huaweicloud_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    (void)kind;
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(self_in);
    // never the secret or the password
    mp_printf(print, "<HuaweiCloud %s %s:%d>", mp_obj_str_get_str(self->device_id),
        mp_obj_str_get_str(self->server), (int)self->port);
}

// _mqtt: the underlying umqtt.MQTTClient (read-only), for tests and tools.
static void huaweicloud_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] == MP_OBJ_NULL && attr == MP_QSTR__mqtt) {
        dest[0] = self->mqtt;
        return;
    }
    dest[1] = MP_OBJ_SENTINEL; // continue in locals_dict
}

// setMqtt(clean_session=True, keepAlive=120, reconn=True) -> 0
static mp_obj_t huaweicloud_set_mqtt(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_clean_session, ARG_keepAlive, ARG_reconn };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_clean_session, MP_ARG_BOOL, {.u_bool = true} },
        { MP_QSTR_keepAlive, MP_ARG_INT, {.u_int = KEEPALIVE_DEFAULT} },
        { MP_QSTR_reconn, MP_ARG_BOOL, {.u_bool = true} },
    };
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    if (self->running) {
        mp_raise_ValueError(MP_ERROR_TEXT("already started: disconnect() first"));
    }
    mp_int_t keepalive = args[ARG_keepAlive].u_int;
    // IoTDA refuses keepalives outside 30..1200 s (CONNACK 2): clamp instead
    keepalive = keepalive < KEEPALIVE_MIN ? KEEPALIVE_MIN : keepalive > KEEPALIVE_MAX ? KEEPALIVE_MAX : keepalive;
    self->keepalive = keepalive;
    self->clean_session = args[ARG_clean_session].u_bool;
    self->reconn = args[ARG_reconn].u_bool;

    mp_obj_t umqtt = mp_import_name(MP_QSTR_umqtt, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
    // credentials are supplied by the credentials callback before every CONNECT
    mp_obj_t ctor_args[2 + 2 * 5] = {
        self->device_id, self->server,
        MP_OBJ_NEW_QSTR(MP_QSTR_port), MP_OBJ_NEW_SMALL_INT(self->port),
        MP_OBJ_NEW_QSTR(MP_QSTR_keepalive), MP_OBJ_NEW_SMALL_INT(keepalive),
        MP_OBJ_NEW_QSTR(MP_QSTR_ssl), mp_obj_new_bool(self->ssl),
        MP_OBJ_NEW_QSTR(MP_QSTR_ssl_params), self->ssl_params,
        MP_OBJ_NEW_QSTR(MP_QSTR_reconn), mp_obj_new_bool(self->reconn),
    };
    mp_obj_t mqtt = mp_call_function_n_kw(mp_load_attr(umqtt, MP_QSTR_MQTTClient), 2, 5, ctor_args);
    mp_obj_t cb = mp_obj_new_bound_meth(MP_OBJ_FROM_PTR(&huaweicloud_on_publish_obj), MP_OBJ_FROM_PTR(self));
    call_method(mqtt, MP_QSTR_set_callback, 1, &cb);
    mp_obj_t creds = mp_obj_new_bound_meth(MP_OBJ_FROM_PTR(&huaweicloud_credentials_obj), MP_OBJ_FROM_PTR(self));
    call_method(mqtt, MP_QSTR_set_credentials_cb, 1, &creds);
    call_method(mqtt, MP_QSTR_error_register_cb, 1, &self->error_cb);
    self->mqtt = mqtt;
    return MP_OBJ_NEW_SMALL_INT(0);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(huaweicloud_set_mqtt_obj, 1, huaweicloud_set_mqtt);

#define DEFINE_SETTER(name, field) \
    static mp_obj_t huaweicloud_##name(mp_obj_t self_in, mp_obj_t f) { \
        huaweicloud_obj_t *self = MP_OBJ_TO_PTR(self_in); \
        self->field = check_callable(f); \
        return mp_const_none; \
    } \
    static MP_DEFINE_CONST_FUN_OBJ_2(huaweicloud_##name##_obj, huaweicloud_##name)

DEFINE_SETTER(set_callback, raw_cb);
DEFINE_SETTER(set_message_callback, message_cb);
DEFINE_SETTER(set_command_callback, command_cb);
DEFINE_SETTER(set_property_set_callback, property_set_cb);
DEFINE_SETTER(set_property_get_callback, property_get_cb);
DEFINE_SETTER(set_shadow_callback, shadow_cb);
DEFINE_SETTER(set_event_callback, event_cb);
DEFINE_SETTER(set_time_sync_callback, time_sync_cb);

static mp_obj_t huaweicloud_error_register_cb(mp_obj_t self_in, mp_obj_t f) {
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(self_in);
    self->error_cb = check_callable(f);
    if (self->mqtt != mp_const_none) {
        call_method(self->mqtt, MP_QSTR_error_register_cb, 1, &f);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(huaweicloud_error_register_cb_obj, huaweicloud_error_register_cb);

// start(background=True): connect with fresh credentials, subscribe the
// system topics at QoS 1, start the receive thread.
static mp_obj_t huaweicloud_start(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_background };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_background, MP_ARG_BOOL, {.u_bool = true} },
    };
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    if (self->running) {
        mp_raise_ValueError(MP_ERROR_TEXT("already started"));
    }
    if (self->mqtt == mp_const_none) {
        huaweicloud_set_mqtt(1, pos_args, (mp_map_t *)&mp_const_empty_map);
    }
    mp_obj_t clean = mp_obj_new_bool(self->clean_session);
    mqtt_call(self, MP_QSTR_connect, 1, &clean);
    for (uint8_t which = IOTDA_SUB_MESSAGES_DOWN; which <= IOTDA_DEVICE_SUBSCRIPTIONS; which++) {
        size_t id_len, len;
        const char *id = mp_obj_str_get_data(self->device_id, &id_len);
        uint8_t buf[IOTDA_MAX_TOPIC_LEN];
        int32_t st = iotda_subscription((const uint8_t *)id, id_len, which, buf, sizeof(buf), &len);
        if (st != IOTDA_OK) {
            raise_status(st);
        }
        mp_obj_t sub[2] = { mp_obj_new_str((const char *)buf, len), MP_OBJ_NEW_SMALL_INT(1) };
        mqtt_call(self, MP_QSTR_subscribe, 2, sub);
    }
    if (args[ARG_background].u_bool) {
        start_receive_thread(self);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(huaweicloud_start_obj, 1, huaweicloud_start);

static mp_obj_t huaweicloud_subscribe(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_topic, ARG_qos };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_topic, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_qos, MP_ARG_INT, {.u_int = 0} },
    };
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    mp_obj_t a[2] = { args[ARG_topic].u_obj, MP_OBJ_NEW_SMALL_INT(check_qos(args[ARG_qos].u_int)) };
    return mqtt_call(self, MP_QSTR_subscribe, 2, a);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(huaweicloud_subscribe_obj, 2, huaweicloud_subscribe);

static mp_obj_t huaweicloud_publish(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_topic, ARG_msg, ARG_qos };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_topic, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_msg, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_qos, MP_ARG_INT, {.u_int = 0} },
    };
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    return mqtt_publish(self, args[ARG_topic].u_obj, args[ARG_msg].u_obj, check_qos(args[ARG_qos].u_int));
}
static MP_DEFINE_CONST_FUN_OBJ_KW(huaweicloud_publish_obj, 3, huaweicloud_publish);

static mp_obj_t huaweicloud_check_msg(mp_obj_t self_in) {
    return mqtt_call(MP_OBJ_TO_PTR(self_in), MP_QSTR_check_msg, 0, NULL);
}
static MP_DEFINE_CONST_FUN_OBJ_1(huaweicloud_check_msg_obj, huaweicloud_check_msg);

static mp_obj_t huaweicloud_wait_msg(mp_obj_t self_in) {
    return mqtt_call(MP_OBJ_TO_PTR(self_in), MP_QSTR_wait_msg, 0, NULL);
}
static MP_DEFINE_CONST_FUN_OBJ_1(huaweicloud_wait_msg_obj, huaweicloud_wait_msg);

static mp_obj_t huaweicloud_ping(mp_obj_t self_in) {
    return mqtt_call(MP_OBJ_TO_PTR(self_in), MP_QSTR_ping, 0, NULL);
}
static MP_DEFINE_CONST_FUN_OBJ_1(huaweicloud_ping_obj, huaweicloud_ping);

static mp_obj_t huaweicloud_disconnect(mp_obj_t self_in) {
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(self_in);
    self->running = false;
    if (self->mqtt != mp_const_none) {
        call_method(self->mqtt, MP_QSTR_disconnect, 0, NULL);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(huaweicloud_disconnect_obj, huaweicloud_disconnect);

static mp_obj_t huaweicloud_close(mp_obj_t self_in) {
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(self_in);
    self->running = false;
    if (self->mqtt != mp_const_none) {
        call_method(self->mqtt, MP_QSTR_close, 0, NULL);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(huaweicloud_close_obj, huaweicloud_close);

static mp_obj_t huaweicloud_get_sta(mp_obj_t self_in) {
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->mqtt == mp_const_none) {
        return MP_OBJ_NEW_SMALL_INT(STA_CLOSED);
    }
    return call_method(self->mqtt, MP_QSTR_get_mqttsta, 0, NULL);
}
static MP_DEFINE_CONST_FUN_OBJ_1(huaweicloud_get_sta_obj, huaweicloud_get_sta);

// report_properties(services, qos=1)
static mp_obj_t huaweicloud_report_properties(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_services, ARG_qos };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_services, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_qos, MP_ARG_INT, {.u_int = 1} },
    };
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    mp_int_t qos = check_qos(args[ARG_qos].u_int);
    return publish_json(self, IOTDA_KIND_PROPERTIES_REPORT, MP_OBJ_NULL, services_payload(args[ARG_services].u_obj), qos);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(huaweicloud_report_properties_obj, 2, huaweicloud_report_properties);

// report_sub_device_properties(devices, qos=1): devices is a list of
// {"device_id", "services"} or a dict {device_id: services}.
static mp_obj_t huaweicloud_report_sub_device_properties(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_devices, ARG_qos };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_devices, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_qos, MP_ARG_INT, {.u_int = 1} },
    };
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    mp_int_t qos = check_qos(args[ARG_qos].u_int);
    mp_obj_t devices = args[ARG_devices].u_obj;
    mp_obj_t list = mp_obj_new_list(0, NULL);
    if (mp_obj_is_type(devices, &mp_type_dict)) {
        mp_map_t *map = mp_obj_dict_get_map(devices);
        for (size_t i = 0; i < map->alloc; i++) {
            if (mp_map_slot_is_filled(map, i)) {
                mp_obj_t child = to_str(map->table[i].key, "device_id");
                check_device_id(child);
                mp_obj_t d = mp_obj_new_dict(2);
                dict_put(d, MP_QSTR_device_id, child);
                dict_put(d, MP_QSTR_services, services_list(map->table[i].value));
                mp_obj_list_append(list, d);
            }
        }
    } else if (mp_obj_is_type(devices, &mp_type_list) || mp_obj_is_type(devices, &mp_type_tuple)) {
        size_t n;
        mp_obj_t *items;
        mp_obj_get_array(devices, &n, &items);
        for (size_t i = 0; i < n; i++) {
            mp_obj_t child = dict_get(items[i], MP_QSTR_device_id);
            mp_obj_t services = dict_get(items[i], MP_QSTR_services);
            if (child == MP_OBJ_NULL || services == MP_OBJ_NULL) {
                mp_raise_ValueError(MP_ERROR_TEXT("each device must be a dict with \"device_id\" and \"services\""));
            }
            check_device_id(child);
            mp_obj_t d = mp_obj_new_dict(2);
            dict_put(d, MP_QSTR_device_id, child);
            dict_put(d, MP_QSTR_services, services_list(services));
            mp_obj_list_append(list, d);
        }
    } else {
        mp_raise_TypeError(MP_ERROR_TEXT("devices must be a list of dicts or a dict {device_id: services}"));
    }
    mp_obj_t payload = mp_obj_new_dict(1);
    dict_put(payload, MP_QSTR_devices, list);
    return publish_json(self, IOTDA_KIND_GATEWAY_SUB_DEVICES_REPORT, MP_OBJ_NULL, payload, qos);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(huaweicloud_report_sub_device_properties_obj, 2, huaweicloud_report_sub_device_properties);

// send_message(content, name=None, id=None, qos=1): bytes/bytearray are sent
// as they are (raw); anything else is wrapped in the system format.
static mp_obj_t huaweicloud_send_message(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_content, ARG_name, ARG_id, ARG_qos };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_content, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_name, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_id, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_qos, MP_ARG_INT, {.u_int = 1} },
    };
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    mp_int_t qos = check_qos(args[ARG_qos].u_int);
    mp_obj_t content = args[ARG_content].u_obj;
    mp_obj_t topic = build_topic(self->device_id, IOTDA_KIND_MESSAGES_UP, MP_OBJ_NULL);
    if (mp_obj_is_type(content, &mp_type_bytes) || mp_obj_is_type(content, &mp_type_bytearray)) {
        if (args[ARG_name].u_obj != mp_const_none || args[ARG_id].u_obj != mp_const_none) {
            mp_raise_ValueError(MP_ERROR_TEXT("raw (bytes) messages take no name or id"));
        }
        return mqtt_publish(self, topic, content, qos);
    }
    mp_obj_t d = mp_obj_new_dict(4);
    dict_put(d, MP_QSTR_object_device_id, self->device_id);
    dict_put_opt(d, MP_QSTR_name, args[ARG_name].u_obj);
    dict_put_opt(d, MP_QSTR_id, args[ARG_id].u_obj);
    dict_put(d, MP_QSTR_content, content);
    return mqtt_publish(self, topic, json_dumps(d), qos);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(huaweicloud_send_message_obj, 2, huaweicloud_send_message);

// respond_command(request_id, result_code=0, response_name=None, paras=None)
static mp_obj_t huaweicloud_respond_command(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_request_id, ARG_result_code, ARG_response_name, ARG_paras };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_request_id, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_result_code, MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_response_name, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_paras, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    mp_obj_t rid = to_str(args[ARG_request_id].u_obj, "request_id");
    mp_obj_t topic = build_topic(self->device_id, IOTDA_KIND_COMMAND_RESPONSE, rid); // validates rid
    mp_obj_t d = mp_obj_new_dict(3);
    dict_put(d, MP_QSTR_result_code, MP_OBJ_NEW_SMALL_INT(args[ARG_result_code].u_int));
    dict_put_opt(d, MP_QSTR_response_name, args[ARG_response_name].u_obj);
    dict_put_opt(d, MP_QSTR_paras, args[ARG_paras].u_obj);
    return mqtt_publish(self, topic, json_dumps(d), 1);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(huaweicloud_respond_command_obj, 2, huaweicloud_respond_command);

// get_shadow(service_id=None) -> request_id
static mp_obj_t huaweicloud_get_shadow(size_t n_args, const mp_obj_t *args) {
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    mp_obj_t service_id = n_args > 1 ? args[1] : mp_const_none;
    self->request_seq++;
    // MicroPython's own formatter: no libc printf in the firmware
    vstr_t vstr;
    vstr_init(&vstr, 32);
    vstr_printf(&vstr, "shadow-%08x-%u", (unsigned)mp_hal_ticks_ms(), (unsigned)self->request_seq);
    mp_obj_t request_id = mp_obj_new_str_from_vstr(&vstr);
    mp_obj_t d = mp_obj_new_dict(2);
    dict_put(d, MP_QSTR_object_device_id, self->device_id);
    if (service_id != mp_const_none) {
        dict_put(d, MP_QSTR_service_id, to_str(service_id, "service_id"));
    }
    publish_json(self, IOTDA_KIND_SHADOW_GET, request_id, d, 1);
    return request_id;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(huaweicloud_get_shadow_obj, 1, 2, huaweicloud_get_shadow);

// report_event(service_id, event_type, paras, event_time=None, qos=1)
static mp_obj_t huaweicloud_report_event(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_service_id, ARG_event_type, ARG_paras, ARG_event_time, ARG_qos };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_service_id, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_event_type, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_paras, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_event_time, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_qos, MP_ARG_INT, {.u_int = 1} },
    };
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    mp_int_t qos = check_qos(args[ARG_qos].u_int);
    mp_obj_t payload = event_payload(self, args[ARG_service_id].u_obj, args[ARG_event_type].u_obj,
        args[ARG_paras].u_obj, args[ARG_event_time].u_obj);
    return publish_json(self, IOTDA_KIND_EVENTS_UP, MP_OBJ_NULL, payload, qos);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(huaweicloud_report_event_obj, 4, huaweicloud_report_event);

// time_sync(): $time_sync time_sync_request with the device clock in ms.
static mp_obj_t huaweicloud_time_sync(mp_obj_t self_in) {
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_obj_t paras = mp_obj_new_dict(1);
    dict_put(paras, MP_QSTR_device_send_time, mp_obj_new_int_from_ll(device_clock_ms()));
    return publish_event(self, "$time_sync", "time_sync_request", paras);
}
static MP_DEFINE_CONST_FUN_OBJ_1(huaweicloud_time_sync_obj, huaweicloud_time_sync);

// report_version(sw_version=None, fw_version=None)
static mp_obj_t huaweicloud_report_version(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_sw_version, ARG_fw_version };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_sw_version, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_fw_version, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    mp_obj_t sw = args[ARG_sw_version].u_obj, fw = args[ARG_fw_version].u_obj;
    if (sw == mp_const_none && fw == mp_const_none) {
        mp_raise_ValueError(MP_ERROR_TEXT("give sw_version and/or fw_version"));
    }
    sw = sw == mp_const_none ? sw : to_str(sw, "sw_version");
    fw = fw == mp_const_none ? fw : to_str(fw, "fw_version");
    self->sw_version = sw;
    self->fw_version = fw;
    return publish_event(self, "$ota", "version_report", version_paras(sw, fw));
}
static MP_DEFINE_CONST_FUN_OBJ_KW(huaweicloud_report_version_obj, 1, huaweicloud_report_version);

// report_upgrade_progress(result_code, progress, version=None, description=None)
static mp_obj_t huaweicloud_report_upgrade_progress(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_result_code, ARG_progress, ARG_version, ARG_description };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_result_code, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_progress, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_version, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_description, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    huaweicloud_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    mp_int_t progress = args[ARG_progress].u_int;
    if (progress < 0 || progress > 100) {
        mp_raise_ValueError(MP_ERROR_TEXT("progress must be 0..100"));
    }
    mp_obj_t paras = mp_obj_new_dict(4);
    dict_put(paras, MP_QSTR_result_code, MP_OBJ_NEW_SMALL_INT(args[ARG_result_code].u_int));
    dict_put(paras, MP_QSTR_progress, MP_OBJ_NEW_SMALL_INT(progress));
    dict_put_opt(paras, MP_QSTR_version, args[ARG_version].u_obj);
    dict_put_opt(paras, MP_QSTR_description, args[ARG_description].u_obj);
    return publish_event(self, "$ota", "upgrade_progress_report", paras);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(huaweicloud_report_upgrade_progress_obj, 3, huaweicloud_report_upgrade_progress);

static const mp_rom_map_elem_t huaweicloud_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_setMqtt), MP_ROM_PTR(&huaweicloud_set_mqtt_obj) },
    { MP_ROM_QSTR(MP_QSTR_setCallback), MP_ROM_PTR(&huaweicloud_set_callback_obj) },
    { MP_ROM_QSTR(MP_QSTR_error_register_cb), MP_ROM_PTR(&huaweicloud_error_register_cb_obj) },
    { MP_ROM_QSTR(MP_QSTR_start), MP_ROM_PTR(&huaweicloud_start_obj) },
    { MP_ROM_QSTR(MP_QSTR_subscribe), MP_ROM_PTR(&huaweicloud_subscribe_obj) },
    { MP_ROM_QSTR(MP_QSTR_publish), MP_ROM_PTR(&huaweicloud_publish_obj) },
    { MP_ROM_QSTR(MP_QSTR_check_msg), MP_ROM_PTR(&huaweicloud_check_msg_obj) },
    { MP_ROM_QSTR(MP_QSTR_wait_msg), MP_ROM_PTR(&huaweicloud_wait_msg_obj) },
    { MP_ROM_QSTR(MP_QSTR_ping), MP_ROM_PTR(&huaweicloud_ping_obj) },
    { MP_ROM_QSTR(MP_QSTR_disconnect), MP_ROM_PTR(&huaweicloud_disconnect_obj) },
    { MP_ROM_QSTR(MP_QSTR_close), MP_ROM_PTR(&huaweicloud_close_obj) },
    { MP_ROM_QSTR(MP_QSTR_getHuaweiCloudSta), MP_ROM_PTR(&huaweicloud_get_sta_obj) },
    { MP_ROM_QSTR(MP_QSTR_report_properties), MP_ROM_PTR(&huaweicloud_report_properties_obj) },
    { MP_ROM_QSTR(MP_QSTR_report_sub_device_properties), MP_ROM_PTR(&huaweicloud_report_sub_device_properties_obj) },
    { MP_ROM_QSTR(MP_QSTR_send_message), MP_ROM_PTR(&huaweicloud_send_message_obj) },
    { MP_ROM_QSTR(MP_QSTR_set_message_callback), MP_ROM_PTR(&huaweicloud_set_message_callback_obj) },
    { MP_ROM_QSTR(MP_QSTR_set_command_callback), MP_ROM_PTR(&huaweicloud_set_command_callback_obj) },
    { MP_ROM_QSTR(MP_QSTR_respond_command), MP_ROM_PTR(&huaweicloud_respond_command_obj) },
    { MP_ROM_QSTR(MP_QSTR_set_property_set_callback), MP_ROM_PTR(&huaweicloud_set_property_set_callback_obj) },
    { MP_ROM_QSTR(MP_QSTR_set_property_get_callback), MP_ROM_PTR(&huaweicloud_set_property_get_callback_obj) },
    { MP_ROM_QSTR(MP_QSTR_get_shadow), MP_ROM_PTR(&huaweicloud_get_shadow_obj) },
    { MP_ROM_QSTR(MP_QSTR_set_shadow_callback), MP_ROM_PTR(&huaweicloud_set_shadow_callback_obj) },
    { MP_ROM_QSTR(MP_QSTR_report_event), MP_ROM_PTR(&huaweicloud_report_event_obj) },
    { MP_ROM_QSTR(MP_QSTR_set_event_callback), MP_ROM_PTR(&huaweicloud_set_event_callback_obj) },
    { MP_ROM_QSTR(MP_QSTR_time_sync), MP_ROM_PTR(&huaweicloud_time_sync_obj) },
    { MP_ROM_QSTR(MP_QSTR_set_time_sync_callback), MP_ROM_PTR(&huaweicloud_set_time_sync_callback_obj) },
    { MP_ROM_QSTR(MP_QSTR_report_version), MP_ROM_PTR(&huaweicloud_report_version_obj) },
    { MP_ROM_QSTR(MP_QSTR_report_upgrade_progress), MP_ROM_PTR(&huaweicloud_report_upgrade_progress_obj) },
};
static MP_DEFINE_CONST_DICT(huaweicloud_locals_dict, huaweicloud_locals_dict_table);

static MP_DEFINE_CONST_OBJ_TYPE(
    huaweicloud_type,
    MP_QSTR_HuaweiCloud,
    MP_TYPE_FLAG_NONE,
    make_new, huaweicloud_make_new,
    print, huaweicloud_print,
    attr, huaweicloud_attr,
    locals_dict, &huaweicloud_locals_dict
    );

static const mp_rom_map_elem_t huaweicloud_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_huaweicloud) },
    { MP_ROM_QSTR(MP_QSTR_HuaweiCloud), MP_ROM_PTR(&huaweicloud_type) },
    { MP_ROM_QSTR(MP_QSTR_conninfo), MP_ROM_PTR(&huaweicloud_conninfo_obj) },
    { MP_ROM_QSTR(MP_QSTR_topic), MP_ROM_PTR(&huaweicloud_topic_obj) },
    { MP_ROM_QSTR(MP_QSTR_parse_topic), MP_ROM_PTR(&huaweicloud_parse_topic_obj) },
    { MP_ROM_QSTR(MP_QSTR_event_time), MP_ROM_PTR(&huaweicloud_event_time_obj) },
    { MP_ROM_QSTR(MP_QSTR_set_time_offset), MP_ROM_PTR(&huaweicloud_set_time_offset_obj) },
    { MP_ROM_QSTR(MP_QSTR_get_time_offset), MP_ROM_PTR(&huaweicloud_get_time_offset_obj) },
    { MP_ROM_QSTR(MP_QSTR_utc_time), MP_ROM_PTR(&huaweicloud_utc_time_obj) },
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

const mp_obj_module_t huaweicloud_user_cmodule = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&huaweicloud_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_huaweicloud, huaweicloud_user_cmodule);
