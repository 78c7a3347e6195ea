// umqtt: a drop-in for QuecPython's MQTT client whose protocol runs in Rust.
//
// Every MQTT packet is built and parsed by the Rust core behind qpy_rust.h.
// This file converts arguments, moves bytes between the port's socket and the
// core, calls the user's callbacks and raises exceptions once the core has
// returned. Nothing here knows the wire format.

#include <string.h>

#include "py/runtime.h"
#include "py/stream.h"
#include "py/mphal.h"
#include "py/mperrno.h"
#include "py/objstr.h"
#include "py/objexcept.h"
#if MICROPY_PY_THREAD
#include "py/mpthread.h"
#endif

#include "qpy_rust.h"

#define RX_BUF_DEFAULT (512)
#define TX_BUF_DEFAULT (256)
#define CONNECT_TIMEOUT_S (20)
#define ACK_TIMEOUT_MS (5000)
#define SUPERVISOR_PERIOD_MS (200)
#define SHARED_WAIT_SLICE_MS (20)
#define MAX_WAIT_SLICE_MS (200)
#define NO_SLOT (0xff)

// get_mqttsta() values, as in QuecPython.
#define STA_CONNECTED (0)
#define STA_CONNECTING (1)
#define STA_SERVER_CLOSED (2)
#define STA_CLOSED (-1)

// The Rust session lives inside the MicroPython object: its storage must be
// what Rust says it needs.
// (File-scope checks: MP_STATIC_ASSERT is an expression, for function bodies.)
typedef char umqtt_session_size_matches[sizeof(umqtt_session) == UMQTT_SESSION_SIZE ? 1 : -1];
typedef char umqtt_session_align_fits[UMQTT_SESSION_ALIGN <= 8 ? 1 : -1];
typedef char umqtt_reply_fits[UMQTT_REPLY_MAX <= 8 ? 1 : -1];

typedef struct _umqtt_client_obj_t {
    mp_obj_base_t base;
    umqtt_session session;
    // connection parameters, as given (str or bytes)
    mp_obj_t client_id, server, user, password, ssl_params;
    mp_obj_t will_topic, will_msg;
    mp_obj_t callback, error_callback;
    // returns (client_id, user, password) before every CONNECT, or None
    mp_obj_t credentials_callback;
    // topic -> qos, restored after every reconnect (each topic keeps its own QoS)
    mp_obj_t subscriptions;
    // topic and payload of each in-flight QoS 1/2 message, for retransmission
    mp_obj_t inflight[UMQTT_MAX_INFLIGHT][2];
    uint16_t inflight_pid[UMQTT_MAX_INFLIGHT];
    // the stream we read and write (TLS wrapper or TCP socket), and the TCP socket
    mp_obj_t sock, tcp;
    // a stream the script connected us over (connect(sock=...)), else MP_OBJ_NULL
    mp_obj_t given_stream;
    // bound poller.ipoll plus its timeout argument: waits without allocating
    mp_obj_t ipoll[3];
    // receive buffer: bytes [rx_start, rx_end) are received but not yet parsed
    uint8_t *rx;
    size_t rx_cap, rx_start, rx_end;
    uint8_t *tx;
    size_t tx_cap;
    mp_int_t port;
    uint32_t random;
    uint16_t keepalive;
    // packets handled so far, by any thread: a waiter whose packet another
    // thread handled sees it change and re-checks what it waits for
    uint32_t packets_handled;
    // the SUBSCRIBE/UNSUBSCRIBE a script call waits for, and its answer
    uint16_t request_pid;
    uint8_t request_code;
    bool request_answered;
    // bumped at every login: a wait that spans a reconnect starts over
    uint32_t link_generation;
    uint8_t version, pingmaxnum, will_qos;
    bool will_retain, ssl, reconn, clean_session;
    int8_t state;
    // reconnecting: failed attempts so far, and when the next one is due
    uint32_t next_attempt_ms;
    uint8_t attempt;
    bool reconnecting;
    // most QoS 1/2 messages kept while offline (queue_size)
    uint8_t queue_size;
    #if MICROPY_PY_THREAD
    // Serialises the background thread against the script's calls.
    mp_thread_mutex_t lock;
    volatile uint32_t supervisor_generation;
    volatile bool supervisor_running;
    uint8_t calls; // script calls inside the client, waiting ones included
    void *owner;   // thread state of the script thread holding the lock
    uint8_t depth; // its nesting: a callback may call the client again
    #endif
} umqtt_client_obj_t;

static const mp_obj_type_t umqtt_client_type;

/******************************************************************************/
// Locking. Script threads and the background thread share a client; calls
// nest (a callback may publish), and a thread blocked waiting for data lets
// the others in.

#if MICROPY_PY_THREAD
static void enter(umqtt_client_obj_t *self) {
    void *me = mp_thread_get_state();
    if (self->owner == me) {
        self->depth++;
        return;
    }
    mp_thread_mutex_lock(&self->lock, 1);
    self->owner = me;
    self->depth = 1;
    self->calls++;
}

static void leave(umqtt_client_obj_t *self) {
    if (--self->depth == 0) {
        self->owner = NULL;
        self->calls--;
        mp_thread_mutex_unlock(&self->lock);
    }
}

static uint8_t suspend(umqtt_client_obj_t *self) {
    uint8_t depth = self->depth;
    if (depth > 0 && self->owner == mp_thread_get_state()) {
        self->depth = 0;
        self->owner = NULL;
        mp_thread_mutex_unlock(&self->lock);
        return depth;
    }
    return 0;
}

static void resume(umqtt_client_obj_t *self, uint8_t depth) {
    if (depth > 0) {
        mp_thread_mutex_lock(&self->lock, 1);
        self->owner = mp_thread_get_state();
        self->depth = depth;
    }
}
#else
static void enter(umqtt_client_obj_t *self) {
    (void)self;
}

static void leave(umqtt_client_obj_t *self) {
    (void)self;
}

static uint8_t suspend(umqtt_client_obj_t *self) {
    (void)self;
    return 0;
}

static void resume(umqtt_client_obj_t *self, uint8_t depth) {
    (void)self;
    (void)depth;
}
#endif

MP_DEFINE_EXCEPTION(MQTTException, ValueError)

static uint32_t now_ms(void) {
    return (uint32_t)mp_hal_ticks_ms();
}

static umqtt_slice slice_of(mp_obj_t obj) {
    umqtt_slice s = { NULL, 0 };
    if (obj == mp_const_none || obj == MP_OBJ_NULL) {
        return s;
    }
    if (mp_obj_is_str_or_bytes(obj)) {
        s.ptr = (const uint8_t *)mp_obj_str_get_data(obj, &s.len);
    } else {
        mp_buffer_info_t bufinfo;
        mp_get_buffer_raise(obj, &bufinfo, MP_BUFFER_READ);
        s.ptr = bufinfo.buf;
        s.len = bufinfo.len;
    }
    return s;
}

static mp_obj_t check_text(mp_obj_t obj, bool none_ok) {
    if ((none_ok && obj == mp_const_none) || mp_obj_is_str_or_bytes(obj)) {
        return obj;
    }
    mp_raise_TypeError(MP_ERROR_TEXT("expected str or bytes"));
}

static void check_buffer(mp_obj_t obj) {
    mp_buffer_info_t bufinfo;
    if (!mp_obj_is_str_or_bytes(obj) && !mp_get_buffer(obj, &bufinfo, MP_BUFFER_READ)) {
        mp_raise_TypeError(MP_ERROR_TEXT("message must be str, bytes or a buffer"));
    }
}

// Payloads may be any buffer; a mutable one is frozen into bytes so that a
// retransmission sends what was published.
static mp_obj_t check_payload(mp_obj_t obj) {
    if (mp_obj_is_str_or_bytes(obj)) {
        return obj;
    }
    check_buffer(obj);
    umqtt_slice s = slice_of(obj);
    return mp_obj_new_bytes(s.ptr, s.len);
}

static NORETURN void raise_status(int32_t status) {
    if (status == UMQTT_ERR_NOT_CONNECTED) {
        mp_raise_OSError(MP_ENOTCONN);
    }
    mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%s"), umqtt_status_message(status));
}

static NORETURN void raise_mqtt(mp_int_t code, const char *msg) {
    mp_obj_t args[2] = { MP_OBJ_NEW_SMALL_INT(code), mp_obj_new_str(msg, strlen(msg)) };
    nlr_raise(mp_obj_new_exception_args(&mp_type_MQTTException, 2, args));
}

// Exceptions from user callbacks are printed, never kill the client; only
// KeyboardInterrupt and SystemExit go through.
static void callback_failed(void *exc) {
    mp_obj_t exc_obj = MP_OBJ_FROM_PTR(exc);
    if (mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(exc_obj)), MP_OBJ_FROM_PTR(&mp_type_KeyboardInterrupt))
        || mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(exc_obj)), MP_OBJ_FROM_PTR(&mp_type_SystemExit))) {
        nlr_jump(exc);
    }
    mp_printf(&mp_plat_print, "umqtt: callback raised: ");
    mp_obj_print_exception(&mp_plat_print, exc_obj);
}

static void report(umqtt_client_obj_t *self, const char *msg) {
    if (self->error_callback == mp_const_none) {
        return;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_call_function_1(self->error_callback, mp_obj_new_str(msg, strlen(msg)));
        nlr_pop();
    } else {
        callback_failed(nlr.ret_val);
    }
}

static void tx_reserve(umqtt_client_obj_t *self, size_t size) {
    if (size > self->tx_cap) {
        self->tx = m_renew(uint8_t, self->tx, self->tx_cap, size);
        self->tx_cap = size;
    }
}

// A blocking call of a login (DNS, TCP connect, TLS handshake) made without
// the client's lock: other threads must not wait seconds on it. Nothing it
// touches is reachable from the client until open_link installs it.
static mp_obj_t call_unlocked(umqtt_client_obj_t *self, mp_obj_t fun, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    volatile uint8_t depth = suspend(self);
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t result = mp_call_function_n_kw(fun, n_args, n_kw, args);
        nlr_pop();
        resume(self, depth);
        return result;
    }
    resume(self, depth);
    nlr_jump(nlr.ret_val);
}

static mp_obj_t call_method(mp_obj_t obj, qstr name, size_t n_args, const mp_obj_t *args) {
    mp_obj_t call[5];
    mp_load_method(obj, name, call);
    for (size_t i = 0; i < n_args; i++) {
        call[2 + i] = args[i];
    }
    return mp_call_method_n_kw(n_args, 0, call);
}

static mp_obj_t import_first(qstr name, qstr fallback) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t module = mp_import_name(name, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
        nlr_pop();
        return module;
    }
    return mp_import_name(fallback, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
}

/******************************************************************************/
// The link: socket, TLS and waiting.

static void close_link(umqtt_client_obj_t *self) {
    if (self->sock != MP_OBJ_NULL) {
        mp_obj_t sock = self->sock;
        self->sock = MP_OBJ_NULL;
        self->tcp = MP_OBJ_NULL;
        self->ipoll[0] = self->ipoll[1] = MP_OBJ_NULL;
        nlr_buf_t nlr;
        if (nlr_push(&nlr) == 0) {
            mp_stream_close(sock);
            nlr_pop();
        }
    }
    umqtt_connection_lost(&self->session);
    self->rx_start = self->rx_end = 0;
}

// The network failed under us: drop the link and raise. With reconn=True the
// caller's recovery loop reconnects.
static void link_lost(umqtt_client_obj_t *self) {
    close_link(self);
    self->state = STA_SERVER_CLOSED;
    self->next_attempt_ms = now_ms();
}

static NORETURN void link_failed(umqtt_client_obj_t *self, int err) {
    link_lost(self);
    mp_raise_OSError(err);
}

static NORETURN void protocol_failed(umqtt_client_obj_t *self, int32_t status) {
    link_lost(self);
    raise_mqtt(status, umqtt_status_message(status));
}

// QuecPython's ssl_params semantics: ussl.wrap_socket(sock, **ssl_params,
// server_hostname=server). Ports without ussl.wrap_socket (MicroPython 1.2x
// unix) get the same options mapped onto tls.SSLContext.
static mp_obj_t wrap_tls(umqtt_client_obj_t *self, mp_obj_t sock) {
    mp_map_t *params = mp_obj_dict_get_map(self->ssl_params);
    mp_obj_t ssl_mod = MP_OBJ_NULL;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        ssl_mod = import_first(MP_QSTR_ussl, MP_QSTR_ssl);
        mp_load_attr(ssl_mod, MP_QSTR_wrap_socket);
        nlr_pop();
    } else {
        ssl_mod = MP_OBJ_NULL;
    }
    if (ssl_mod != MP_OBJ_NULL) {
        size_t n_kw = params->used + 1;
        mp_obj_t *args = m_new(mp_obj_t, 1 + 2 * n_kw);
        args[0] = sock;
        size_t k = 1;
        for (size_t i = 0; i < params->alloc; i++) {
            if (mp_map_slot_is_filled(params, i)) {
                args[k++] = params->table[i].key;
                args[k++] = params->table[i].value;
            }
        }
        args[k++] = MP_OBJ_NEW_QSTR(MP_QSTR_server_hostname);
        args[k++] = self->server;
        return call_unlocked(self, mp_load_attr(ssl_mod, MP_QSTR_wrap_socket), 1, (k - 1) / 2, args);
    }

    mp_obj_t tls = mp_import_name(MP_QSTR_tls, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
    mp_obj_t proto = mp_load_attr(tls, MP_QSTR_PROTOCOL_TLS_CLIENT);
    mp_obj_t ctx = mp_call_function_1(mp_load_attr(tls, MP_QSTR_SSLContext), proto);
    mp_map_elem_t *cadata = mp_map_lookup(params, MP_OBJ_NEW_QSTR(MP_QSTR_cadata), MP_MAP_LOOKUP);
    mp_map_elem_t *cert_reqs = mp_map_lookup(params, MP_OBJ_NEW_QSTR(MP_QSTR_cert_reqs), MP_MAP_LOOKUP);
    mp_map_elem_t *cert = mp_map_lookup(params, MP_OBJ_NEW_QSTR(MP_QSTR_cert), MP_MAP_LOOKUP);
    mp_map_elem_t *key = mp_map_lookup(params, MP_OBJ_NEW_QSTR(MP_QSTR_key), MP_MAP_LOOKUP);
    // As ussl: no verification unless asked for, but a given CA means verify.
    mp_obj_t mode = cert_reqs ? cert_reqs->value
        : mp_load_attr(tls, cadata ? MP_QSTR_CERT_REQUIRED : MP_QSTR_CERT_NONE);
    mp_store_attr(ctx, MP_QSTR_verify_mode, mode);
    if (cadata) {
        call_method(ctx, MP_QSTR_load_verify_locations, 1, &cadata->value);
    }
    if (cert && key) {
        mp_obj_t chain[2] = { cert->value, key->value };
        call_method(ctx, MP_QSTR_load_cert_chain, 2, chain);
    }
    mp_obj_t wrap_args[3] = { sock, MP_OBJ_NEW_QSTR(MP_QSTR_server_hostname), self->server };
    return call_unlocked(self, mp_load_attr(ctx, MP_QSTR_wrap_socket), 1, 1, wrap_args);
}

static mp_obj_t open_tcp(umqtt_client_obj_t *self) {
    mp_obj_t socket_mod = import_first(MP_QSTR_socket, MP_QSTR_usocket);
    mp_obj_t ai_args[2] = { self->server, MP_OBJ_NEW_SMALL_INT(self->port) };
    mp_obj_t infos = call_unlocked(self, mp_load_attr(socket_mod, MP_QSTR_getaddrinfo), 2, 0, ai_args);
    if (mp_obj_get_int(mp_obj_len(infos)) == 0) {
        mp_raise_OSError(MP_EHOSTUNREACH);
    }
    size_t n_fields;
    mp_obj_t *fields;
    mp_obj_get_array(mp_obj_subscr(infos, MP_OBJ_NEW_SMALL_INT(0), MP_OBJ_SENTINEL), &n_fields, &fields);
    if (n_fields < 5) {
        mp_raise_OSError(MP_EHOSTUNREACH);
    }
    mp_obj_t tcp = mp_call_function_n_kw(mp_load_attr(socket_mod, MP_QSTR_socket), 3, 0, fields);
    mp_obj_t timeout = MP_OBJ_NEW_SMALL_INT(CONNECT_TIMEOUT_S);
    call_method(tcp, MP_QSTR_settimeout, 1, &timeout);
    call_unlocked(self, mp_load_attr(tcp, MP_QSTR_connect), 1, 0, &fields[4]);
    // One packet per write must leave at once, not wait on Nagle's algorithm
    // (IPPROTO_TCP = 6, TCP_NODELAY = 1 on Linux and lwIP alike).
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t opt[3] = { MP_OBJ_NEW_SMALL_INT(6), MP_OBJ_NEW_SMALL_INT(1), MP_OBJ_NEW_SMALL_INT(1) };
        call_method(tcp, MP_QSTR_setsockopt, 3, opt);
        nlr_pop();
    }
    return tcp;
}

static void open_link(umqtt_client_obj_t *self) {
    mp_obj_t tcp, sock;
    if (self->given_stream != MP_OBJ_NULL) {
        tcp = sock = self->given_stream;
    } else {
        tcp = open_tcp(self);
        sock = self->ssl ? wrap_tls(self, tcp) : tcp;
    }
    mp_get_stream_raise(sock, MP_STREAM_OP_READ | MP_STREAM_OP_WRITE | MP_STREAM_OP_IOCTL);

    mp_obj_t select_mod = import_first(MP_QSTR_select, MP_QSTR_uselect);
    mp_obj_t poller = mp_call_function_0(mp_load_attr(select_mod, MP_QSTR_poll));
    mp_obj_t reg[2] = { tcp, mp_load_attr(select_mod, MP_QSTR_POLLIN) };
    call_method(poller, MP_QSTR_register, 2, reg);
    mp_load_method(poller, MP_QSTR_ipoll, self->ipoll);

    self->tcp = tcp;
    self->sock = sock;
    self->rx_start = self->rx_end = 0;
}

static void write_all(umqtt_client_obj_t *self, const uint8_t *buf, size_t len) {
    if (self->sock == MP_OBJ_NULL) {
        mp_raise_OSError(MP_ENOTCONN);
    }
    int err;
    mp_stream_rw(self->sock, (void *)buf, len, &err, MP_STREAM_RW_WRITE);
    if (err != 0) {
        link_failed(self, err);
    }
}

static bool readable(umqtt_client_obj_t *self) {
    int err;
    mp_uint_t ret = mp_get_stream(self->sock)->ioctl(self->sock, MP_STREAM_POLL, MP_STREAM_POLL_RD, &err);
    // an error or hang-up is "readable": the read reports it
    return ret == MP_STREAM_ERROR || (ret & (MP_STREAM_POLL_RD | MP_STREAM_POLL_ERR | MP_STREAM_POLL_HUP)) != 0;
}

static bool wait_readable(umqtt_client_obj_t *self, uint32_t timeout_ms) {
    if (readable(self)) {
        return true;
    }
    if (timeout_ms == 0) {
        return false;
    }
    #if MICROPY_PY_THREAD
    // Another script thread may read the bytes (or handle the
    // acknowledgement) this one waits for, after this one checked but before
    // it sleeps, and there is no portable way to wake it. Bounded sleeps
    // bound that lost wake-up: short while another call is inside, and never
    // long, since one may enter at any time (~5 cheap wake-ups a second when
    // idle).
    uint32_t slice = self->calls > 1 ? SHARED_WAIT_SLICE_MS : MAX_WAIT_SLICE_MS;
    if (timeout_ms > slice) {
        timeout_ms = slice;
    }
    #endif
    // a copy: another thread may close the link while this one waits
    mp_obj_t call[3] = { self->ipoll[0], self->ipoll[1],
                         MP_OBJ_NEW_SMALL_INT(timeout_ms > 0x3fffffff ? 0x3fffffff : timeout_ms) };
    // volatile: read after an exception unwinds (setjmp-based nlr on some ports)
    volatile uint8_t depth = suspend(self);
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_call_method_n_kw(1, 0, call);
        nlr_pop();
        resume(self, depth);
    } else {
        resume(self, depth);
        nlr_jump(nlr.ret_val);
    }
    return self->sock != MP_OBJ_NULL && readable(self);
}

// Reads what the socket has (waiting up to timeout_ms); returns bytes read.
static size_t fill_rx(umqtt_client_obj_t *self, uint32_t timeout_ms) {
    if (self->sock == MP_OBJ_NULL) {
        mp_raise_OSError(MP_ENOTCONN);
    }
    if (!wait_readable(self, timeout_ms)) {
        return 0;
    }
    if (self->rx_start == self->rx_end) {
        self->rx_start = self->rx_end = 0;
    } else if (self->rx_end == self->rx_cap && self->rx_start > 0) {
        memmove(self->rx, self->rx + self->rx_start, self->rx_end - self->rx_start);
        self->rx_end -= self->rx_start;
        self->rx_start = 0;
    }
    if (self->rx_end == self->rx_cap) {
        // the packet being assembled was announced larger; the parser sized it
        return 0;
    }
    int err;
    mp_uint_t n = mp_get_stream(self->sock)->read(self->sock, self->rx + self->rx_end, self->rx_cap - self->rx_end, &err);
    if (n == MP_STREAM_ERROR) {
        if (mp_is_nonblocking_error(err)) {
            return 0;
        }
        link_failed(self, err);
    }
    if (n == 0) {
        link_failed(self, MP_ECONNRESET);
    }
    self->rx_end += n;
    umqtt_bytes_received(&self->session, now_ms());
    return n;
}

// Makes room for a packet of `size` bytes starting at rx_start.
static void rx_reserve(umqtt_client_obj_t *self, size_t size) {
    if (self->rx_start > 0) {
        memmove(self->rx, self->rx + self->rx_start, self->rx_end - self->rx_start);
        self->rx_end -= self->rx_start;
        self->rx_start = 0;
    }
    if (size > self->rx_cap) {
        uint8_t *bigger = m_renew_maybe(uint8_t, self->rx, self->rx_cap, size, true);
        if (bigger == NULL) {
            // the server announced a packet this heap cannot hold: drop the
            // link (and the half-received packet), keep the client usable
            link_lost(self);
            mp_raise_msg_varg(&mp_type_OSError, MP_ERROR_TEXT("incoming packet of %u bytes does not fit in memory"),
                (unsigned)size);
        }
        self->rx = bigger;
        self->rx_cap = size;
    }
}

// After a large packet, give the memory back.
static void rx_shrink(umqtt_client_obj_t *self) {
    if (self->rx_cap > RX_BUF_DEFAULT && self->rx_end - self->rx_start <= RX_BUF_DEFAULT) {
        memmove(self->rx, self->rx + self->rx_start, self->rx_end - self->rx_start);
        self->rx_end -= self->rx_start;
        self->rx_start = 0;
        self->rx = m_renew(uint8_t, self->rx, self->rx_cap, RX_BUF_DEFAULT);
        self->rx_cap = RX_BUF_DEFAULT;
    }
}

/******************************************************************************/
// Packets in: parse one buffered packet and act on it.

static void deliver(umqtt_client_obj_t *self, mp_obj_t topic, mp_obj_t msg) {
    if (self->callback == mp_const_none) {
        return;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_call_function_2(self->callback, topic, msg);
        nlr_pop();
    } else {
        callback_failed(nlr.ret_val);
    }
}

// Hands the receive buffer over as the payload of the PUBLISH at rx_start
// (moved to the front) and starts a fresh default-sized buffer with whatever
// followed that packet.
static mp_obj_t take_rx_as_payload(umqtt_client_obj_t *self, const umqtt_event *ev) {
    size_t next = self->rx_start + ev->consumed;
    size_t rest = self->rx_end - next;
    size_t cap = rest > RX_BUF_DEFAULT ? rest : RX_BUF_DEFAULT;
    uint8_t *fresh = m_new(uint8_t, cap);
    memcpy(fresh, self->rx + next, rest);
    vstr_t vstr;
    vstr.buf = (char *)self->rx;
    vstr.alloc = self->rx_cap;
    vstr.len = ev->payload_len;
    vstr.fixed_buf = false;
    memmove(vstr.buf, self->rx + self->rx_start + ev->payload_offset, ev->payload_len);
    self->rx = fresh;
    self->rx_cap = cap;
    self->rx_start = 0;
    self->rx_end = rest;
    return mp_obj_new_bytes_from_vstr(&vstr);
}

// Returns true when a whole packet was parsed and handled.
static bool process_buffered(umqtt_client_obj_t *self) {
    if (self->sock == MP_OBJ_NULL) {
        return false;
    }
    const uint8_t *buf = self->rx + self->rx_start;
    umqtt_event ev;
    uint8_t reply[UMQTT_REPLY_MAX];
    size_t reply_len = 0;
    int32_t st = umqtt_receive(&self->session, buf, self->rx_end - self->rx_start, now_ms(),
        &ev, reply, sizeof(reply), &reply_len);
    if (st != UMQTT_OK) {
        protocol_failed(self, st);
    }
    if (ev.kind == UMQTT_EVENT_NEED_MORE) {
        if (ev.packet_len > self->rx_cap) {
            rx_reserve(self, ev.packet_len);
        }
        return false;
    }
    mp_obj_t topic = MP_OBJ_NULL, msg = MP_OBJ_NULL;
    if (ev.kind == UMQTT_EVENT_PUBLISH && !ev.duplicate) {
        topic = mp_obj_new_bytes(buf + ev.topic_offset, ev.topic_len);
        if (self->rx_cap > RX_BUF_DEFAULT && ev.payload_len > RX_BUF_DEFAULT) {
            // A large packet: its buffer becomes the payload object, so the
            // peak heap is about one copy of the message, not two.
            msg = take_rx_as_payload(self, &ev);
            ev.consumed = 0;
        } else {
            msg = mp_obj_new_bytes(buf + ev.payload_offset, ev.payload_len);
        }
    } else if ((ev.kind == UMQTT_EVENT_SUBACK || ev.kind == UMQTT_EVENT_UNSUBACK)
               && ev.packet_id == self->request_pid) {
        // only the answer the waiting call asked for (a reconnect's
        // resubscriptions bring SUBACKs of their own)
        self->request_answered = true;
        self->request_code = ev.kind == UMQTT_EVENT_SUBACK && ev.codes_count > 0 ? buf[ev.codes_offset] : 0;
    } else if (ev.kind == UMQTT_EVENT_PUBLISH_DONE && ev.slot < UMQTT_MAX_INFLIGHT) {
        self->inflight[ev.slot][0] = self->inflight[ev.slot][1] = MP_OBJ_NULL;
    }
    // Consume before calling out: the callback may use the client.
    self->rx_start += ev.consumed;
    self->packets_handled++;
    if (self->rx_start == self->rx_end) {
        rx_shrink(self);
    }
    if (topic != MP_OBJ_NULL) {
        deliver(self, topic, msg);
    }
    if (reply_len > 0 && self->sock != MP_OBJ_NULL) {
        write_all(self, reply, reply_len);
    }
    return true;
}

// Sends a due PINGREQ, fails the link when the server stopped answering.
// Returns the milliseconds until the keepalive needs attention again.
static uint32_t service_keepalive(umqtt_client_obj_t *self) {
    uint8_t out[8];
    size_t len = 0;
    uint32_t wait_ms = UINT32_MAX;
    int32_t action = umqtt_tick(&self->session, now_ms(), out, sizeof(out), &len, &wait_ms);
    if (action == UMQTT_TICK_SEND) {
        write_all(self, out, len);
    } else if (action == UMQTT_TICK_DEAD) {
        report(self, "ping timeout: server not answering");
        link_failed(self, MP_ETIMEDOUT);
    }
    return wait_ms;
}

// Handles one packet, waiting for it up to timeout_ms (UINT32_MAX: forever)
// while keeping the connection alive. Returns false on timeout.
static bool process_one(umqtt_client_obj_t *self, uint32_t timeout_ms) {
    uint32_t start = now_ms();
    uint32_t handled = self->packets_handled;
    for (;;) {
        // another thread may have handled packets while this one waited
        if (process_buffered(self) || self->packets_handled != handled) {
            return true;
        }
        uint32_t wait_ms = service_keepalive(self);
        uint32_t elapsed = now_ms() - start;
        if (timeout_ms != UINT32_MAX) {
            if (elapsed >= timeout_ms) {
                return false;
            }
            if (timeout_ms - elapsed < wait_ms) {
                wait_ms = timeout_ms - elapsed;
            }
        }
        if (wait_ms == UINT32_MAX) {
            wait_ms = 60000;
        }
        fill_rx(self, wait_ms);
    }
}

/******************************************************************************/
// Connecting.

static void send_encoded(umqtt_client_obj_t *self, int32_t st, size_t len) {
    if (st != UMQTT_OK) {
        raise_status(st);
    }
    write_all(self, self->tx, len);
}

static void send_publish(umqtt_client_obj_t *self, const umqtt_publish_info *info, umqtt_slice payload) {
    write_all(self, self->tx, info->len);
    if (!info->payload_included) {
        write_all(self, payload.ptr, payload.len);
    }
}

// Encodes SUBSCRIBE (one filter) or UNSUBSCRIBE into tx, growing it to the
// size the core asks for.
static int32_t send_request(umqtt_client_obj_t *self, bool subscribe, umqtt_slice filter, uint8_t qos,
    size_t *len, uint16_t *pid) {
    for (int attempt = 0; attempt < 2; attempt++) {
        int32_t st = subscribe
            ? umqtt_subscribe(&self->session, filter, qos, now_ms(), self->tx, self->tx_cap, len, pid)
            : umqtt_unsubscribe(&self->session, filter, now_ms(), self->tx, self->tx_cap, len, pid);
        if (st != UMQTT_ERR_BUFFER_TOO_SMALL) {
            return st;
        }
        tx_reserve(self, *len);
    }
    return UMQTT_ERR_BUFFER_TOO_SMALL;
}

static void restore_session(umqtt_client_obj_t *self) {
    // every remembered topic with its own QoS; the SUBACKs are handled as they come
    mp_map_t *subs = mp_obj_dict_get_map(self->subscriptions);
    for (size_t i = 0; i < subs->alloc; i++) {
        if (mp_map_slot_is_filled(subs, i)) {
            size_t len;
            uint16_t pid;
            umqtt_slice filter = slice_of(subs->table[i].key);
            uint8_t qos = mp_obj_get_int(subs->table[i].value);
            int32_t st = send_request(self, true, filter, qos, &len, &pid);
            send_encoded(self, st, len);
        }
    }
    // unacknowledged QoS 1/2 messages, in their original order, flagged DUP
    uint8_t slots[UMQTT_MAX_INFLIGHT];
    size_t n = umqtt_inflight_slots(&self->session, slots, UMQTT_MAX_INFLIGHT);
    for (size_t i = 0; i < n; i++) {
        uint8_t slot = slots[i];
        umqtt_slice topic = slice_of(self->inflight[slot][0]);
        umqtt_slice payload = slice_of(self->inflight[slot][1]);
        umqtt_publish_info info;
        int32_t st = umqtt_retransmit(&self->session, slot, topic, payload, now_ms(), self->tx, self->tx_cap, &info);
        if (st == UMQTT_ERR_BUFFER_TOO_SMALL) {
            tx_reserve(self, info.len);
            st = umqtt_retransmit(&self->session, slot, topic, payload, now_ms(), self->tx, self->tx_cap, &info);
        }
        if (st != UMQTT_OK) {
            raise_status(st);
        }
        send_publish(self, &info, payload);
    }
}

// Opens the link, logs in and restores subscriptions and in-flight messages.
// Returns the session-present flag.
static bool establish(umqtt_client_obj_t *self) {
    if (self->credentials_callback != mp_const_none) {
        // fresh credentials for every login (Huawei's hour-stamped passwords)
        size_t n;
        mp_obj_t *creds;
        // an empty, non-NULL argument array: a bound method as callback
        // would otherwise memcpy from NULL (UBSan; mp_call_function_0)
        mp_obj_t no_args[1] = { MP_OBJ_NULL };
        mp_obj_get_array(mp_call_function_n_kw(self->credentials_callback, 0, 0, no_args), &n, &creds);
        if (n != 3) {
            mp_raise_ValueError(MP_ERROR_TEXT("credentials callback must return (client_id, user, password)"));
        }
        self->client_id = check_text(creds[0], false);
        self->user = check_text(creds[1], true);
        self->password = check_text(creds[2], true);
    }
    close_link(self);
    self->state = STA_CONNECTING;
    open_link(self);

    umqtt_connect_options opts = {
        .client_id = slice_of(self->client_id),
        .username = slice_of(self->user),
        .password = slice_of(self->password),
        .will_topic = slice_of(self->will_topic),
        .will_payload = slice_of(self->will_msg),
        .keep_alive_s = self->keepalive,
        .protocol_level = self->version,
        .will_qos = self->will_qos,
        .will_retain = self->will_retain,
        .clean_session = self->clean_session,
        .ping_max_unanswered = self->pingmaxnum,
    };
    if (opts.client_id.ptr == NULL) {
        opts.client_id.ptr = (const uint8_t *)"";
    }
    size_t len;
    int32_t st = umqtt_connect(&self->session, &opts, now_ms(), self->tx, self->tx_cap, &len);
    if (st == UMQTT_ERR_BUFFER_TOO_SMALL) {
        tx_reserve(self, len);
        st = umqtt_connect(&self->session, &opts, now_ms(), self->tx, self->tx_cap, &len);
    }
    if (st != UMQTT_OK) {
        close_link(self);
        self->state = STA_CLOSED;
        raise_status(st);
    }
    write_all(self, self->tx, len);

    uint32_t start = now_ms();
    for (;;) {
        umqtt_event ev;
        uint8_t reply[UMQTT_REPLY_MAX];
        size_t reply_len;
        st = umqtt_receive(&self->session, self->rx + self->rx_start, self->rx_end - self->rx_start, now_ms(),
            &ev, reply, sizeof(reply), &reply_len);
        if (st == UMQTT_ERR_REFUSED) {
            close_link(self);
            self->state = STA_CLOSED;
            vstr_t vstr;
            vstr_init(&vstr, 64);
            vstr_printf(&vstr, "MQTT Connect error='%d' FAIL: %s", ev.return_code, umqtt_connack_message(ev.return_code));
            raise_mqtt(ev.return_code, vstr_null_terminated_str(&vstr));
        }
        if (st != UMQTT_OK) {
            protocol_failed(self, st);
        }
        if (ev.kind == UMQTT_EVENT_CONNACK) {
            if (self->state != STA_CONNECTING) {
                // closed by the script while this login waited unlocked
                close_link(self);
                mp_raise_OSError(MP_ENOTCONN);
            }
            self->rx_start += ev.consumed;
            self->state = STA_CONNECTED;
            self->link_generation++;
            restore_session(self);
            return ev.session_present;
        }
        if (ev.packet_len > self->rx_cap) {
            rx_reserve(self, ev.packet_len);
        }
        uint32_t elapsed = now_ms() - start;
        if (elapsed >= CONNECT_TIMEOUT_S * 1000) {
            link_failed(self, MP_ETIMEDOUT);
        }
        fill_rx(self, CONNECT_TIMEOUT_S * 1000 - elapsed);
    }
}

static uint32_t next_random(umqtt_client_obj_t *self) {
    // xorshift32, seeded from the clock: only spreads reconnect attempts
    uint32_t x = self->random ^ (uint32_t)mp_hal_ticks_us();
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    self->random = x ? x : 0x9e3779b9;
    return self->random;
}

static bool is_instance_of(mp_obj_t exc, const mp_obj_type_t *type) {
    return mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(exc)), MP_OBJ_FROM_PTR(type));
}

// A stream handed to connect() cannot be opened again.
static bool can_reconnect(umqtt_client_obj_t *self) {
    return self->reconn && self->given_stream == MP_OBJ_NULL;
}

// True while the background thread (keepalive and reconnects) runs: then the
// script's calls never reconnect themselves and never block on a lost link.
static bool supervised(umqtt_client_obj_t *self) {
    #if MICROPY_PY_THREAD
    return self->supervisor_running;
    #else
    (void)self;
    return false;
    #endif
}

// One login attempt after the link was lost. True when connected again. A
// refusal that retrying cannot fix (CONNACK 1, 2, 4, 5) ends reconnecting
// (state -1) and is raised; other failures schedule the next attempt with
// capped exponential backoff and jitter.
static bool try_reconnect(umqtt_client_obj_t *self) {
    if (!self->reconnecting) {
        self->reconnecting = true;
        self->attempt = 0;
        report(self, "reconnect_start");
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        establish(self);
        nlr_pop();
        self->reconnecting = false;
        report(self, "reconnect_success");
        return true;
    }
    mp_obj_t exc = MP_OBJ_FROM_PTR(nlr.ret_val);
    if (is_instance_of(exc, &mp_type_MQTTException)) {
        mp_obj_t code = mp_obj_exception_get_value(exc);
        if (mp_obj_is_small_int(code) && MP_OBJ_SMALL_INT_VALUE(code) > 0
            && umqtt_refusal_is_permanent(MP_OBJ_SMALL_INT_VALUE(code))) {
            self->reconnecting = false;
            self->state = STA_CLOSED;
            report(self, "reconnect_stop: connection refused");
            nlr_jump(nlr.ret_val);
        }
    } else if (!is_instance_of(exc, &mp_type_OSError)) {
        nlr_jump(nlr.ret_val);
    }
    if (self->state == STA_CLOSED) {
        // the script closed the client while this attempt waited unlocked
        self->reconnecting = false;
        return false;
    }
    close_link(self);
    self->state = STA_SERVER_CLOSED;
    self->next_attempt_ms = now_ms() + umqtt_backoff_ms(self->attempt, next_random(self));
    if (self->attempt < 30) {
        self->attempt++;
    }
    return false;
}

// Reconnects in the caller's thread until it works (ports without threads).
static void reconnect(umqtt_client_obj_t *self) {
    for (;;) {
        int32_t wait = (int32_t)(self->next_attempt_ms - now_ms());
        if (wait > 0) {
            mp_hal_delay_ms(wait);
        }
        if (try_reconnect(self)) {
            return;
        }
    }
}

// Before an operation. True: the link is up. False: it is down and the
// background thread is bringing it back, so the operation does its offline
// part. Without that thread the link is brought back here, or ENOTCONN.
static bool ensure_link(umqtt_client_obj_t *self) {
    if (self->state == STA_CONNECTED && self->sock != MP_OBJ_NULL) {
        return true;
    }
    if ((self->state == STA_SERVER_CLOSED || self->state == STA_CONNECTING) && can_reconnect(self)
        && supervised(self)) {
        return false;
    }
    if (self->state == STA_SERVER_CLOSED && can_reconnect(self)) {
        reconnect(self);
        return true;
    }
    mp_raise_OSError(MP_ENOTCONN);
}

// After an operation raised: returns (so it runs again) when the link failed
// and reconn=True; re-raises anything else.
static void recover_or_raise(umqtt_client_obj_t *self, void *exc) {
    if (self->state == STA_SERVER_CLOSED && can_reconnect(self)
        && (is_instance_of(MP_OBJ_FROM_PTR(exc), &mp_type_OSError)
            || is_instance_of(MP_OBJ_FROM_PTR(exc), &mp_type_MQTTException))) {
        if (!supervised(self)) {
            reconnect(self);
        }
        return;
    }
    nlr_jump(exc);
}

// Lets the lock go for a moment (another thread may be reconnecting).
static void pause_unlocked(umqtt_client_obj_t *self, uint32_t ms) {
    // volatile: read after an exception unwinds (setjmp-based nlr on some ports)
    volatile uint8_t depth = suspend(self);
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_hal_delay_ms(ms);
        nlr_pop();
        resume(self, depth);
    } else {
        resume(self, depth);
        nlr_jump(nlr.ret_val);
    }
}

/******************************************************************************/
// The background thread. QuecPython keeps the session alive and reconnects
// while the script blocks, sleeps or does other work; this MicroPython thread
// does the same. It acts only when no script thread is inside the client, and
// calls no message callback (only the error callback, as QuecPython does).

#if MICROPY_PY_THREAD
static mp_obj_t umqtt_supervisor(mp_obj_t self_in, mp_obj_t generation_in) {
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    uint32_t generation = mp_obj_get_int(generation_in);
    while (self->supervisor_running && self->supervisor_generation == generation) {
        mp_hal_delay_ms(SUPERVISOR_PERIOD_MS);
        if (!mp_thread_mutex_lock(&self->lock, 0)) {
            continue;
        }
        // owned like a script call (not counted in calls): the callbacks it
        // runs (error, credentials) may call the client again
        self->owner = mp_thread_get_state();
        self->depth = 1;
        if (self->supervisor_running && self->supervisor_generation == generation) {
            nlr_buf_t nlr;
            if (nlr_push(&nlr) == 0) {
                if (self->state == STA_CONNECTED && self->sock != MP_OBJ_NULL) {
                    // Only when no script call is inside (a waiting one keeps
                    // the link alive itself and must see what arrives).
                    if (self->calls == 0) {
                        // take in what arrived and handle acknowledgements up
                        // to the first message, which waits for the script
                        while (self->rx_end < self->rx_cap && fill_rx(self, 0) > 0) {
                        }
                        while (!umqtt_next_is_publish(self->rx + self->rx_start, self->rx_end - self->rx_start)
                               && process_buffered(self)) {
                        }
                        service_keepalive(self);
                    }
                } else if (self->state == STA_SERVER_CLOSED && can_reconnect(self)
                           && (int32_t)(now_ms() - self->next_attempt_ms) >= 0) {
                    try_reconnect(self);
                }
                nlr_pop();
            } else if (self->state == STA_CLOSED) {
                // refused for good: reported already; nothing left to do
                self->supervisor_running = false;
            }
        }
        self->owner = NULL;
        self->depth = 0;
        mp_thread_mutex_unlock(&self->lock);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(umqtt_supervisor_obj, umqtt_supervisor);
#endif

static void stop_supervisor(umqtt_client_obj_t *self) {
    #if MICROPY_PY_THREAD
    self->supervisor_running = false;
    self->supervisor_generation++;
    #else
    (void)self;
    #endif
}

static void start_supervisor(umqtt_client_obj_t *self) {
    #if MICROPY_PY_THREAD
    if (self->keepalive == 0 && !can_reconnect(self)) {
        return;
    }
    stop_supervisor(self);
    self->supervisor_running = true;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t thread = mp_import_name(MP_QSTR__thread, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
        mp_obj_t args[2] = { MP_OBJ_FROM_PTR(self), mp_obj_new_int_from_uint(self->supervisor_generation) };
        mp_obj_t start_args[2] = { MP_OBJ_FROM_PTR(&umqtt_supervisor_obj), mp_obj_new_tuple(2, args) };
        mp_call_function_n_kw(mp_load_attr(thread, MP_QSTR_start_new_thread), 2, 0, start_args);
        nlr_pop();
    } else {
        // no usable threads: keepalive and reconnects happen in the calls
        self->supervisor_running = false;
    }
    #else
    (void)self;
    #endif
}

typedef void (*umqtt_op_t)(umqtt_client_obj_t *self, void *ctx, bool online);

// Runs op with the link up (online) or, while the background thread
// reconnects, offline. A network failure reconnects (reconn=True) and runs op
// again. With network_failed given, a network failure that cannot be
// recovered (reconn=False) sets it instead of raising; anything else is
// raised once the lock is released.
static void run_guarded_or_fail(umqtt_client_obj_t *self, umqtt_op_t op, void *ctx, bool *network_failed) {
    enter(self);
    for (;;) {
        nlr_buf_t nlr;
        if (nlr_push(&nlr) == 0) {
            op(self, ctx, ensure_link(self));
            nlr_pop();
            break;
        }
        if (network_failed != NULL && self->state == STA_SERVER_CLOSED && !can_reconnect(self)
            && is_instance_of(MP_OBJ_FROM_PTR(nlr.ret_val), &mp_type_OSError)) {
            *network_failed = true;
            break;
        }
        nlr_buf_t again;
        if (nlr_push(&again) == 0) {
            recover_or_raise(self, nlr.ret_val);
            nlr_pop();
        } else {
            leave(self);
            nlr_jump(again.ret_val);
        }
    }
    leave(self);
}

static void run_guarded(umqtt_client_obj_t *self, umqtt_op_t op, void *ctx) {
    run_guarded_or_fail(self, op, ctx, NULL);
}

/******************************************************************************/
// Python API.

static mp_obj_t umqtt_client_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *all_args) {
    enum { ARG_client_id, ARG_server, ARG_port, ARG_user, ARG_password, ARG_keepalive, ARG_ssl, ARG_ssl_params,
           ARG_reconn, ARG_version, ARG_pingmaxnum, ARG_manage, ARG_ipvtype, ARG_queue_size };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_client_id, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_server, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_port, MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_user, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_password, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_keepalive, MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_ssl, MP_ARG_BOOL, {.u_bool = false} },
        { MP_QSTR_ssl_params, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_reconn, MP_ARG_BOOL, {.u_bool = true} },
        { MP_QSTR_version, MP_ARG_INT, {.u_int = 4} },
        { MP_QSTR_pingmaxnum, MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_manage, MP_ARG_BOOL, {.u_bool = false} },
        { MP_QSTR_ipvtype, MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_queue_size, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 4} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    mp_int_t keepalive = args[ARG_keepalive].u_int;
    if (keepalive < 0 || (keepalive > 0 && keepalive < 5) || keepalive > 65535) {
        mp_raise_ValueError(MP_ERROR_TEXT("keepalive must be 0 or 5..65535 seconds"));
    }
    mp_int_t version = args[ARG_version].u_int;
    if (version != 3 && version != 4) {
        mp_raise_ValueError(MP_ERROR_TEXT("version must be 3 (MQTT 3.1) or 4 (MQTT 3.1.1)"));
    }
    mp_int_t port = args[ARG_port].u_int;
    if (port < 0 || port > 65535) {
        mp_raise_ValueError(MP_ERROR_TEXT("port must be 0..65535"));
    }
    mp_int_t pingmaxnum = args[ARG_pingmaxnum].u_int;
    if (pingmaxnum < 0 || pingmaxnum > 255) {
        mp_raise_ValueError(MP_ERROR_TEXT("pingmaxnum must be 0..255"));
    }
    mp_obj_t ssl_params = args[ARG_ssl_params].u_obj;
    if (ssl_params == mp_const_none) {
        ssl_params = mp_obj_new_dict(0);
    } else if (!mp_obj_is_type(ssl_params, &mp_type_dict)) {
        mp_raise_TypeError(MP_ERROR_TEXT("ssl_params must be a dict"));
    }
    mp_int_t queue_size = args[ARG_queue_size].u_int;
    if (queue_size < 0 || queue_size > UMQTT_MAX_INFLIGHT) {
        mp_raise_ValueError(MP_ERROR_TEXT("queue_size must be 0..16"));
    }
    if (args[ARG_ipvtype].u_int != 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("ipvtype: only 0 is supported"));
    }

    umqtt_client_obj_t *self = mp_obj_malloc(umqtt_client_obj_t, type);
    umqtt_session_init(&self->session);
    self->client_id = check_text(args[ARG_client_id].u_obj, false);
    // the server name goes to getaddrinfo and to TLS SNI, which want str
    size_t len;
    const char *server = mp_obj_str_get_data(check_text(args[ARG_server].u_obj, false), &len);
    self->server = mp_obj_new_str(server, len);
    self->user = check_text(args[ARG_user].u_obj, true);
    self->password = check_text(args[ARG_password].u_obj, true);
    self->ssl_params = ssl_params;
    self->will_topic = mp_const_none;
    self->will_msg = mp_const_none;
    self->callback = mp_const_none;
    self->error_callback = mp_const_none;
    self->credentials_callback = mp_const_none;
    self->subscriptions = mp_obj_new_dict(0);
    self->sock = MP_OBJ_NULL;
    self->tcp = MP_OBJ_NULL;
    self->given_stream = MP_OBJ_NULL;
    self->ssl = args[ARG_ssl].u_bool;
    self->port = port ? port : (self->ssl ? 8883 : 1883);
    self->keepalive = keepalive;
    self->version = version;
    self->pingmaxnum = pingmaxnum;
    self->reconn = args[ARG_reconn].u_bool;
    self->queue_size = queue_size;
    self->clean_session = true;
    self->state = STA_CLOSED;
    self->random = (uint32_t)mp_hal_ticks_us() | 1;
    self->rx = m_new(uint8_t, RX_BUF_DEFAULT);
    self->rx_cap = RX_BUF_DEFAULT;
    self->tx = m_new(uint8_t, TX_BUF_DEFAULT);
    self->tx_cap = TX_BUF_DEFAULT;
    #if MICROPY_PY_THREAD
    mp_thread_mutex_init(&self->lock);
    #endif
    return MP_OBJ_FROM_PTR(self);
}

static void umqtt_client_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    (void)kind;
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    // never the user name or password
    mp_printf(print, "<MQTTClient %s:%d state=%d>", mp_obj_str_get_str(self->server), (int)self->port, self->state);
}

static mp_obj_t check_callable(mp_obj_t f) {
    if (f != mp_const_none && !mp_obj_is_callable(f)) {
        mp_raise_TypeError(MP_ERROR_TEXT("callback must be callable"));
    }
    return f;
}

static mp_obj_t umqtt_set_callback(mp_obj_t self_in, mp_obj_t f) {
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    self->callback = check_callable(f);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(umqtt_set_callback_obj, umqtt_set_callback);

static mp_obj_t umqtt_error_register_cb(mp_obj_t self_in, mp_obj_t f) {
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    self->error_callback = check_callable(f);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(umqtt_error_register_cb_obj, umqtt_error_register_cb);

// set_credentials_cb(f): f() -> (client_id, user, password), called before
// every CONNECT, first connect and reconnects alike. Not in QuecPython: it
// lets a cloud module recompute time-stamped credentials.
static mp_obj_t umqtt_set_credentials_cb(mp_obj_t self_in, mp_obj_t f) {
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    self->credentials_callback = check_callable(f);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(umqtt_set_credentials_cb_obj, umqtt_set_credentials_cb);

static mp_int_t check_qos(mp_int_t qos) {
    if (qos < 0 || qos > 2) {
        mp_raise_ValueError(MP_ERROR_TEXT("qos must be 0, 1 or 2"));
    }
    return qos;
}

static mp_obj_t umqtt_set_last_will(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_topic, ARG_msg, ARG_retain, ARG_qos };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_topic, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_msg, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_retain, MP_ARG_BOOL, {.u_bool = false} },
        { MP_QSTR_qos, MP_ARG_INT, {.u_int = 0} },
    };
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    self->will_qos = check_qos(args[ARG_qos].u_int);
    int32_t st = umqtt_check_topic_name(slice_of(check_text(args[ARG_topic].u_obj, false)));
    if (st != UMQTT_OK) {
        raise_status(st);
    }
    self->will_topic = args[ARG_topic].u_obj;
    self->will_msg = check_payload(args[ARG_msg].u_obj);
    self->will_retain = args[ARG_retain].u_bool;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(umqtt_set_last_will_obj, 1, umqtt_set_last_will);

static mp_obj_t umqtt_connect_meth(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_clean_session, ARG_sock };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_clean_session, MP_ARG_BOOL, {.u_bool = true} },
        { MP_QSTR_sock, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    enter(self);
    stop_supervisor(self);
    self->clean_session = args[ARG_clean_session].u_bool;
    // sock=: log in over an already open stream (a custom transport, or an
    // in-memory one in tests) instead of resolving and dialling the server;
    // such a link is not reopened by reconn.
    self->given_stream = args[ARG_sock].u_obj == mp_const_none ? MP_OBJ_NULL : args[ARG_sock].u_obj;
    self->reconnecting = false;
    nlr_buf_t nlr;
    bool present = false;
    if (nlr_push(&nlr) == 0) {
        present = establish(self);
        start_supervisor(self);
        nlr_pop();
    } else {
        close_link(self);
        self->state = STA_CLOSED;
        leave(self);
        nlr_jump(nlr.ret_val);
    }
    leave(self);
    // micropython-lib returns the session-present flag; QuecPython returns 0,
    // which is what a clean session gives here too.
    return MP_OBJ_NEW_SMALL_INT(present ? 1 : 0);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(umqtt_connect_obj, 1, umqtt_connect_meth);

typedef struct {
    mp_obj_t topic_obj, msg_obj;
    umqtt_slice topic, payload;
    uint32_t start;
    uint16_t pid;
    uint8_t qos, slot;
    bool retain, done;
} publish_op_t;

static bool publish_acked(umqtt_client_obj_t *self, const publish_op_t *op) {
    // a nested publish (from a callback) may reuse the slot: acknowledged
    // means "the slot no longer holds our packet id"
    return self->inflight[op->slot][0] == MP_OBJ_NULL || self->inflight_pid[op->slot] != op->pid;
}

static void publish_op(umqtt_client_obj_t *self, void *ctx, bool online) {
    publish_op_t *op = ctx;
    if (!online) {
        if (op->slot != NO_SLOT) {
            // already in the table: resent after the reconnect
            op->done = true;
        } else if (op->qos == 0) {
            report(self, "publish: offline, QoS 0 message not sent");
        } else {
            // kept, in order, for after the reconnect; a full queue is told now
            umqtt_publish_info info;
            int32_t st = umqtt_queue(&self->session, op->topic, op->payload, op->qos, op->retain,
                self->queue_size, &info);
            if (st == UMQTT_ERR_QUEUE_FULL || st == UMQTT_ERR_INFLIGHT_FULL) {
                report(self, "publish: offline queue full, message not kept");
                return;
            }
            if (st != UMQTT_OK) {
                raise_status(st);
            }
            op->slot = info.slot;
            op->pid = info.packet_id;
            self->inflight[op->slot][0] = op->topic_obj;
            self->inflight[op->slot][1] = op->msg_obj;
            self->inflight_pid[op->slot] = op->pid;
            op->done = true;
        }
        return;
    }
    if (op->slot == NO_SLOT) {
        umqtt_publish_info info;
        int32_t st = umqtt_publish(&self->session, op->topic, op->payload, op->qos, op->retain, now_ms(),
            self->tx, self->tx_cap, &info);
        if (st == UMQTT_ERR_BUFFER_TOO_SMALL) {
            tx_reserve(self, info.len);
            st = umqtt_publish(&self->session, op->topic, op->payload, op->qos, op->retain, now_ms(),
                self->tx, self->tx_cap, &info);
        }
        if (st == UMQTT_ERR_INFLIGHT_FULL) {
            report(self, "publish: too many messages awaiting acknowledgement");
            return;
        }
        if (st != UMQTT_OK) {
            raise_status(st);
        }
        if (op->qos > 0) {
            op->slot = info.slot;
            op->pid = info.packet_id;
            self->inflight[op->slot][0] = op->topic_obj;
            self->inflight[op->slot][1] = op->msg_obj;
            self->inflight_pid[op->slot] = op->pid;
        }
        // from here on a failure reconnects and the session retransmits it
        send_publish(self, &info, op->payload);
        if (op->qos == 0) {
            op->done = true;
            return;
        }
        op->start = now_ms();
    }
    while (!publish_acked(self, op)) {
        uint32_t elapsed = now_ms() - op->start;
        if (elapsed >= ACK_TIMEOUT_MS || !process_one(self, ACK_TIMEOUT_MS - elapsed)) {
            report(self, "publish: no acknowledgement in time; kept for retransmission");
            return;
        }
    }
    op->done = true;
}

// publish(topic, msg, retain=False, qos=0) -> True once sent (QoS 0) or
// acknowledged (QoS 1/2); False when it could not be (QuecPython reports
// instead of raising). Beware: publish(topic, msg, 1) sets retain, not qos,
// exactly as in QuecPython.
static mp_obj_t umqtt_publish_meth(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_topic, ARG_msg, ARG_retain, ARG_qos };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_topic, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_msg, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_retain, MP_ARG_BOOL, {.u_bool = false} },
        { MP_QSTR_qos, MP_ARG_INT, {.u_int = 0} },
    };
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_obj_t topic_obj, msg_obj;
    mp_int_t qos = 0;
    bool retain = false;
    if (kw_args->used == 0 && n_args >= 3 && n_args <= 5) {
        // the common positional call, without the argument parser (hot path)
        topic_obj = pos_args[1];
        msg_obj = pos_args[2];
        retain = n_args > 3 && mp_obj_is_true(pos_args[3]);
        qos = n_args > 4 ? mp_obj_get_int(pos_args[4]) : 0;
    } else {
        mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
        mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
        topic_obj = args[ARG_topic].u_obj;
        msg_obj = args[ARG_msg].u_obj;
        retain = args[ARG_retain].u_bool;
        qos = args[ARG_qos].u_int;
    }
    publish_op_t op = {
        .topic_obj = check_text(topic_obj, false),
        .qos = check_qos(qos),
        .retain = retain,
        .slot = NO_SLOT,
    };
    // QoS 1/2 payloads are kept for retransmission, so they must not change
    check_buffer(msg_obj);
    op.msg_obj = op.qos > 0 ? check_payload(msg_obj) : msg_obj;
    op.topic = slice_of(op.topic_obj);
    op.payload = slice_of(op.msg_obj);
    if (self->state == STA_CLOSED) {
        mp_raise_OSError(MP_ENOTCONN);
    }
    bool network_failed = false;
    run_guarded_or_fail(self, publish_op, &op, &network_failed);
    if (network_failed) {
        // reconn=False: QuecPython reports network errors instead of raising
        report(self, "publish: network error");
    }
    return mp_obj_new_bool(op.done);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(umqtt_publish_obj, 1, umqtt_publish_meth);

typedef struct {
    mp_obj_t topic_obj;
    uint8_t qos;
    bool subscribe;
} subscribe_op_t;

// Remembered subscriptions are keyed by the topic's bytes, so "t" and b"t"
// are one subscription.
static mp_obj_t subscription_key(mp_obj_t topic) {
    if (mp_obj_is_type(topic, &mp_type_bytes)) {
        return topic;
    }
    umqtt_slice s = slice_of(topic);
    return mp_obj_new_bytes(s.ptr, s.len);
}

static void subscribe_op(umqtt_client_obj_t *self, void *ctx, bool online) {
    subscribe_op_t *op = ctx;
    if (!online) {
        // remembered now, sent by the reconnect
        mp_obj_t key = subscription_key(op->topic_obj);
        if (op->subscribe) {
            mp_obj_dict_store(self->subscriptions, key, MP_OBJ_NEW_SMALL_INT(op->qos));
        } else {
            mp_map_lookup(mp_obj_dict_get_map(self->subscriptions), key, MP_MAP_LOOKUP_REMOVE_IF_FOUND);
        }
        return;
    }
    umqtt_slice filter = slice_of(op->topic_obj);
    uint32_t generation = self->link_generation;
    size_t len;
    uint16_t pid;
    int32_t st = send_request(self, op->subscribe, filter, op->qos, &len, &pid);
    send_encoded(self, st, len);
    self->request_pid = pid;
    self->request_answered = false;
    uint32_t start = now_ms();
    while (!(self->request_answered && self->request_pid == pid)) {
        if (self->link_generation != generation) {
            // the link was re-established meanwhile (by another thread):
            // this request died with the old one; ask again on the new link
            subscribe_op(self, ctx, self->state == STA_CONNECTED && self->sock != MP_OBJ_NULL);
            return;
        }
        uint32_t elapsed = now_ms() - start;
        if (elapsed >= ACK_TIMEOUT_MS || !process_one(self, ACK_TIMEOUT_MS - elapsed)) {
            // no answer: the server is gone; reconnecting restores the subscription
            link_failed(self, MP_ETIMEDOUT);
        }
    }
    mp_obj_t key = subscription_key(op->topic_obj);
    if (!op->subscribe) {
        mp_map_lookup(mp_obj_dict_get_map(self->subscriptions), key, MP_MAP_LOOKUP_REMOVE_IF_FOUND);
    } else if (self->request_code == 0x80) {
        report(self, "subscribe failed: the server refused the topic");
    } else {
        mp_obj_dict_store(self->subscriptions, key, MP_OBJ_NEW_SMALL_INT(op->qos));
    }
}

// subscribe(topic, qos=0): as QuecPython, returns None; a refusal (SUBACK
// 0x80) is reported to the error callback and the topic is not remembered.
static mp_obj_t umqtt_subscribe_meth(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_topic, ARG_qos };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_topic, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_qos, MP_ARG_INT, {.u_int = 0} },
    };
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    subscribe_op_t op = {
        .topic_obj = check_text(args[ARG_topic].u_obj, false),
        .qos = check_qos(args[ARG_qos].u_int),
        .subscribe = true,
    };
    if (self->callback == mp_const_none) {
        mp_raise_ValueError(MP_ERROR_TEXT("set_callback() must be called before subscribe()"));
    }
    run_guarded(self, subscribe_op, &op);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(umqtt_subscribe_obj, 1, umqtt_subscribe_meth);

static mp_obj_t umqtt_unsubscribe_meth(mp_obj_t self_in, mp_obj_t topic) {
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    subscribe_op_t op = { .topic_obj = check_text(topic, false), .subscribe = false };
    run_guarded(self, subscribe_op, &op);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(umqtt_unsubscribe_obj, umqtt_unsubscribe_meth);

static void check_msg_op(umqtt_client_obj_t *self, void *ctx, bool online) {
    (void)ctx;
    if (!online) {
        return;
    }
    service_keepalive(self);
    // "no data yet" is not a fault: fill_rx returns 0 for it
    if (!process_buffered(self) && fill_rx(self, 0) > 0) {
        process_buffered(self);
    }
}

static mp_obj_t umqtt_check_msg(mp_obj_t self_in) {
    run_guarded(MP_OBJ_TO_PTR(self_in), check_msg_op, NULL);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(umqtt_check_msg_obj, umqtt_check_msg);

static void wait_msg_op(umqtt_client_obj_t *self, void *ctx, bool online) {
    (void)ctx;
    // while the background thread reconnects, wait for it
    while (!online) {
        pause_unlocked(self, 100);
        online = ensure_link(self);
    }
    process_one(self, UINT32_MAX);
}

static mp_obj_t umqtt_wait_msg(mp_obj_t self_in) {
    run_guarded(MP_OBJ_TO_PTR(self_in), wait_msg_op, NULL);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(umqtt_wait_msg_obj, umqtt_wait_msg);

static void ping_op(umqtt_client_obj_t *self, void *ctx, bool online) {
    (void)ctx;
    if (!online) {
        return;
    }
    size_t len;
    int32_t st = umqtt_ping(&self->session, now_ms(), self->tx, self->tx_cap, &len);
    send_encoded(self, st, len);
}

static mp_obj_t umqtt_ping_meth(mp_obj_t self_in) {
    run_guarded(MP_OBJ_TO_PTR(self_in), ping_op, NULL);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(umqtt_ping_obj, umqtt_ping_meth);

// The script ends the connection: no keepalive, no reconnect, state -1.
static void shut_down(umqtt_client_obj_t *self) {
    stop_supervisor(self);
    close_link(self);
    self->state = STA_CLOSED;
}

// disconnect(): DISCONNECT, close, stop the keepalive. The client can
// connect() again (QuecPython's cannot).
static mp_obj_t umqtt_disconnect_meth(mp_obj_t self_in) {
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    enter(self);
    if (self->sock != MP_OBJ_NULL) {
        size_t len;
        if (umqtt_disconnect(&self->session, self->tx, self->tx_cap, &len) == UMQTT_OK) {
            nlr_buf_t nlr;
            if (nlr_push(&nlr) == 0) {
                write_all(self, self->tx, len);
                nlr_pop();
            }
        }
    }
    shut_down(self);
    leave(self);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(umqtt_disconnect_obj, umqtt_disconnect_meth);

// close(): drop the socket without DISCONNECT (the broker then sends the will).
static mp_obj_t umqtt_close_meth(mp_obj_t self_in) {
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    enter(self);
    shut_down(self);
    leave(self);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(umqtt_close_obj, umqtt_close_meth);

static mp_obj_t umqtt_get_mqttsta(mp_obj_t self_in) {
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return MP_OBJ_NEW_SMALL_INT(self->state);
}
static MP_DEFINE_CONST_FUN_OBJ_1(umqtt_get_mqttsta_obj, umqtt_get_mqttsta);

static const mp_rom_map_elem_t umqtt_client_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_set_callback), MP_ROM_PTR(&umqtt_set_callback_obj) },
    { MP_ROM_QSTR(MP_QSTR_error_register_cb), MP_ROM_PTR(&umqtt_error_register_cb_obj) },
    { MP_ROM_QSTR(MP_QSTR_set_credentials_cb), MP_ROM_PTR(&umqtt_set_credentials_cb_obj) },
    { MP_ROM_QSTR(MP_QSTR_set_last_will), MP_ROM_PTR(&umqtt_set_last_will_obj) },
    { MP_ROM_QSTR(MP_QSTR_connect), MP_ROM_PTR(&umqtt_connect_obj) },
    { MP_ROM_QSTR(MP_QSTR_publish), MP_ROM_PTR(&umqtt_publish_obj) },
    { MP_ROM_QSTR(MP_QSTR_subscribe), MP_ROM_PTR(&umqtt_subscribe_obj) },
    { MP_ROM_QSTR(MP_QSTR_unsubscribe), MP_ROM_PTR(&umqtt_unsubscribe_obj) },
    { MP_ROM_QSTR(MP_QSTR_check_msg), MP_ROM_PTR(&umqtt_check_msg_obj) },
    { MP_ROM_QSTR(MP_QSTR_wait_msg), MP_ROM_PTR(&umqtt_wait_msg_obj) },
    { MP_ROM_QSTR(MP_QSTR_ping), MP_ROM_PTR(&umqtt_ping_obj) },
    { MP_ROM_QSTR(MP_QSTR_disconnect), MP_ROM_PTR(&umqtt_disconnect_obj) },
    { MP_ROM_QSTR(MP_QSTR_close), MP_ROM_PTR(&umqtt_close_obj) },
    { MP_ROM_QSTR(MP_QSTR_get_mqttsta), MP_ROM_PTR(&umqtt_get_mqttsta_obj) },
};
static MP_DEFINE_CONST_DICT(umqtt_client_locals_dict, umqtt_client_locals_dict_table);

static MP_DEFINE_CONST_OBJ_TYPE(
    umqtt_client_type,
    MP_QSTR_MQTTClient,
    MP_TYPE_FLAG_NONE,
    make_new, umqtt_client_make_new,
    print, umqtt_client_print,
    locals_dict, &umqtt_client_locals_dict
    );

static const mp_rom_map_elem_t umqtt_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_umqtt) },
    { MP_ROM_QSTR(MP_QSTR_MQTTClient), MP_ROM_PTR(&umqtt_client_type) },
    { MP_ROM_QSTR(MP_QSTR_MQTTException), MP_ROM_PTR(&mp_type_MQTTException) },
};
static MP_DEFINE_CONST_DICT(umqtt_module_globals, umqtt_module_globals_table);

const mp_obj_module_t umqtt_user_cmodule = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&umqtt_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_umqtt, umqtt_user_cmodule);
