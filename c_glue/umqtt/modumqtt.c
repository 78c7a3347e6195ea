// umqtt: a drop-in for QuecPython's MQTT client whose protocol runs in Rust.
//
// The Rust core behind qpy_rust.h owns every piece of protocol state: packets,
// the session, in-flight messages, requests, the subscription table, the
// reconnect policy and the link state. This file converts arguments, moves
// bytes between the port's socket and the core, holds the client's lock,
// calls the user's callbacks and raises exceptions. It never reads a packet.
//
// Threads (QuecPython runs with the GIL on): every blocking wait releases the
// GIL and the client's lock; no Python callback runs while the lock is held;
// a buffer a script can mutate is copied before anything may release the GIL.

#include <stddef.h>
#include <string.h>

#include "py/runtime.h"
#include "py/builtin.h"
#include "py/stream.h"
#include "py/mphal.h"
#include "py/mperrno.h"
#include "py/objstr.h"
#if MICROPY_PY_THREAD
#include "py/mpthread.h"
#endif

#include "qpy_rust.h"

#define RX_BUF_DEFAULT (512)
#define TX_BUF_DEFAULT (256)
#define CONNECT_TIMEOUT_MS (20000)
#define ACK_TIMEOUT_MS (5000)
// A write holds the lock, so every other call waits while it blocks: a
// packet the peer has not taken within WRITE_TIMEOUT_MS plus one second per
// WRITE_MIN_RATE bytes (a big payload on a poor cellular uplink still goes)
// means a lost link: it stopped reading, or takes a byte now and then; so
// does a write that moves no byte for WRITE_TIMEOUT_MS.
#define WRITE_TIMEOUT_MS (5000)
// The socket's timeout once logged in: one blocking write call that fills
// the room a poll reported returns within it, so "no byte moved" is seen
// at most this late (a 5 s socket timeout made a stalled big packet a lost
// link only after ~10 s). Partial counts still end each call early while
// bytes move. Not over TLS: there one read or write call moves a whole
// record, and a record paused over 1 s mid-way would fail the link
// (tests/tls/test_tls_record_pause.py); TLS keeps WRITE_TIMEOUT_MS.
#define WRITE_CALL_TIMEOUT_S (1)
#define WRITE_MIN_RATE (2048)
#define KEEPER_PERIOD_MS (1000)
// Waits poll the socket in slices: another thread may take the bytes a
// waiter waits for, and there is no portable way to wake it.
#define WAIT_SLICE_MS (500)
#define WAIT_SLICE_SHARED_MS (50)
#define REPORTS_MAX (8)

// A port whose RTOS mutexes must be deleted defines this (QuecPython's).
#ifndef UMQTT_MUTEX_DEINIT
#define UMQTT_MUTEX_DEINIT(m) (void)(m)
#endif

// The Rust session lives inside the MicroPython object (GC memory is 8-byte
// aligned on every port we build for).
typedef char umqtt_session_size_matches[sizeof(umqtt_session) == UMQTT_SESSION_SIZE ? 1 : -1];
typedef char umqtt_session_align_fits[UMQTT_SESSION_ALIGN <= 8 ? 1 : -1];
typedef char umqtt_reply_fits[UMQTT_REPLY_MAX <= 8 ? 1 : -1];

// What the error callback is told. QuecPython's own reports come first; the
// others reach only a callback registered with error_register_cb(f, True),
// so that a script written for QuecPython never sees a string it does not
// know.
enum {
    REP_RECONNECT_START,
    REP_RECONNECT_SUCCESS,
    REP_LINK_LOST, // reconn=False: str(OSError(lost_errno)), as QuecPython's ping thread
    REP_PING_DEAD, // reconn=False: QuecPython's words for an unanswered ping
    REP_FIRST_DETAIL,
    REP_RECONNECT_STOP = REP_FIRST_DETAIL,
    REP_PING_TIMEOUT,
    REP_PUB_OFFLINE,
    REP_PUB_QUEUE_FULL,
    REP_PUB_INFLIGHT_FULL,
    REP_PUB_NO_ACK,
    REP_PUB_NETWORK,
    REP_SUB_REFUSED,
    REP_EXCEPTION, // str() of report_exc
};

// The texts in REP_* order, each ended by its NUL (REP_LINK_LOST's is
// empty): one string, no table of pointers.
static const char report_texts[] =
    "reconnect_start\0"
    "reconnect_success\0"
    "\0" // REP_LINK_LOST
    "Send ping timeout.\0"
    "reconnect_stop: connection refused\0"
    "ping timeout: server not answering\0"
    "publish: offline, QoS 0 message not sent\0"
    "publish: offline queue full, message not kept\0"
    "publish: too many messages awaiting acknowledgement\0"
    "publish: no acknowledgement in time; kept for retransmission\0"
    "publish: network error\0"
    "subscribe failed: the server refused the topic";

// The background thread's handle. The thread holds it, not the client: an
// unreachable client is collected, and its finaliser tells the thread.
typedef struct _umqtt_keeper_t {
    mp_obj_base_t base;
    uintptr_t client; // ~pointer: invisible to the GC
    mp_obj_t sock;    // the client's stream, closed by the thread once orphaned
    mp_obj_t ipoll;   // its bound ipoll: the thread waits for data with it
    mp_obj_t sleep_ms;
    bool wait_for_data;
    volatile uint8_t state;
} umqtt_keeper_t;

enum { KEEPER_RUNNING, KEEPER_STOPPED, KEEPER_ORPHANED };

// The order is for code size: Thumb-2 reaches a byte field at offsets up to
// 31 and a word field up to 124 with a 2-byte instruction (4 bytes beyond),
// so the small fields come first, the words most used next, the session and
// the in-flight table last.
typedef struct _umqtt_client_obj_t {
    mp_obj_base_t base;
    uint8_t callers;
    // bumped by disconnect(): a wait_msg() blocked across it returns None,
    // also when connect() came before it woke
    uint8_t disconnects;
    // reconn=False: a lost link the keeper still has to report (REP_*); why: lost_errno
    uint8_t lost_report;
    uint8_t n_reports, queue_size;
    bool ssl, reconn, has_password, session_present;
    // error_register_cb(f, True); disconnect() called (wait_msg returns None)
    bool detailed_reports, disconnected, manage, ipv6;
    // CONNECT's fixed options, in umqtt_connect_options' layout: copied as one
    struct {
        uint16_t keepalive;
        uint8_t version, will_qos;
        bool will_retain, clean_session;
        uint8_t pingmaxnum;
    } connect;
    uint16_t port;
    // error-callback reports made under the lock, told once it is released
    uint8_t reports[REPORTS_MAX];
    // the stream we read and write (TLS or TCP), the TCP socket, its ipoll
    mp_obj_t sock, tcp, ipoll;
    // receive buffer: bytes [rx_start, rx_end) are received, not yet parsed
    uint8_t *rx;
    size_t rx_cap, rx_start, rx_end;
    uint8_t *tx;
    size_t tx_cap;
    // bumped for every new link: a reply or wait spanning a relink is stale
    uint32_t link_id;
    // packets handled by any thread: wait_msg returns once it moves
    uint32_t packets_handled;
    umqtt_keeper_t *keeper;
    // the subscription table (layout private to the Rust core)
    uint8_t *subs;
    size_t subs_cap;
    mp_obj_t callback, error_callback;
    // a stream the script connected us over (connect(sock=...)), else NULL
    mp_obj_t given_stream;
    // why the last link was lost: an errno, or a core status (protocol error)
    int last_errno;
    int32_t last_status;
    int lost_errno;
    mp_obj_t report_exc;
    // attributes a script set on the client (QuecPython's is a Python
    // object), created with the first one
    mp_obj_t attrs;
    // our own copy of the password, wiped when replaced or finalised
    uint8_t *password;
    size_t password_len;
    // its value when a script call last returned: packets the background
    // thread handled since (a PINGRESP after ping()) count for the next
    // wait_msg, as they would wait in QuecPython's socket
    uint32_t packets_seen;
    // connection parameters, as given (str or bytes)
    mp_obj_t client_id, server, user, ssl_params, will_topic, will_msg;
    // returns (client_id, user, password) before every CONNECT, or None
    mp_obj_t credentials_callback;
    #if MICROPY_PY_THREAD
    mp_thread_mutex_t mutex;
    #endif
    // topic and payload of each in-flight QoS 1/2 message, for retransmission
    mp_obj_t inflight[UMQTT_MAX_INFLIGHT][2];
    umqtt_session session;
} umqtt_client_obj_t;

// connect: each field where umqtt_connect_options has it, from keep_alive_s on
#define CONNECT_AT(member, field) \
    (offsetof(umqtt_connect_options, member) - offsetof(umqtt_connect_options, keep_alive_s) \
    == offsetof(umqtt_client_obj_t, connect.field) - offsetof(umqtt_client_obj_t, connect))
typedef char connect_layout_matches[CONNECT_AT(protocol_level, version) && CONNECT_AT(will_qos, will_qos)
    && CONNECT_AT(will_retain, will_retain) && CONNECT_AT(clean_session, clean_session)
    && CONNECT_AT(ping_max_unanswered, pingmaxnum)
    && sizeof(((umqtt_client_obj_t *)0)->connect) == sizeof(umqtt_connect_options) - offsetof(umqtt_connect_options, keep_alive_s)
    ? 1 : -1];

MP_DEFINE_EXCEPTION(MQTTException, ValueError)

// MP_NOINLINE below, on helpers off the publish path: gcc -Os copies them
// into each caller, which measured larger with the vendor flags (make quectel).

static uint32_t now_ms(void) {
    return (uint32_t)mp_hal_ticks_ms();
}

static MP_NOINLINE int8_t status(umqtt_client_obj_t *self) {
    return umqtt_status(&self->session);
}

static MP_NOINLINE bool can_reconnect(umqtt_client_obj_t *self) {
    return self->reconn && self->given_stream == MP_OBJ_NULL;
}

/******************************************************************************/
// Locking and reporting.

static void lock_raw(umqtt_client_obj_t *self) {
    #if MICROPY_PY_THREAD
    if (!mp_thread_mutex_lock(&self->mutex, 0)) {
        // the holder may be waiting for the GIL: never block with it
        MP_THREAD_GIL_EXIT();
        mp_thread_mutex_lock(&self->mutex, 1);
        MP_THREAD_GIL_ENTER();
    }
    #else
    (void)self;
    #endif
}

static MP_NOINLINE void unlock_raw(umqtt_client_obj_t *self) {
    #if MICROPY_PY_THREAD
    mp_thread_mutex_unlock(&self->mutex);
    #else
    (void)self;
    #endif
}

static bool is_instance_of(mp_obj_t obj, const mp_obj_type_t *type) {
    return mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(obj)), MP_OBJ_FROM_PTR(type));
}

// KeyboardInterrupt and SystemExit: never swallowed.
static bool goes_through(mp_obj_t exc) {
    return is_instance_of(exc, &mp_type_KeyboardInterrupt) || is_instance_of(exc, &mp_type_SystemExit);
}

// Exceptions from user callbacks are printed, never kill the client; only
// KeyboardInterrupt and SystemExit go through.
static void callback_failed(void *exc) {
    mp_obj_t exc_obj = MP_OBJ_FROM_PTR(exc);
    if (goes_through(exc_obj)) {
        nlr_jump(exc);
    }
    mp_printf(&mp_plat_print, "umqtt: callback raised: ");
    mp_obj_print_exception(&mp_plat_print, exc_obj);
}

static void report(umqtt_client_obj_t *self, uint8_t code) {
    if (code >= REP_FIRST_DETAIL && !self->detailed_reports) {
        return;
    }
    if (self->n_reports < REPORTS_MAX) {
        self->reports[self->n_reports++] = code;
    }
}

// reconn=False: a lost link is told from the background thread, as
// QuecPython's ping thread does (from the script's call without threads).
static MP_NOINLINE void report_lost_link(umqtt_client_obj_t *self) {
    if (self->lost_report != 0) {
        report(self, self->lost_report);
        self->lost_report = 0;
    }
}

// Releases the lock, then tells the error callback what happened meanwhile.
static void unlock(umqtt_client_obj_t *self) {
    if (self->keeper == NULL) {
        report_lost_link(self);
    }
    mp_obj_t exc = self->report_exc;
    self->report_exc = MP_OBJ_NULL;
    size_t n = self->n_reports;
    if (n == 0) {
        unlock_raw(self); // the common case: nothing to tell
        return;
    }
    uint8_t codes[REPORTS_MAX];
    memcpy(codes, self->reports, n);
    self->n_reports = 0;
    mp_obj_t cb = self->error_callback;
    int lost_errno = self->lost_errno;
    unlock_raw(self);
    for (size_t i = 0; i < n && cb != mp_const_none; i++) {
        nlr_buf_t nlr;
        if (nlr_push(&nlr) == 0) {
            mp_obj_t arg;
            if (codes[i] == REP_EXCEPTION || codes[i] == REP_LINK_LOST) {
                // str() of the exception
                arg = codes[i] == REP_EXCEPTION ? exc
                    : mp_obj_new_exception_arg1(&mp_type_OSError, MP_OBJ_NEW_SMALL_INT(lost_errno));
                arg = mp_call_function_1(MP_OBJ_FROM_PTR(&mp_type_str), arg);
            } else {
                const char *text = report_texts;
                for (uint8_t skip = codes[i]; skip > 0; skip--) {
                    while (*text++ != '\0') {
                    }
                }
                arg = mp_obj_new_str_from_cstr(text);
            }
            mp_call_function_1(cb, arg);
            nlr_pop();
        } else {
            callback_failed(nlr.ret_val);
        }
    }
}

// A received PUBLISH: what the callback is given, and the reply that
// acknowledges it once the callback returned.
typedef struct {
    mp_obj_t topic, msg;
    uint8_t reply[UMQTT_REPLY_MAX];
    size_t reply_len;
    uint32_t link_id;
    uint16_t packet_id;
    uint8_t qos;
} delivery_t;

// Calls fun with the client unlocked (blocking calls, user callbacks) and
// locks it again, also when fun raises. msg: the message whose callback fun
// is, else NULL; a callback's exception is printed.
// n: the positional arguments' count, plus the keyword ones' times 256 (one
// register argument fewer at each call).
static mp_obj_t call_unlocked(umqtt_client_obj_t *self, mp_obj_t fun, size_t n, const mp_obj_t *args,
    const delivery_t *msg) {
    // a user callback does not read the link: meanwhile the keeper keeps it
    // alive (msg is not changed after nlr_push: still valid after a raise)
    bool reading = msg != NULL;
    self->callers -= reading;
    unlock_raw(self);
    mp_obj_t result = mp_const_none;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        result = mp_call_function_n_kw(fun, n & 0xff, n >> 8, args);
        nlr_pop();
    } else {
        mp_obj_t exc = MP_OBJ_FROM_PTR(nlr.ret_val);
        if (msg == NULL || goes_through(exc)) {
            lock_raw(self);
            self->callers += reading;
            // KeyboardInterrupt, SystemExit: the message is not taken, not
            // acknowledged; the server's redelivery is a new message, not a duplicate
            if (msg != NULL && msg->qos == 2) {
                umqtt_inbound_forget(&self->session, msg->packet_id);
            }
            nlr_jump(nlr.ret_val);
        }
        callback_failed(nlr.ret_val);
        result = mp_const_none;
    }
    lock_raw(self);
    self->callers += reading;
    return result;
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

// time.sleep_ms (QuecPython: utime.sleep_ms)
static MP_NOINLINE mp_obj_t sleep_ms_fun(void) {
    return mp_load_attr(import_first(MP_QSTR_time, MP_QSTR_utime), MP_QSTR_sleep_ms);
}

static void sleep_unlocked(umqtt_client_obj_t *self, uint32_t ms) {
    mp_obj_t arg = MP_OBJ_NEW_SMALL_INT(ms);
    call_unlocked(self, sleep_ms_fun(), 1, &arg, NULL);
}

/******************************************************************************/
// Arguments.

// obj: str or bytes (check_text, check_payload), None or MP_OBJ_NULL; read
// directly, not through the buffer protocol (twice per publish).
static umqtt_slice slice_of(mp_obj_t obj) {
    umqtt_slice s = { NULL, 0 };
    if (obj != mp_const_none && obj != MP_OBJ_NULL) {
        s.ptr = (const uint8_t *)mp_obj_str_get_data(obj, &s.len);
    }
    return s;
}

static mp_obj_t check_text(mp_obj_t obj, bool none_ok) {
    if ((none_ok && obj == mp_const_none) || mp_obj_is_str_or_bytes(obj)) {
        return obj;
    }
    mp_raise_TypeError(MP_ERROR_TEXT("expected str or bytes"));
}

// A payload a script can change (bytearray, memoryview, array) is frozen
// into bytes first: the socket may release the GIL while reading it.
static mp_obj_t check_payload(mp_obj_t obj) {
    if (mp_obj_is_str_or_bytes(obj)) {
        return obj;
    }
    mp_buffer_info_t bufinfo;
    if (!mp_get_buffer(obj, &bufinfo, MP_BUFFER_READ)) {
        mp_raise_TypeError(MP_ERROR_TEXT("message must be str, bytes or a buffer"));
    }
    return mp_obj_new_bytes(bufinfo.buf, bufinfo.len);
}

static mp_int_t check_qos(mp_int_t qos) {
    if (qos < 0 || qos > 2) {
        mp_raise_ValueError(MP_ERROR_TEXT("qos must be 0, 1 or 2"));
    }
    return qos;
}

// "<name> must be lo..hi": one message for the constructor's ranges.
static mp_int_t check_range(mp_int_t value, qstr name, mp_int_t lo, mp_int_t hi) {
    if (value < lo || value > hi) {
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%q must be %d..%d"), name, (int)lo, (int)hi);
    }
    return value;
}

static mp_obj_t check_callable(mp_obj_t f) {
    if (f != mp_const_none && !mp_obj_is_callable(f)) {
        mp_raise_TypeError(MP_ERROR_TEXT("callback must be callable"));
    }
    return f;
}

static void wipe_password(umqtt_client_obj_t *self) {
    if (self->password != NULL) {
        memset(self->password, 0, self->password_len);
        m_del(uint8_t, self->password, self->password_len);
    }
    self->password = NULL;
    self->password_len = 0;
    self->has_password = false;
}

static void set_password(umqtt_client_obj_t *self, mp_obj_t obj) {
    umqtt_slice s = slice_of(check_text(obj, true));
    uint8_t *copy = s.len ? m_new(uint8_t, s.len) : NULL;
    if (s.len) {
        memcpy(copy, s.ptr, s.len);
    }
    wipe_password(self);
    self->password = copy;
    self->password_len = s.len;
    self->has_password = obj != mp_const_none;
}

static NORETURN void raise_status(int32_t st) {
    if (st == UMQTT_ERR_NOT_CONNECTED) {
        mp_raise_OSError(MP_ENOTCONN);
    }
    mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%s"), umqtt_status_message(st));
}

// One plain str argument: str(e) is the message, as QuecPython's.
static NORETURN void raise_protocol_error(int32_t st) {
    mp_raise_msg_varg(&mp_type_MQTTException, MP_ERROR_TEXT("%s"), umqtt_status_message(st));
}

static NORETURN void raise_offline(umqtt_client_obj_t *self) {
    if (self->last_status != UMQTT_OK) {
        raise_protocol_error(self->last_status);
    }
    mp_raise_OSError(self->last_errno ? self->last_errno : MP_ENOTCONN);
}

/******************************************************************************/
// The link. Network failures are state, not exceptions: a failed read or
// write closes the link and tells the core, and the caller looks at the
// status.

static void close_quietly(mp_obj_t stream) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_stream_close(stream);
        nlr_pop();
    }
}

// Every stream is closed exactly once: unix sockets do not forget their fd
// on close, and a second close may hit a newer socket's.
static MP_NOINLINE void set_link(umqtt_client_obj_t *self, mp_obj_t sock, mp_obj_t tcp, mp_obj_t ipoll) {
    self->sock = sock;
    self->tcp = tcp;
    self->ipoll = ipoll;
    if (self->keeper != NULL) {
        // the script's own stream (connect(sock=)) is the script's to close
        self->keeper->sock = sock == self->given_stream ? MP_OBJ_NULL : sock;
        self->keeper->ipoll = ipoll;
    }
    self->rx_start = self->rx_end = 0;
    self->link_id++;
}

static void close_link(umqtt_client_obj_t *self) {
    mp_obj_t sock = self->sock;
    if (sock != MP_OBJ_NULL) {
        set_link(self, MP_OBJ_NULL, MP_OBJ_NULL, MP_OBJ_NULL);
        close_quietly(sock);
    }
}

static void link_lost(umqtt_client_obj_t *self, int err) {
    bool was_up = status(self) == UMQTT_STA_CONNECTED;
    self->last_errno = err;
    self->last_status = UMQTT_OK;
    close_link(self);
    if (umqtt_link_lost(&self->session, now_ms())) {
        report(self, REP_RECONNECT_START);
    } else if (was_up) {
        // no reconnect follows: the keeper tells the error callback
        self->lost_errno = err;
        self->lost_report = REP_LINK_LOST;
    }
}

static bool writable(umqtt_client_obj_t *self) {
    int err;
    mp_uint_t ret = mp_get_stream(self->sock)->ioctl(self->sock, MP_STREAM_POLL, MP_STREAM_POLL_WR, &err);
    // an error or hang-up is "writable": the write reports it
    return ret == MP_STREAM_ERROR || (ret & (MP_STREAM_POLL_WR | MP_STREAM_POLL_ERR | MP_STREAM_POLL_HUP)) != 0;
}

// Writes a whole packet; its limits count from start, a clock read just
// before with nothing in between that blocks or releases the GIL.
// The limits are kept here, not by the socket's timeout: a port may restart
// a blocked write after a signal (the unix port's GC signals every thread)
// with a fresh timeout. A write is made only when the socket has room, so it
// returns having taken some bytes; the wait for room keeps the lock (the
// packet is not finished) and releases the GIL.
// Writes until the packet is out or a limit is reached; returns the bytes
// left (0: all written). Its own frame, outside write_all_since's nlr one:
// `buf` and `len` change on every write and must not live across that
// setjmp (-Wclobbered).
static MP_NOINLINE size_t write_loop(umqtt_client_obj_t *self, const uint8_t *buf, size_t len, uint32_t start, int *err) {
    uint32_t moved = start;
    uint32_t limit = WRITE_TIMEOUT_MS + (uint32_t)(len / WRITE_MIN_RATE) * 1000;
    // The limits are checked after each attempt, not before the first (no
    // time has passed since start), and not once the packet is out: a packet
    // the socket takes at once costs no clock read here.
    do {
        mp_uint_t n = MP_STREAM_ERROR;
        *err = MP_EAGAIN;
        if (writable(self)) {
            n = mp_get_stream(self->sock)->write(self->sock, buf, len, err);
        }
        if (n == MP_STREAM_ERROR && mp_is_nonblocking_error(*err)) {
            mp_obj_t arg = MP_OBJ_NEW_SMALL_INT(10);
            mp_call_function_1(sleep_ms_fun(), arg);
        } else if (n == MP_STREAM_ERROR || n == 0) {
            break;
        } else {
            buf += n;
            len -= n;
            if (len == 0) {
                break;
            }
            moved = now_ms();
        }
    } while (now_ms() - start < limit && now_ms() - moved < WRITE_TIMEOUT_MS);
    return len;
}

static bool write_all_since(umqtt_client_obj_t *self, const uint8_t *buf, size_t len, uint32_t start) {
    if (self->sock == MP_OBJ_NULL) {
        return false;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) != 0) {
        // raised mid-packet (KeyboardInterrupt in the port's retry): the
        // rest never goes, so the link cannot carry another packet
        link_lost(self, MP_EINTR);
        nlr_jump(nlr.ret_val);
    }
    int err;
    size_t left = write_loop(self, buf, len, start, &err);
    nlr_pop();
    if (left > 0) {
        link_lost(self, mp_is_nonblocking_error(err) ? MP_ETIMEDOUT : err);
        return false;
    }
    return true;
}

static bool write_all(umqtt_client_obj_t *self, const uint8_t *buf, size_t len) {
    return write_all_since(self, buf, len, now_ms());
}

static bool readable(umqtt_client_obj_t *self) {
    int err;
    mp_uint_t ret = mp_get_stream(self->sock)->ioctl(self->sock, MP_STREAM_POLL, MP_STREAM_POLL_RD, &err);
    // an error or hang-up is "readable": the read reports it
    return ret == MP_STREAM_ERROR || (ret & (MP_STREAM_POLL_RD | MP_STREAM_POLL_ERR | MP_STREAM_POLL_HUP)) != 0;
}

// Moves the unparsed bytes to the start of the receive buffer.
static MP_NOINLINE void rx_compact(umqtt_client_obj_t *self) {
    if (self->rx_start == 0) {
        return;
    }
    memmove(self->rx, self->rx + self->rx_start, self->rx_end - self->rx_start);
    self->rx_end -= self->rx_start;
    self->rx_start = 0;
}

// Reads what has arrived, without blocking. Returns bytes read; 0 also when
// the link was lost (the status tells).
static size_t fill_rx(umqtt_client_obj_t *self) {
    if (self->sock == MP_OBJ_NULL || !readable(self)) {
        return 0;
    }
    if (self->rx_start == self->rx_end || self->rx_end == self->rx_cap) {
        rx_compact(self);
    }
    if (self->rx_end == self->rx_cap) {
        return 0; // a packet announced larger: the parser sized the buffer
    }
    int err;
    mp_uint_t n;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        n = mp_get_stream(self->sock)->read(self->sock, self->rx + self->rx_end, self->rx_cap - self->rx_end, &err);
        nlr_pop();
    } else {
        // MicroPython's tls raises (mbedtls 2: OSError(ETIMEDOUT) for a
        // record stalled mid-way) where a socket returns an error: the
        // stream is dead either way, and the keeper would swallow the raise
        mp_obj_t exc = MP_OBJ_FROM_PTR(nlr.ret_val);
        mp_obj_t value = mp_obj_exception_get_value(exc);
        bool os_error = is_instance_of(exc, &mp_type_OSError) && mp_obj_is_small_int(value);
        // MicroPython's tls lets go of its TCP socket before it raises its
        // own error: closing the TLS stream no longer closes that one
        mp_obj_t dropped = self->tcp != self->sock ? self->tcp : MP_OBJ_NULL;
        int lost = is_instance_of(exc, &mp_type_MemoryError) ? MP_ENOMEM : MP_EIO;
        link_lost(self, os_error ? MP_OBJ_SMALL_INT_VALUE(value) : lost);
        if (goes_through(exc)) {
            nlr_jump(nlr.ret_val);
        }
        if (dropped != MP_OBJ_NULL) {
            close_quietly(dropped);
        }
        return 0;
    }
    if (n == MP_STREAM_ERROR) {
        // lwIP reports the first read after a FIN as ENOTCONN: a close too
        if (!mp_is_nonblocking_error(err)) {
            link_lost(self, err);
        }
        return 0;
    }
    if (n == 0) {
        // what lwIP (QuecPython's stack) says of a read after the server's FIN
        link_lost(self, MP_ENOTCONN);
        return 0;
    }
    self->rx_end += n;
    umqtt_bytes_received(&self->session, now_ms());
    return n;
}

// Waits up to ms for the socket to become readable, unlocked.
static void wait_readable(umqtt_client_obj_t *self, uint32_t ms) {
    if (self->ipoll == MP_OBJ_NULL || readable(self)) {
        return;
    }
    uint32_t slice = self->callers > 1 ? WAIT_SLICE_SHARED_MS : WAIT_SLICE_MS;
    mp_obj_t arg = MP_OBJ_NEW_SMALL_INT(ms < slice ? ms : slice);
    // the bound ipoll keeps its poller (and socket) alive while we wait
    call_unlocked(self, self->ipoll, 1, &arg, NULL);
}

// Whether to call the core again: it said UMQTT_ERR_BUFFER_TOO_SMALL and
// the buffer grew to the size it asked for.
static MP_NOINLINE bool tx_grown(umqtt_client_obj_t *self, int32_t st, size_t size) {
    if (st != UMQTT_ERR_BUFFER_TOO_SMALL || size <= self->tx_cap) {
        return false;
    }
    self->tx = m_renew(uint8_t, self->tx, self->tx_cap, size);
    self->tx_cap = size;
    return true;
}

// Makes room for a packet of `size` bytes starting at rx_start, when the
// buffer is smaller.
static void rx_reserve(umqtt_client_obj_t *self, size_t size) {
    if (size <= self->rx_cap) {
        return;
    }
    rx_compact(self);
    uint8_t *bigger = m_renew_maybe(uint8_t, self->rx, self->rx_cap, size, true);
    if (bigger == NULL) {
        // a packet this heap cannot hold: drop the link, keep the client
        link_lost(self, MP_ENOMEM);
        if (can_reconnect(self)) {
            return; // the reconnect comes; the status tells the caller
        }
        mp_raise_msg_varg(&mp_type_OSError, MP_ERROR_TEXT("incoming packet of %u bytes does not fit in memory"),
            (unsigned)size);
    }
    self->rx = bigger;
    self->rx_cap = size;
}

// After a large packet, give the memory back.
static void rx_shrink(umqtt_client_obj_t *self) {
    if (self->rx_cap > RX_BUF_DEFAULT && self->rx_end - self->rx_start <= RX_BUF_DEFAULT) {
        rx_compact(self);
        self->rx = m_renew(uint8_t, self->rx, self->rx_cap, RX_BUF_DEFAULT);
        self->rx_cap = RX_BUF_DEFAULT;
    }
}

/******************************************************************************/
// Packets in.

enum { PKT_NONE, PKT_HANDLED, PKT_PUBLISH };

// Hands the receive buffer over as the payload of the PUBLISH at rx_start and
// starts a fresh buffer with whatever followed: one copy of a big message.
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

static void make_message(umqtt_client_obj_t *self, const umqtt_event *ev, delivery_t *d) {
    const uint8_t *buf = self->rx + self->rx_start;
    d->topic = mp_obj_new_bytes(buf + ev->topic_offset, ev->topic_len);
    if (self->rx_cap > RX_BUF_DEFAULT && ev->payload_len > RX_BUF_DEFAULT) {
        d->msg = take_rx_as_payload(self, ev);
    } else {
        d->msg = mp_obj_new_bytes(buf + ev->payload_offset, ev->payload_len);
        self->rx_start += ev->consumed;
    }
}

// Hands the buffered bytes to the core: one packet at most is taken.
static MP_NOINLINE int32_t receive(umqtt_client_obj_t *self, umqtt_event *ev, uint8_t *reply, size_t *reply_len) {
    return umqtt_receive(&self->session, self->subs, self->subs_cap, self->rx + self->rx_start,
        self->rx_end - self->rx_start, now_ms(), ev, reply, UMQTT_REPLY_MAX, reply_len);
}

// Parses one buffered packet. A PUBLISH to deliver comes back in *d (its
// reply is sent once the callback returned); everything else is done here.
static int handle_buffered(umqtt_client_obj_t *self, delivery_t *d, bool stop_at_publish) {
    if (self->sock == MP_OBJ_NULL || status(self) != UMQTT_STA_CONNECTED) {
        return PKT_NONE;
    }
    size_t avail = self->rx_end - self->rx_start;
    if (stop_at_publish && umqtt_next_is_publish(self->rx + self->rx_start, avail)) {
        return PKT_NONE;
    }
    umqtt_event ev;
    d->reply_len = 0;
    int32_t st = receive(self, &ev, d->reply, &d->reply_len);
    if (st != UMQTT_OK) {
        // a protocol violation: this link cannot be trusted any more
        link_lost(self, MP_EIO);
        self->last_status = st;
        return PKT_HANDLED;
    }
    if (ev.kind == UMQTT_EVENT_NEED_MORE) {
        rx_reserve(self, ev.packet_len);
        return PKT_NONE;
    }
    self->packets_handled++;
    d->link_id = self->link_id;
    d->packet_id = ev.packet_id;
    d->qos = ev.qos;
    if (ev.kind == UMQTT_EVENT_PUBLISH && !ev.duplicate) {
        nlr_buf_t nlr;
        if (nlr_push(&nlr) == 0) {
            make_message(self, &ev, d);
            nlr_pop();
        } else {
            // Not delivered (MemoryError): no acknowledgement, and the link
            // goes, so that the server sends the message again.
            if (ev.qos == 2) {
                umqtt_inbound_forget(&self->session, ev.packet_id);
            }
            link_lost(self, MP_ENOMEM);
            nlr_jump(nlr.ret_val);
        }
    } else {
        if (ev.kind == UMQTT_EVENT_PUBLISH_DONE && ev.slot < UMQTT_MAX_INFLIGHT) {
            self->inflight[ev.slot][0] = self->inflight[ev.slot][1] = MP_OBJ_NULL;
        } else if (ev.kind == UMQTT_EVENT_SUBACK && ev.refused > 0) {
            report(self, REP_SUB_REFUSED);
        }
        self->rx_start += ev.consumed;
        d->topic = MP_OBJ_NULL;
    }
    if (self->rx_start == self->rx_end) {
        rx_shrink(self);
    }
    if (d->topic != MP_OBJ_NULL) {
        return PKT_PUBLISH;
    }
    if (d->reply_len > 0) {
        write_all(self, d->reply, d->reply_len);
    }
    return PKT_HANDLED;
}

// The user's callback runs unlocked; the acknowledgement goes after it (a
// callback that dies means the server sends the message again).
static void deliver(umqtt_client_obj_t *self, delivery_t *d) {
    if (self->callback != mp_const_none) {
        mp_obj_t args[2] = { d->topic, d->msg };
        call_unlocked(self, self->callback, 2, args, d);
    }
    if (d->reply_len > 0 && self->link_id == d->link_id) {
        write_all(self, d->reply, d->reply_len);
    }
}

// Sends a due PINGREQ; a server that stopped answering loses the link.
// Returns the milliseconds until the keepalive needs attention again.
static uint32_t service_keepalive(umqtt_client_obj_t *self) {
    uint8_t out[8];
    size_t len = 0;
    uint32_t wait_ms = UINT32_MAX;
    int32_t action = umqtt_tick(&self->session, now_ms(), out, sizeof(out), &len, &wait_ms);
    if (action == UMQTT_TICK_SEND) {
        write_all(self, out, len);
    } else if (action == UMQTT_TICK_DEAD) {
        report(self, REP_PING_TIMEOUT);
        link_lost(self, MP_ETIMEDOUT);
        if (self->lost_report == REP_LINK_LOST) {
            self->lost_report = REP_PING_DEAD;
        }
    }
    return wait_ms;
}

typedef bool (*done_fn)(umqtt_client_obj_t *self, void *ctx);

enum { PUMP_DONE, PUMP_TIMEOUT, PUMP_OFFLINE };

// Handles packets (delivering messages) until done() or timeout_ms
// (UINT32_MAX: never), keeping the link alive. PUMP_OFFLINE: not connected.
static int pump_until(umqtt_client_obj_t *self, done_fn done, void *ctx, uint32_t timeout_ms) {
    uint32_t start = now_ms();
    for (;;) {
        if (done(self, ctx)) {
            return PUMP_DONE;
        }
        if (status(self) != UMQTT_STA_CONNECTED || self->sock == MP_OBJ_NULL) {
            return PUMP_OFFLINE;
        }
        delivery_t d;
        int got = handle_buffered(self, &d, false);
        if (got == PKT_PUBLISH) {
            deliver(self, &d);
        }
        if (got != PKT_NONE) {
            continue;
        }
        uint32_t wait_ms = service_keepalive(self);
        uint32_t elapsed = now_ms() - start;
        if (timeout_ms != UINT32_MAX) {
            if (elapsed >= timeout_ms) {
                return PUMP_TIMEOUT;
            }
            if (timeout_ms - elapsed < wait_ms) {
                wait_ms = timeout_ms - elapsed;
            }
        }
        if (fill_rx(self) == 0 && self->sock != MP_OBJ_NULL) {
            wait_readable(self, wait_ms);
            fill_rx(self);
        }
    }
}

// wait_msg(): a packet handled since `handled`, or a disconnect() since
// `disconnects` (then on a new link, if connect() followed at once)
typedef struct {
    uint32_t handled;
    uint8_t disconnects;
} wait_msg_t;

static bool wait_msg_done(umqtt_client_obj_t *self, void *ctx) {
    wait_msg_t *w = ctx;
    return self->packets_handled != w->handled || self->disconnects != w->disconnects;
}

/******************************************************************************/
// Logging in.

// ssl_params as QuecPython's ussl.wrap_socket and MicroPython's tls take
// them. Files are read here; a given CA always means verification.
static mp_obj_t read_file(mp_obj_t path) {
    mp_obj_t args[2] = { path, MP_OBJ_NEW_QSTR(MP_QSTR_rb) };
    mp_obj_t f = mp_call_function_n_kw(MP_OBJ_FROM_PTR(&mp_builtin_open_obj), 2, 0, args);
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        // f.read(): a bound method copies its arguments from a non-NULL
        // array, also when there are none (NULL is undefined behaviour)
        mp_obj_t data = mp_call_function_n_kw(mp_load_attr(f, MP_QSTR_read), 0, 0, args);
        nlr_pop();
        mp_stream_close(f);
        return data;
    }
    mp_stream_close(f);
    nlr_jump(nlr.ret_val);
}

// The options, in the order of ussl.wrap_socket's keywords (below).
enum { TLS_CA, TLS_CERT, TLS_KEY, TLS_CERT_REQS, TLS_HOSTNAME, TLS_N };

// ssl_params' keys: (data, file) for each option, then ca_certs (the CA
// when neither cadata nor cafile is given); 0: none. The constructor
// refuses any other key.
static const qstr_short_t tls_keys[TLS_N + 1][2] = {
    [TLS_CA] = { MP_QSTR_cadata, MP_QSTR_cafile },
    [TLS_CERT] = { MP_QSTR_cert, MP_QSTR_certfile },
    [TLS_KEY] = { MP_QSTR_key, MP_QSTR_keyfile },
    [TLS_CERT_REQS] = { MP_QSTR_cert_reqs, 0 },
    [TLS_HOSTNAME] = { MP_QSTR_server_hostname, 0 },
    [TLS_N] = { MP_QSTR_ca_certs, 0 },
};

// The value of key, MP_OBJ_NULL when absent or None.
static mp_obj_t tls_param(mp_map_t *params, qstr key) {
    mp_map_elem_t *elem = mp_map_lookup(params, MP_OBJ_NEW_QSTR(key), MP_MAP_LOOKUP);
    return elem == NULL || elem->value == mp_const_none ? MP_OBJ_NULL : elem->value;
}

// o[TLS_*]: MP_OBJ_NULL when not given. Files are read in this order.
static void tls_options(umqtt_client_obj_t *self, mp_obj_t *o) {
    mp_map_t *params = mp_obj_dict_get_map(self->ssl_params);
    for (size_t i = 0; i < TLS_N; i++) {
        // the data, else the file's contents
        o[i] = tls_param(params, tls_keys[i][0]);
        if (o[i] == MP_OBJ_NULL && tls_keys[i][1] != 0) {
            mp_obj_t file = tls_param(params, tls_keys[i][1]);
            if (file != MP_OBJ_NULL) {
                o[i] = read_file(file);
            }
        }
    }
    if (o[TLS_CA] == MP_OBJ_NULL) {
        o[TLS_CA] = tls_param(params, tls_keys[TLS_N][0]);
    }
    if (o[TLS_HOSTNAME] == MP_OBJ_NULL) {
        o[TLS_HOSTNAME] = self->server;
    }
    if ((o[TLS_CERT] == MP_OBJ_NULL) != (o[TLS_KEY] == MP_OBJ_NULL)) {
        mp_raise_ValueError(MP_ERROR_TEXT("ssl_params: cert and key go together"));
    }
}

#if MICROPY_PY_SSL
// MicroPython's tls module, where there is no ussl. Only a firmware built
// with MICROPY_PY_SSL has it (QuecPython's has ussl only).
static mp_obj_t wrap_tls_context(umqtt_client_obj_t *self, mp_obj_t tcp, const mp_obj_t *o) {
    mp_obj_t tls = mp_import_name(MP_QSTR_tls, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
    mp_obj_t ctx = mp_call_function_1(mp_load_attr(tls, MP_QSTR_SSLContext), mp_load_attr(tls, MP_QSTR_PROTOCOL_TLS_CLIENT));
    mp_obj_t required = mp_load_attr(tls, MP_QSTR_CERT_REQUIRED);
    mp_obj_t mode = o[TLS_CERT_REQS] != MP_OBJ_NULL ? o[TLS_CERT_REQS] : mp_load_attr(tls, MP_QSTR_CERT_NONE);
    if (o[TLS_CA] != MP_OBJ_NULL) {
        if (o[TLS_CERT_REQS] != MP_OBJ_NULL && !mp_obj_equal(o[TLS_CERT_REQS], required)) {
            mp_raise_ValueError(MP_ERROR_TEXT("ssl_params: a CA is given, so cert_reqs must be CERT_REQUIRED"));
        }
        mode = required;
    }
    mp_store_attr(ctx, MP_QSTR_verify_mode, mode);
    if (o[TLS_CA] != MP_OBJ_NULL) {
        mp_call_function_1(mp_load_attr(ctx, MP_QSTR_load_verify_locations), o[TLS_CA]);
    }
    if (o[TLS_CERT] != MP_OBJ_NULL) {
        mp_call_function_2(mp_load_attr(ctx, MP_QSTR_load_cert_chain), o[TLS_CERT], o[TLS_KEY]);
    }
    mp_obj_t args[3] = { tcp, MP_OBJ_NEW_QSTR(MP_QSTR_server_hostname), o[TLS_HOSTNAME] };
    return call_unlocked(self, mp_load_attr(ctx, MP_QSTR_wrap_socket), 1 + 256, args, NULL);
}
#endif

static mp_obj_t wrap_tls(umqtt_client_obj_t *self, mp_obj_t tcp) {
    mp_obj_t o[TLS_N];
    tls_options(self, o);
    #if MICROPY_PY_SSL
    mp_obj_t ussl = MP_OBJ_NULL;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        ussl = mp_import_name(MP_QSTR_ussl, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
        nlr_pop();
    }
    if (ussl == MP_OBJ_NULL) {
        return wrap_tls_context(self, tcp, o);
    }
    #else
    mp_obj_t ussl = mp_import_name(MP_QSTR_ussl, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
    #endif
    // QuecPython: ussl.wrap_socket(sock, keyfile=, certfile=, cert_reqs=, ca_certs=, server_hostname=)
    mp_obj_t args[1 + 2 * TLS_N] = { tcp };
    size_t n_kw = 0;
    static const qstr_short_t names[TLS_N] = {
        [TLS_CA] = MP_QSTR_ca_certs, [TLS_CERT] = MP_QSTR_certfile, [TLS_KEY] = MP_QSTR_keyfile,
        [TLS_CERT_REQS] = MP_QSTR_cert_reqs, [TLS_HOSTNAME] = MP_QSTR_server_hostname,
    };
    if (o[TLS_CA] != MP_OBJ_NULL && o[TLS_CERT_REQS] == MP_OBJ_NULL) {
        o[TLS_CERT_REQS] = MP_OBJ_NEW_SMALL_INT(2); // CERT_REQUIRED
    }
    for (size_t i = 0; i < TLS_N; i++) {
        if (o[i] != MP_OBJ_NULL) {
            args[1 + 2 * n_kw] = MP_OBJ_NEW_QSTR(names[i]);
            args[2 + 2 * n_kw] = o[i];
            n_kw++;
        }
    }
    return call_unlocked(self, mp_load_attr(ussl, MP_QSTR_wrap_socket), 1 + 256 * n_kw, args, NULL);
}

// getaddrinfo, unlocked. Its failure in QuecPython's words (ValueError).
static mp_obj_t resolve(umqtt_client_obj_t *self, mp_obj_t socket_mod) {
    mp_obj_t args[2] = { self->server, MP_OBJ_NEW_SMALL_INT(self->port) };
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t infos = call_unlocked(self, mp_load_attr(socket_mod, MP_QSTR_getaddrinfo), 2, args, NULL);
        nlr_pop();
        return infos;
    }
    if (!is_instance_of(MP_OBJ_FROM_PTR(nlr.ret_val), &mp_type_OSError)) {
        nlr_jump(nlr.ret_val);
    }
    mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("DNS Parsing '%s'"), mp_obj_str_get_str(self->server));
}

// Opens TCP (and TLS) to the server, unlocked where it blocks; closes what it
// opened when any step fails. link[0..2]: stream, TCP socket, bound ipoll.
// Always inlined into its one caller: gcc -Os kept it apart, measured 56 B
// larger with the vendor flags (and a deeper stack while it runs). Not where
// nlr_push is setjmp (the ASan build, some ports): gcc cannot inline that.
#if MICROPY_NLR_SETJMP
static void open_link(umqtt_client_obj_t *self, mp_obj_t link[3]) {
#else
static inline MP_ALWAYSINLINE void open_link(umqtt_client_obj_t *self, mp_obj_t link[3]) {
#endif
    mp_obj_t tcp = self->given_stream;
    bool own = tcp == MP_OBJ_NULL; // a given stream is the script's to close
    mp_obj_t fields[5];
    if (own) {
        mp_obj_t socket_mod = import_first(MP_QSTR_socket, MP_QSTR_usocket);
        mp_obj_t infos = resolve(self, socket_mod);
        size_t n_infos, n_fields = 0;
        mp_obj_t *all, *items = NULL;
        mp_obj_get_array(infos, &n_infos, &all);
        for (size_t i = 0; i < n_infos && n_fields == 0; i++) {
            mp_obj_get_array(all[i], &n_fields, &items);
            // ipvtype=1: the first IPv6 address (AF_INET6 is 10 on Linux and lwIP)
            if (n_fields < 5 || (self->ipv6 && !mp_obj_equal(items[0], MP_OBJ_NEW_SMALL_INT(10)))) {
                n_fields = 0;
            }
        }
        if (n_fields == 0) {
            mp_raise_ValueError(self->ipv6 ? MP_ERROR_TEXT("DNS Parsing IPV6 Fail") : MP_ERROR_TEXT("DNS Parsing NULL"));
        }
        // copied: `items` points inside the tuple, which the GC does not
        // count as a reference, and the calls below allocate
        memcpy(fields, items, sizeof(fields));
        tcp = mp_call_function_n_kw(mp_load_attr(socket_mod, MP_QSTR_socket), 3, 0, fields);
    }
    link[0] = link[1] = tcp;
    // from here link[1], not tcp: a local set before nlr_push and read after
    // it is one setjmp may clobber (-Wclobbered in the ASan build)
    // one frame for every step after the socket exists: a failure closes
    // the stream (the TLS one once there is one, which closes the TCP one)
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        if (own) {
            mp_obj_t timeout = MP_OBJ_NEW_SMALL_INT(CONNECT_TIMEOUT_MS / 1000);
            mp_call_function_1(mp_load_attr(link[1], MP_QSTR_settimeout), timeout);
            call_unlocked(self, mp_load_attr(link[1], MP_QSTR_connect), 1, &fields[4], NULL);
            // one packet per write leaves at once (IPPROTO_TCP 6, TCP_NODELAY 1 on Linux and lwIP)
            mp_obj_t opt[3] = { MP_OBJ_NEW_SMALL_INT(6), MP_OBJ_NEW_SMALL_INT(1), MP_OBJ_NEW_SMALL_INT(1) };
            mp_obj_t setsockopt = mp_load_attr(link[1], MP_QSTR_setsockopt);
            nlr_buf_t ignore;
            if (nlr_push(&ignore) == 0) {
                mp_call_function_n_kw(setsockopt, 3, 0, opt);
                nlr_pop();
            }
            if (self->ssl) {
                // checked before it is the stream to close: a failure closes
                // the TCP socket, not an object that has no close
                mp_obj_t tls = wrap_tls(self, link[1]);
                mp_get_stream_raise(tls, MP_STREAM_OP_READ | MP_STREAM_OP_WRITE | MP_STREAM_OP_IOCTL);
                link[0] = tls;
            }
            mp_obj_t call_timeout = MP_OBJ_NEW_SMALL_INT(self->ssl ? WRITE_TIMEOUT_MS / 1000 : WRITE_CALL_TIMEOUT_S);
            mp_call_function_1(mp_load_attr(link[1], MP_QSTR_settimeout), call_timeout);
        }
        mp_get_stream_raise(link[0], MP_STREAM_OP_READ | MP_STREAM_OP_WRITE | MP_STREAM_OP_IOCTL);
        mp_obj_t select_mod = import_first(MP_QSTR_select, MP_QSTR_uselect);
        mp_obj_t poller = mp_call_function_0(mp_load_attr(select_mod, MP_QSTR_poll));
        mp_call_function_2(mp_load_attr(poller, MP_QSTR_register), link[1], mp_load_attr(select_mod, MP_QSTR_POLLIN));
        link[2] = mp_load_attr(poller, MP_QSTR_ipoll);
        nlr_pop();
    } else {
        if (own) {
            close_quietly(link[0]);
        }
        nlr_jump(nlr.ret_val);
    }
}

// A login may be abandoned while it waits unlocked (close(), disconnect()).
static void check_still_logging_in(umqtt_client_obj_t *self, mp_obj_t opened) {
    if (status(self) != UMQTT_STA_CONNECTING) {
        if (opened != MP_OBJ_NULL && opened != self->given_stream) {
            close_quietly(opened);
        }
        mp_raise_OSError(MP_ENOTCONN);
    }
}

static void take_credentials(umqtt_client_obj_t *self) {
    if (self->credentials_callback == mp_const_none) {
        return;
    }
    // fresh credentials for every login (Huawei's hour-stamped passwords)
    // a non-NULL empty argument array: a bound method would memcpy from it
    mp_obj_t no_args[1] = { MP_OBJ_NULL };
    mp_obj_t got = call_unlocked(self, self->credentials_callback, 0, no_args, NULL);
    size_t n;
    mp_obj_t *creds;
    mp_obj_get_array(got, &n, &creds);
    if (n != 3) {
        mp_raise_ValueError(MP_ERROR_TEXT("credentials callback must return (client_id, user, password)"));
    }
    self->client_id = check_text(creds[0], false);
    self->user = check_text(creds[1], true);
    set_password(self, creds[2]);
}

static void send_connect(umqtt_client_obj_t *self) {
    umqtt_connect_options opts = {
        .client_id = slice_of(self->client_id),
        .username = slice_of(self->user),
        .password = { self->has_password ? (self->password ? self->password : (const uint8_t *)"") : NULL, self->password_len },
        .will_topic = slice_of(self->will_topic),
        .will_payload = slice_of(self->will_msg),
    };
    memcpy(&opts.keep_alive_s, &self->connect, sizeof(self->connect));
    if (opts.client_id.ptr == NULL) {
        opts.client_id.ptr = (const uint8_t *)"";
    }
    size_t len;
    int32_t st;
    // again once the buffer grew to the size the core asked for
    do {
        st = umqtt_connect(&self->session, &opts, now_ms(), self->tx, self->tx_cap, &len);
    } while (tx_grown(self, st, len));
    if (st != UMQTT_OK) {
        raise_status(st);
    }
    bool sent = write_all(self, self->tx, len);
    memset(self->tx, 0, len); // the password is in there
    if (!sent) {
        raise_offline(self);
    }
}

// Waits for CONNACK on the new link. Returns the session-present flag.
static bool await_connack(umqtt_client_obj_t *self) {
    uint32_t start = now_ms();
    uint32_t link = self->link_id;
    for (;;) {
        umqtt_event ev;
        uint8_t reply[UMQTT_REPLY_MAX];
        size_t reply_len;
        int32_t st = receive(self, &ev, reply, &reply_len);
        if (st == UMQTT_ERR_REFUSED) {
            // the code alone, as QuecPython's protocol layer; connect() words it
            nlr_raise(mp_obj_new_exception_arg1(&mp_type_MQTTException, MP_OBJ_NEW_SMALL_INT(ev.return_code)));
        }
        if (st != UMQTT_OK) {
            raise_protocol_error(st);
        }
        if (ev.kind == UMQTT_EVENT_CONNACK) {
            self->rx_start += ev.consumed;
            if (ev.reconnected) {
                report(self, REP_RECONNECT_SUCCESS);
            }
            return ev.session_present;
        }
        rx_reserve(self, ev.packet_len);
        uint32_t elapsed = now_ms() - start;
        if (elapsed >= CONNECT_TIMEOUT_MS) {
            mp_raise_OSError(MP_ETIMEDOUT);
        }
        if (fill_rx(self) == 0) {
            if (self->link_id != link || self->sock == MP_OBJ_NULL) {
                raise_offline(self);
            }
            wait_readable(self, CONNECT_TIMEOUT_MS - elapsed);
            check_still_logging_in(self, MP_OBJ_NULL);
            if (self->link_id != link) {
                raise_offline(self);
            }
        }
    }
}

// Subscriptions and unacknowledged messages, as the core lists them.
static void restore_session(umqtt_client_obj_t *self) {
    for (;;) {
        size_t len = 0;
        uint8_t slot = 0;
        int32_t action = umqtt_restore_next(&self->session, self->subs, self->subs_cap, now_ms(),
            self->tx, self->tx_cap, &len, &slot);
        if (tx_grown(self, action, len)) {
            continue;
        }
        if (action < 0) {
            raise_status(action);
        }
        if (action == UMQTT_RESTORE_DONE) {
            return;
        }
        umqtt_slice payload = { NULL, 0 };
        umqtt_publish_info info = { .len = len, .payload_included = true };
        if (action == UMQTT_RESTORE_RETRANSMIT) {
            umqtt_slice topic = slice_of(self->inflight[slot][0]);
            payload = slice_of(self->inflight[slot][1]);
            int32_t st;
            do {
                st = umqtt_retransmit(&self->session, slot, topic, payload, now_ms(), self->tx, self->tx_cap, &info);
            } while (tx_grown(self, st, info.len));
            if (st != UMQTT_OK) {
                raise_status(st);
            }
        }
        if (!write_all(self, self->tx, info.len)
            || (!info.payload_included && !write_all(self, payload.ptr, payload.len))) {
            raise_offline(self);
        }
    }
}

static void login_steps(umqtt_client_obj_t *self) {
    take_credentials(self);
    check_still_logging_in(self, MP_OBJ_NULL);
    mp_obj_t link[3] = { MP_OBJ_NULL, MP_OBJ_NULL, MP_OBJ_NULL };
    open_link(self, link);
    check_still_logging_in(self, link[0]);
    set_link(self, link[0], link[1], link[2]);
    send_connect(self);
    self->session_present = await_connack(self);
    restore_session(self);
}

// One login, script's or background's. Raises on failure, which the core has
// recorded (and, for a background attempt, scheduled the next one or stopped).
static void login(umqtt_client_obj_t *self, bool background) {
    int32_t st = umqtt_login_begin(&self->session, background);
    if (st != UMQTT_OK) {
        mp_raise_OSError(MP_EALREADY);
    }
    close_link(self);
    self->last_errno = 0;
    self->last_status = UMQTT_OK;
    self->lost_report = 0; // a loss not yet told is stale now
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        login_steps(self);
        nlr_pop();
        return;
    }
    mp_obj_t exc = MP_OBJ_FROM_PTR(nlr.ret_val);
    int8_t sta = status(self);
    if (sta == UMQTT_STA_CONNECTED) {
        // logged in, but the link failed while restoring the session
        link_lost(self, self->last_errno ? self->last_errno : MP_EIO);
    } else if (sta == UMQTT_STA_CONNECTING) {
        close_link(self);
        uint8_t code = 0;
        if (is_instance_of(exc, &mp_type_MQTTException)) {
            mp_obj_t value = mp_obj_exception_get_value(exc);
            if (mp_obj_is_small_int(value) && MP_OBJ_SMALL_INT_VALUE(value) > 0 && MP_OBJ_SMALL_INT_VALUE(value) < 256) {
                code = MP_OBJ_SMALL_INT_VALUE(value);
            }
        }
        if (umqtt_login_failed(&self->session, code, now_ms()) == UMQTT_RECONNECT_STOPPED && background) {
            report(self, REP_RECONNECT_STOP);
        }
    }
    if (background && !is_instance_of(exc, &mp_type_OSError) && !is_instance_of(exc, &mp_type_MQTTException)) {
        // a bad certificate (ValueError), MemoryError, a failing credentials
        // callback: told, and the next attempt still comes
        self->report_exc = exc;
        report(self, REP_EXCEPTION);
    }
    nlr_jump(nlr.ret_val);
}

// Ports without threads reconnect in the script's calls.
static void reconnect_inline(umqtt_client_obj_t *self) {
    if (self->keeper != NULL) {
        return;
    }
    for (;;) {
        uint32_t wait_ms = 0;
        int32_t due = umqtt_reconnect_poll(&self->session, now_ms(), &wait_ms);
        if (due == UMQTT_RECONNECT_NONE) {
            return;
        }
        if (due == UMQTT_RECONNECT_WAIT) {
            sleep_unlocked(self, wait_ms);
            continue;
        }
        nlr_buf_t nlr;
        if (nlr_push(&nlr) == 0) {
            login(self, true);
            nlr_pop();
            return;
        }
        // recorded by login(); the core says when to try again
    }
}

/******************************************************************************/
// The background thread: keepalive and reconnects while the script blocks,
// sleeps or does other work (as QuecPython's). It delivers no messages.

static MP_NOINLINE void stop_keeper(umqtt_client_obj_t *self) {
    if (self->keeper != NULL) {
        self->keeper->state = KEEPER_STOPPED;
        self->keeper = NULL;
    }
}


#if MICROPY_PY_THREAD
// The client while it lives. With the GIL, the GC cannot run between the
// check and the use; without it, the GC's mutex orders them.
static umqtt_client_obj_t *keeper_client(umqtt_keeper_t *k) {
    umqtt_client_obj_t *self = NULL;
    #if !MICROPY_PY_THREAD_GIL
    mp_thread_recursive_mutex_lock(&MP_STATE_MEM(gc_mutex), 1);
    #endif
    if (k->state == KEEPER_RUNNING) {
        self = (umqtt_client_obj_t *)~k->client;
    }
    #if !MICROPY_PY_THREAD_GIL
    mp_thread_recursive_mutex_unlock(&MP_STATE_MEM(gc_mutex));
    #endif
    return self;
}

static uint32_t keeper_work(umqtt_client_obj_t *self, umqtt_keeper_t *k) {
    // volatile: read after an exception unwinds (setjmp-based nlr)
    volatile uint32_t wait_ms = KEEPER_PERIOD_MS;
    k->wait_for_data = false;
    if (self->callers > 0 && status(self) == UMQTT_STA_CONNECTED) {
        // a script call is inside and reads for itself: do not contend for
        // the lock with it (reads without the lock: only a hint). A lost
        // link is the keeper's to bring back, whoever waits for it.
        return KEEPER_PERIOD_MS / 4;
    }
    lock_raw(self);
    if (k->state != KEEPER_RUNNING) {
        unlock_raw(self);
        return 0;
    }
    report_lost_link(self);
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        if (status(self) == UMQTT_STA_CONNECTED) {
            // only when no script call is inside: those read for themselves
            if (self->callers == 0) {
                while (self->rx_end < self->rx_cap && fill_rx(self) > 0) {
                }
                delivery_t d;
                while (handle_buffered(self, &d, true) == PKT_HANDLED) {
                }
                if (status(self) == UMQTT_STA_CONNECTED) {
                    wait_ms = service_keepalive(self);
                    // acknowledgements are handled as they come; a full
                    // buffer (a message waiting for the script) would not
                    // let the socket go quiet
                    k->wait_for_data = self->rx_end < self->rx_cap;
                }
            }
        } else if (status(self) == UMQTT_STA_CLOSED) {
            // refused for good, or a failed connect(): nothing to keep
            stop_keeper(self);
        } else {
            uint32_t due_ms = 0;
            int32_t due = umqtt_reconnect_poll(&self->session, now_ms(), &due_ms);
            if (due == UMQTT_RECONNECT_DUE) {
                login(self, true);
                wait_ms = 0;
            } else if (due == UMQTT_RECONNECT_WAIT) {
                wait_ms = due_ms;
            }
        }
        nlr_pop();
    } else {
        // a failed attempt was recorded and reported by login()
    }
    unlock(self);
    return wait_ms < 10 ? 10 : (wait_ms > KEEPER_PERIOD_MS ? KEEPER_PERIOD_MS : wait_ms);
}

// Not inlined: the client pointer lives only in this frame.
static MP_NOINLINE uint32_t keeper_step(umqtt_keeper_t *k) {
    umqtt_client_obj_t *volatile self = keeper_client(k);
    if (self == NULL) {
        return 0;
    }
    volatile uint32_t wait_ms = KEEPER_PERIOD_MS;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        wait_ms = keeper_work(self, k);
        nlr_pop();
    } else {
        // an error callback raised past its guard (KeyboardInterrupt)
        mp_obj_print_exception(&mp_plat_print, MP_OBJ_FROM_PTR(nlr.ret_val));
    }
    return wait_ms;
}

// Stale copies of the client pointer below the stack pointer are not
// scanned, but the frames of the wait reuse that memory uninitialised: wipe
// it so that an unreachable client is not kept alive by chance.
static MP_NOINLINE void keeper_scrub_stack(void) {
    volatile uint8_t wipe[1024];
    for (size_t i = 0; i < sizeof(wipe); i++) {
        wipe[i] = 0;
    }
}

static mp_obj_t keeper_thread(mp_obj_t k_in) {
    umqtt_keeper_t *k = MP_OBJ_TO_PTR(k_in);
    for (;;) {
        uint32_t wait_ms = keeper_step(k);
        keeper_scrub_stack();
        if (k->state != KEEPER_RUNNING) {
            break;
        }
        mp_obj_t arg = MP_OBJ_NEW_SMALL_INT(wait_ms);
        mp_obj_t ipoll = k->ipoll;
        if (k->wait_for_data && ipoll != MP_OBJ_NULL) {
            mp_call_function_1(ipoll, arg);
        } else {
            mp_call_function_1(k->sleep_ms, arg);
        }
    }
    if (k->state == KEEPER_ORPHANED && k->sock != MP_OBJ_NULL) {
        // the client was collected: its link goes with it
        close_quietly(k->sock);
    }
    k->sock = MP_OBJ_NULL;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(keeper_thread_obj, keeper_thread);
#endif

// Every connected client has one (also with keepalive=0 and reconn=False):
// besides keepalive and reconnects, it notices a lost link while the script
// does not call, and closes the link of a client that became unreachable.
static void start_keeper(umqtt_client_obj_t *self) {
    #if MICROPY_PY_THREAD
    // only the thread sees it: a plain object, no type (and name) of its own
    umqtt_keeper_t *k = mp_obj_malloc(umqtt_keeper_t, &mp_type_object);
    k->client = ~(uintptr_t)self;
    k->sock = self->sock == self->given_stream ? MP_OBJ_NULL : self->sock;
    k->ipoll = self->ipoll;
    k->state = KEEPER_RUNNING;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        k->sleep_ms = sleep_ms_fun();
        mp_obj_t thread = mp_import_name(MP_QSTR__thread, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
        mp_obj_t arg = MP_OBJ_FROM_PTR(k);
        mp_obj_t start_args[2] = { MP_OBJ_FROM_PTR(&keeper_thread_obj), mp_obj_new_tuple(1, &arg) };
        self->keeper = k;
        mp_call_function_n_kw(mp_load_attr(thread, MP_QSTR_start_new_thread), 2, 0, start_args);
        nlr_pop();
    } else {
        // no thread to be had: keepalive and reconnects happen in the calls
        k->state = KEEPER_STOPPED;
        self->keeper = NULL;
    }
    #else
    (void)self;
    #endif
}

/******************************************************************************/
// Running the script's calls.

typedef mp_obj_t (*op_fn)(umqtt_client_obj_t *self, void *ctx);

// Runs op with the lock held; the error callback and exceptions come after
// the lock is released.
static mp_obj_t run_locked(umqtt_client_obj_t *self, op_fn op, void *ctx) {
    lock_raw(self);
    self->callers++;
    mp_obj_t result = MP_OBJ_NULL;
    void *raised = NULL; // raised again once the lock is released
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        result = op(self, ctx);
        nlr_pop();
    } else {
        raised = nlr.ret_val;
    }
    self->callers--;
    self->packets_seen = self->packets_handled;
    unlock(self);
    if (raised != NULL) {
        nlr_jump(raised);
    }
    return result;
}

// Whether an operation may go on offline: the core reconnects (or queues).
static bool reconnecting(umqtt_client_obj_t *self) {
    int8_t sta = status(self);
    return can_reconnect(self) && (sta == UMQTT_STA_SERVER_CLOSED || sta == UMQTT_STA_CONNECTING);
}

// Raises when the link is down and does not come back by itself.
static void check_online(umqtt_client_obj_t *self) {
    if (status(self) != UMQTT_STA_CONNECTED && !reconnecting(self)) {
        raise_offline(self);
    }
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
    mp_int_t port = check_range(args[ARG_port].u_int, MP_QSTR_port, 0, 65535);
    mp_int_t pingmaxnum = check_range(args[ARG_pingmaxnum].u_int, MP_QSTR_pingmaxnum, 0, 255);
    mp_obj_t ssl_params = args[ARG_ssl_params].u_obj;
    if (ssl_params == mp_const_none) {
        ssl_params = mp_obj_new_dict(0);
    } else if (!mp_obj_is_type(ssl_params, &mp_type_dict)) {
        mp_raise_TypeError(MP_ERROR_TEXT("ssl_params must be a dict"));
    }
    // every key a QuecPython or MicroPython user passes; a typo is an error
    mp_map_t *params = mp_obj_dict_get_map(ssl_params);
    for (size_t i = 0; i < params->alloc; i++) {
        if (!mp_map_slot_is_filled(params, i)) {
            continue;
        }
        mp_obj_t key = params->table[i].key;
        if (!mp_obj_is_str(key)) {
            mp_raise_ValueError(MP_ERROR_TEXT("ssl_params: keys must be str"));
        }
        qstr name = mp_obj_str_get_qstr(key);
        const qstr_short_t *known = &tls_keys[0][0];
        size_t j = 0;
        while (j < 2 * (TLS_N + 1) && known[j] != name) {
            j++;
        }
        if (j == 2 * (TLS_N + 1)) {
            mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("ssl_params: unknown key '%s'"), mp_obj_str_get_str(key));
        }
    }
    mp_int_t queue_size = check_range(args[ARG_queue_size].u_int, MP_QSTR_queue_size, 0, UMQTT_MAX_INFLIGHT);
    mp_int_t ipvtype = args[ARG_ipvtype].u_int;
    if (ipvtype != 0 && ipvtype != 1) {
        mp_raise_ValueError(MP_ERROR_TEXT("ipvtype must be 0 (IPv4) or 1 (IPv6)"));
    }

    umqtt_client_obj_t *self = mp_obj_malloc_with_finaliser(umqtt_client_obj_t, type);
    memset((uint8_t *)self + sizeof(mp_obj_base_t), 0, sizeof(*self) - sizeof(mp_obj_base_t));
    #if MICROPY_PY_THREAD
    mp_thread_mutex_init(&self->mutex);
    #endif
    umqtt_session_init(&self->session, (uint32_t)mp_hal_ticks_us() ^ (uint32_t)(uintptr_t)self);
    // None: an empty client id, which QuecPython takes too
    self->client_id = check_text(args[ARG_client_id].u_obj, true);
    // the server name goes to getaddrinfo and to TLS SNI, which want str
    size_t len;
    const char *server = mp_obj_str_get_data(check_text(args[ARG_server].u_obj, false), &len);
    self->server = mp_obj_new_str(server, len);
    self->user = check_text(args[ARG_user].u_obj, true);
    set_password(self, args[ARG_password].u_obj);
    self->ssl_params = ssl_params;
    self->will_topic = mp_const_none;
    self->will_msg = mp_const_none;
    self->callback = mp_const_none;
    self->error_callback = mp_const_none;
    self->credentials_callback = mp_const_none;
    // sock, tcp, ipoll, given_stream, report_exc, attrs: MP_OBJ_NULL (0) from the memset
    self->ssl = args[ARG_ssl].u_bool;
    self->port = port ? port : (self->ssl ? 8883 : 1883);
    self->connect.keepalive = keepalive;
    self->connect.version = version;
    self->connect.pingmaxnum = pingmaxnum;
    self->reconn = args[ARG_reconn].u_bool;
    self->queue_size = queue_size;
    self->manage = args[ARG_manage].u_bool;
    self->ipv6 = ipvtype == 1;
    self->connect.clean_session = true;
    self->rx = m_new(uint8_t, RX_BUF_DEFAULT);
    self->rx_cap = RX_BUF_DEFAULT;
    self->tx = m_new(uint8_t, TX_BUF_DEFAULT);
    self->tx_cap = TX_BUF_DEFAULT;
    return MP_OBJ_FROM_PTR(self);
}

// The client is unreachable: its link and thread go, its secrets are wiped.
static mp_obj_t umqtt_client_del(mp_obj_t self_in) {
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->keeper != NULL) {
        // the thread may be using the stream: it closes it
        self->keeper->state = KEEPER_ORPHANED;
        self->keeper = NULL;
    } else if (self->sock != MP_OBJ_NULL && self->sock != self->given_stream) {
        // No other thread can run: close it now. (With threads every
        // connected client has its keeper: a socket's close releases the
        // GIL, which must not happen in the middle of the GC's sweep.)
        #if !MICROPY_PY_THREAD
        close_quietly(self->sock);
        #endif
    }
    self->sock = MP_OBJ_NULL;
    if (self->password != NULL) {
        memset(self->password, 0, self->password_len);
    }
    #if MICROPY_PY_THREAD
    UMQTT_MUTEX_DEINIT(&self->mutex);
    #endif
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(umqtt_client_del_obj, umqtt_client_del);

#ifdef UMQTT_TEST_HOOKS
// Test firmwares only (c_glue/umqtt/micropython.mk): where the secrets live,
// (tx address, tx capacity, password address, password length), so that a
// test can read those bytes (uctypes.bytes_at) and see them wiped.
static mp_obj_t umqtt_test_secret_buffers(mp_obj_t self_in) {
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_obj_t items[4] = {
        mp_obj_new_int_from_uint((uintptr_t)self->tx), mp_obj_new_int_from_uint(self->tx_cap),
        mp_obj_new_int_from_uint((uintptr_t)self->password), mp_obj_new_int_from_uint(self->password_len),
    };
    return mp_obj_new_tuple(4, items);
}
static MP_DEFINE_CONST_FUN_OBJ_1(umqtt_test_secret_buffers_obj, umqtt_test_secret_buffers);
#endif

static void umqtt_client_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    (void)kind;
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    // never the user name or password
    mp_printf(print, "<MQTTClient %s:%d state=%d>", mp_obj_str_get_str(self->server), (int)self->port, status(self));
}

static mp_obj_t umqtt_set_callback(mp_obj_t self_in, mp_obj_t f) {
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    self->callback = check_callable(f);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(umqtt_set_callback_obj, umqtt_set_callback);

// error_register_cb(f, detail=False): f gets QuecPython's reports; with
// detail=True also ours (publish and subscribe failures, ping timeouts,
// reconnect_stop, failed background logins), which QuecPython never sends.
static mp_obj_t umqtt_error_register_cb(size_t n_args, const mp_obj_t *args) {
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    self->error_callback = check_callable(args[1]);
    self->detailed_reports = n_args > 2 && mp_obj_is_true(args[2]);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(umqtt_error_register_cb_obj, 2, 3, umqtt_error_register_cb);

// set_credentials_cb(f): f() -> (client_id, user, password), called before
// every CONNECT. Not in QuecPython: a cloud module recomputes time-stamped
// credentials with it.
static mp_obj_t umqtt_set_credentials_cb(mp_obj_t self_in, mp_obj_t f) {
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    self->credentials_callback = check_callable(f);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(umqtt_set_credentials_cb_obj, umqtt_set_credentials_cb);

// publish() and set_last_will(): (topic, msg, retain=False, qos=0), parsed
// into args[MSG_TOPIC..MSG_QOS] as mp_arg_parse_all would, unchecked.
enum { MSG_TOPIC, MSG_MSG, MSG_RETAIN, MSG_QOS };
static MP_NOINLINE void parse_message_args(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args,
    mp_arg_val_t *args) {
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_topic, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_msg, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_retain, MP_ARG_BOOL, {.u_bool = false} },
        { MP_QSTR_qos, MP_ARG_INT, {.u_int = 0} },
    };
    if (kw_args->used == 0 && n_args >= 3 && n_args <= 5) {
        // the common positional call, without the argument parser (hot path)
        args[MSG_TOPIC].u_obj = pos_args[1];
        args[MSG_MSG].u_obj = pos_args[2];
        args[MSG_RETAIN].u_bool = n_args > 3 && mp_obj_is_true(pos_args[3]);
        args[MSG_QOS].u_int = n_args > 4 ? mp_obj_get_int(pos_args[4]) : 0;
    } else {
        mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    }
}

static mp_obj_t umqtt_set_last_will(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[4];
    parse_message_args(n_args, pos_args, kw_args, args);
    mp_int_t qos = args[MSG_QOS].u_int;
    // QuecPython asserts these two
    if (qos < 0 || qos > 2 || !mp_obj_is_true(args[MSG_TOPIC].u_obj)) {
        mp_raise_msg(&mp_type_AssertionError, MP_ERROR_TEXT("set_last_will: topic and qos 0..2"));
    }
    int32_t st = umqtt_check_topic_name(slice_of(check_text(args[MSG_TOPIC].u_obj, false)));
    if (st != UMQTT_OK) {
        raise_status(st);
    }
    self->connect.will_qos = qos;
    self->will_topic = args[MSG_TOPIC].u_obj;
    self->will_msg = check_payload(args[MSG_MSG].u_obj);
    self->connect.will_retain = args[MSG_RETAIN].u_bool;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(umqtt_set_last_will_obj, 1, umqtt_set_last_will);

typedef struct {
    mp_obj_t stream;
    bool clean_session;
} connect_args_t;

// Every failure of connect() as QuecPython words it: a ValueError whose one
// argument is the message (for a refusal the MQTTException subclass), with
// the errno as a number, as the target prints it.
static NORETURN void raise_connect_failure(mp_obj_t exc) {
    if (!is_instance_of(exc, &mp_type_Exception)) {
        nlr_jump(MP_OBJ_TO_PTR(exc)); // KeyboardInterrupt, SystemExit
    }
    const mp_obj_type_t *type = &mp_type_ValueError;
    const char *fail = "' FAIL";
    const char *tail = fail;
    mp_obj_t what = exc;
    mp_obj_t value = mp_obj_exception_get_value(exc);
    if (is_instance_of(exc, &mp_type_MQTTException)) {
        type = &mp_type_MQTTException;
        what = value;
    } else if (is_instance_of(exc, &mp_type_OSError) && mp_obj_is_small_int(value)) {
        mp_int_t err = MP_OBJ_SMALL_INT_VALUE(value);
        what = value;
        if (err == MP_ECONNRESET || err == MP_ECONNREFUSED) {
            tail = "' Server Actively RST Disconnected.Need Check addr&port";
        } else if (err == MP_ENOTCONN || err == MP_EINTR) {
            tail = "' Server Actively FIN Disconnected.Need Check Connection parameters";
        } else if (err == MP_ETIMEDOUT) {
            tail = "' Timeout.Need Check Network";
        }
    }
    vstr_t vstr;
    mp_print_t print;
    vstr_init_print(&vstr, 64, &print);
    // QuecPython's capital E goes with the three worded errnos
    mp_printf(&print, "MQTT Connect %crror='", tail == fail ? 'e' : 'E');
    mp_obj_print_helper(&print, what, PRINT_STR);
    mp_print_str(&print, tail);
    nlr_raise(mp_obj_new_exception_arg1(type, mp_obj_new_str_from_vstr(&vstr)));
}

static mp_obj_t connect_op(umqtt_client_obj_t *self, void *ctx) {
    connect_args_t *a = ctx;
    self->disconnected = false;
    self->connect.clean_session = a->clean_session;
    // sock=: log in over an already open stream (a custom transport, or an
    // in-memory one in tests); such a link is not reopened by reconn.
    self->given_stream = a->stream == mp_const_none ? MP_OBJ_NULL : a->stream;
    umqtt_set_auto_reconnect(&self->session, can_reconnect(self));
    // while the client reconnects (e.g. connect() from the error callback),
    // a failed connect() is one more attempt, not the end of reconnecting
    login(self, reconnecting(self));
    // a keeper still running (connect() again) goes on serving the new link
    if (self->keeper == NULL) {
        start_keeper(self);
    }
    return mp_const_none;
}

static mp_obj_t umqtt_connect_meth(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_clean_session, ARG_sock };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_clean_session, MP_ARG_BOOL, {.u_bool = true} },
        { MP_QSTR_sock, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    connect_args_t a = { args[ARG_sock].u_obj, args[ARG_clean_session].u_bool };
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        run_locked(self, connect_op, &a);
        nlr_pop();
    } else {
        raise_connect_failure(MP_OBJ_FROM_PTR(nlr.ret_val));
    }
    // QuecPython's 0; the session-present flag is the attribute session_present
    return MP_OBJ_NEW_SMALL_INT(0);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(umqtt_connect_obj, 1, umqtt_connect_meth);

typedef struct {
    mp_obj_t topic, msg;
    uint8_t qos, slot;
    uint16_t packet_id;
    bool retain;
} publish_args_t;

static bool publish_acked(umqtt_client_obj_t *self, void *ctx) {
    publish_args_t *a = ctx;
    return !umqtt_publish_pending(&self->session, a->slot, a->packet_id);
}

static mp_obj_t publish_op(umqtt_client_obj_t *self, void *ctx) {
    publish_args_t *a = ctx;
    reconnect_inline(self);
    if (status(self) == UMQTT_STA_CLOSED) {
        mp_raise_OSError(MP_ENOTCONN);
    }
    umqtt_slice topic = slice_of(a->topic);
    umqtt_slice payload = slice_of(a->msg);
    umqtt_publish_info info;
    uint32_t now;
    int32_t st;
    // again once the buffer grew to the size the core asked for
    do {
        now = now_ms();
        st = umqtt_publish(&self->session, topic, payload, a->qos, a->retain, self->queue_size, now,
            self->tx, self->tx_cap, &info);
    } while (tx_grown(self, st, info.len));
    switch (st) {
        case UMQTT_OK:
            break;
        case UMQTT_ERR_INFLIGHT_FULL:
            report(self, REP_PUB_INFLIGHT_FULL);
            return mp_const_false;
        case UMQTT_ERR_QUEUE_FULL:
            report(self, REP_PUB_QUEUE_FULL);
            return mp_const_false;
        case UMQTT_ERR_NOT_CONNECTED:
            report(self, reconnecting(self) ? REP_PUB_OFFLINE : REP_PUB_NETWORK);
            return mp_const_false;
        default:
            raise_status(st);
    }
    if (a->qos > 0) {
        a->slot = info.slot;
        a->packet_id = info.packet_id;
        self->inflight[a->slot][0] = a->topic;
        self->inflight[a->slot][1] = a->msg;
    }
    if (info.queued) {
        return mp_const_true;
    }
    // the clock the core was given starts the packet's write limit: one
    // clock read per publish
    bool sent = write_all_since(self, self->tx, info.len, now)
        && (info.payload_included || write_all(self, payload.ptr, payload.len));
    if (a->qos == 0 || !sent) {
        if (!sent && !(a->qos > 0 && reconnecting(self))) {
            report(self, REP_PUB_NETWORK);
            return mp_const_false;
        }
        // QoS 1/2 on a lost link: resent after the reconnect
        return mp_const_true;
    }
    switch (pump_until(self, publish_acked, a, ACK_TIMEOUT_MS)) {
        case PUMP_DONE:
            return mp_const_true;
        case PUMP_OFFLINE:
            // kept and resent by the reconnect; not when the script closed it
            if (reconnecting(self)) {
                return mp_const_true;
            }
            if (status(self) != UMQTT_STA_CLOSED) {
                report(self, REP_PUB_NETWORK);
            }
            return mp_const_false;
        default:
            report(self, REP_PUB_NO_ACK);
            return mp_const_false;
    }
}

// publish(topic, msg, retain=False, qos=0) -> True once sent (QoS 0) or
// acknowledged (QoS 1/2); False when it could not be (QuecPython reports
// instead of raising). Beware: publish(topic, msg, 1) sets retain, not qos,
// exactly as in QuecPython.
static mp_obj_t umqtt_publish_meth(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[4];
    parse_message_args(n_args, pos_args, kw_args, args);
    publish_args_t a = { .retain = args[MSG_RETAIN].u_bool };
    a.topic = check_text(args[MSG_TOPIC].u_obj, false);
    a.qos = check_qos(args[MSG_QOS].u_int);
    a.msg = check_payload(args[MSG_MSG].u_obj);
    return run_locked(self, publish_op, &a);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(umqtt_publish_obj, 1, umqtt_publish_meth);

typedef struct {
    mp_obj_t topic;
    int32_t result;
    uint16_t packet_id;
    uint8_t qos;
    bool subscribe;
} request_args_t;

static bool request_answered(umqtt_client_obj_t *self, void *ctx) {
    request_args_t *a = ctx;
    uint8_t granted = 0;
    a->result = umqtt_request_result(&self->session, a->packet_id, &granted);
    return a->result != UMQTT_REQUEST_PENDING;
}

static bool never(umqtt_client_obj_t *self, void *ctx) {
    (void)self;
    (void)ctx;
    return false;
}

static mp_obj_t request_op(umqtt_client_obj_t *self, void *ctx) {
    request_args_t *a = ctx;
    reconnect_inline(self);
    check_online(self);
    umqtt_slice filter = slice_of(a->topic);
    if (a->subscribe) {
        size_t needed = 0;
        int32_t st = umqtt_subs_reserve(self->subs, self->subs_cap, filter, &needed);
        if (st != UMQTT_OK) {
            raise_status(st);
        }
        if (needed > self->subs_cap) {
            self->subs = m_renew(uint8_t, self->subs, self->subs_cap, needed);
            memset(self->subs + self->subs_cap, 0, needed - self->subs_cap);
            self->subs_cap = needed;
        }
    }
    uint32_t start = now_ms();
    size_t len = 0;
    for (;;) {
        int32_t st = a->subscribe
            ? umqtt_subscribe(&self->session, self->subs, self->subs_cap, filter, a->qos, now_ms(),
                self->tx, self->tx_cap, &len, &a->packet_id)
            : umqtt_unsubscribe(&self->session, self->subs, self->subs_cap, filter, now_ms(),
                self->tx, self->tx_cap, &len, &a->packet_id);
        if (tx_grown(self, st, len)) {
            // again, with the buffer the core asked for
        } else if (st == UMQTT_ERR_PENDING_FULL && now_ms() - start < ACK_TIMEOUT_MS) {
            // as many requests wait as the core tracks: let answers come in
            pump_until(self, never, NULL, WAIT_SLICE_SHARED_MS);
        } else if (st != UMQTT_OK) {
            raise_status(st);
        } else {
            break;
        }
    }
    if (len == 0) {
        return mp_const_none; // offline: in the table, restored at the next login
    }
    int got = write_all(self, self->tx, len) ? pump_until(self, request_answered, a, ACK_TIMEOUT_MS) : PUMP_OFFLINE;
    if (got == PUMP_DONE && a->result == UMQTT_REQUEST_LOST) {
        got = PUMP_OFFLINE;
    }
    if (got == PUMP_TIMEOUT) {
        // no answer: the server is gone; the next login restores the table
        // (the request is forgotten below, as for any lost link)
        link_lost(self, MP_ETIMEDOUT);
        got = PUMP_OFFLINE;
    }
    if (got == PUMP_OFFLINE) {
        umqtt_request_forget(&self->session, a->packet_id);
        if (!reconnecting(self)) {
            raise_offline(self);
        }
    }
    // refusals were reported as their SUBACK came in
    return mp_const_none;
}

// subscribe(topic, qos=0, sock=None): as QuecPython, returns None; a refusal
// (SUBACK 0x80) goes to a detail error callback and the topic is not
// remembered. sock: QuecPython's internal resubscription passes the client's
// own socket; nothing else is accepted.
static mp_obj_t umqtt_subscribe_meth(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_topic, ARG_qos, ARG_sock };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_topic, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_qos, MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_sock, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    request_args_t a = {
        .topic = check_text(args[ARG_topic].u_obj, false),
        .qos = check_qos(args[ARG_qos].u_int),
        .subscribe = true,
    };
    if (self->callback == mp_const_none) {
        mp_raise_msg(&mp_type_AssertionError, MP_ERROR_TEXT("Subscribe callback is not set"));
    }
    mp_obj_t sock = args[ARG_sock].u_obj;
    if (sock != mp_const_none && sock != self->sock) {
        mp_raise_ValueError(MP_ERROR_TEXT("sock: only the client's own"));
    }
    return run_locked(self, request_op, &a);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(umqtt_subscribe_obj, 1, umqtt_subscribe_meth);

static mp_obj_t umqtt_unsubscribe_meth(mp_obj_t self_in, mp_obj_t topic) {
    request_args_t a = { .topic = check_text(topic, false), .subscribe = false };
    return run_locked(MP_OBJ_TO_PTR(self_in), request_op, &a);
}
static MP_DEFINE_CONST_FUN_OBJ_2(umqtt_unsubscribe_obj, umqtt_unsubscribe_meth);

static mp_obj_t check_msg_op(umqtt_client_obj_t *self, void *ctx) {
    (void)ctx;
    reconnect_inline(self);
    if (status(self) == UMQTT_STA_CONNECTED) {
        service_keepalive(self);
        delivery_t d;
        int got = handle_buffered(self, &d, false);
        if (got == PKT_NONE && fill_rx(self) > 0) {
            got = handle_buffered(self, &d, false);
        }
        if (got == PKT_PUBLISH) {
            deliver(self, &d);
        }
    }
    // "no data yet" is not a fault; a lost link is, unless it comes back
    check_online(self);
    return mp_const_none;
}

static mp_obj_t umqtt_check_msg(mp_obj_t self_in) {
    return run_locked(MP_OBJ_TO_PTR(self_in), check_msg_op, NULL);
}
static MP_DEFINE_CONST_FUN_OBJ_1(umqtt_check_msg_obj, umqtt_check_msg);

static mp_obj_t wait_msg_op(umqtt_client_obj_t *self, void *ctx) {
    (void)ctx;
    wait_msg_t w = { self->packets_seen, self->disconnects };
    for (;;) {
        if (self->disconnected || self->disconnects != w.disconnects) {
            // QuecPython's listener loops end this way
            return mp_const_none;
        }
        reconnect_inline(self);
        if (status(self) == UMQTT_STA_CONNECTED) {
            if (pump_until(self, wait_msg_done, &w, UINT32_MAX) == PUMP_DONE) {
                return mp_const_none;
            }
        } else if (reconnecting(self)) {
            // the background thread brings the link back
            sleep_unlocked(self, 100);
        } else {
            raise_offline(self);
        }
    }
}

static mp_obj_t umqtt_wait_msg(mp_obj_t self_in) {
    return run_locked(MP_OBJ_TO_PTR(self_in), wait_msg_op, NULL);
}
static MP_DEFINE_CONST_FUN_OBJ_1(umqtt_wait_msg_obj, umqtt_wait_msg);

static mp_obj_t ping_op(umqtt_client_obj_t *self, void *ctx) {
    (void)ctx;
    if (status(self) == UMQTT_STA_CONNECTED) {
        size_t len;
        int32_t st = umqtt_ping(&self->session, now_ms(), self->tx, self->tx_cap, &len);
        if (st != UMQTT_OK) {
            raise_status(st);
        }
        write_all(self, self->tx, len);
    }
    check_online(self);
    return mp_const_none;
}

static mp_obj_t umqtt_ping_meth(mp_obj_t self_in) {
    return run_locked(MP_OBJ_TO_PTR(self_in), ping_op, NULL);
}
static MP_DEFINE_CONST_FUN_OBJ_1(umqtt_ping_obj, umqtt_ping_meth);

// disconnect(): DISCONNECT, close, stop the keepalive. close(): the socket
// only (the broker then sends the will). Both may be called again; the
// client may connect() again (QuecPython's cannot).
static mp_obj_t shut_down_op(umqtt_client_obj_t *self, void *ctx) {
    bool say_goodbye = ctx != NULL;
    self->disconnected |= say_goodbye;
    self->disconnects += say_goodbye;
    self->lost_report = 0;
    stop_keeper(self);
    if (say_goodbye && status(self) == UMQTT_STA_CONNECTED) {
        size_t len;
        if (umqtt_disconnect(&self->session, self->tx, self->tx_cap, &len) == UMQTT_OK) {
            write_all(self, self->tx, len);
        }
    }
    close_link(self);
    umqtt_close(&self->session);
    return mp_const_none;
}

static mp_obj_t umqtt_disconnect_meth(mp_obj_t self_in) {
    return run_locked(MP_OBJ_TO_PTR(self_in), shut_down_op, self_in);
}
static MP_DEFINE_CONST_FUN_OBJ_1(umqtt_disconnect_obj, umqtt_disconnect_meth);

static mp_obj_t umqtt_close_meth(mp_obj_t self_in) {
    return run_locked(MP_OBJ_TO_PTR(self_in), shut_down_op, NULL);
}
static MP_DEFINE_CONST_FUN_OBJ_1(umqtt_close_obj, umqtt_close_meth);

static mp_obj_t get_mqttsta_op(umqtt_client_obj_t *self, void *ctx) {
    (void)ctx;
    // read from the live link: a close by the server shows without a read
    fill_rx(self);
    return MP_OBJ_NEW_SMALL_INT(status(self));
}

static mp_obj_t umqtt_get_mqttsta(mp_obj_t self_in) {
    return run_locked(MP_OBJ_TO_PTR(self_in), get_mqttsta_op, NULL);
}
static MP_DEFINE_CONST_FUN_OBJ_1(umqtt_get_mqttsta_obj, umqtt_get_mqttsta);

// QuecPython's client is a Python object: scripts read its attributes
// (QuecPython's names), and may set their own. The fields are read here; a
// script's own attributes live in a dict made when the first is set.

// Under the lock: another thread's subscribe() may grow the table.
static mp_obj_t topic_list_op(umqtt_client_obj_t *self, void *ctx) {
    (void)ctx;
    mp_obj_t list = mp_obj_new_list(0, NULL);
    umqtt_slice filter;
    for (size_t i = 0; umqtt_subs_entry(self->subs, self->subs_cap, i, &filter) >= 0; i++) {
        // copied into a new str before the table can change
        mp_obj_list_append(list, mp_obj_new_str((const char *)filter.ptr, filter.len));
    }
    return list;
}

// QuecPython's attribute names and the fields behind them: a table, smaller
// than a switch.
enum { F_OBJ, F_BOOL, F_U8, F_U16 };
typedef struct {
    uint16_t name;
    uint16_t kind : 3, offset : 13;
} field_t;
#define FIELD(name, kind, member) { MP_QSTR_##name, kind, offsetof(umqtt_client_obj_t, member) }
static const field_t fields[] = {
    FIELD(client_id, F_OBJ, client_id),
    FIELD(server, F_OBJ, server),
    FIELD(port, F_U16, port),
    FIELD(user, F_OBJ, user),
    FIELD(keepalive, F_U16, connect.keepalive),
    FIELD(ssl, F_BOOL, ssl),
    FIELD(ssl_params, F_OBJ, ssl_params),
    FIELD(reconn, F_BOOL, reconn),
    FIELD(mqttversion, F_U8, connect.version),
    FIELD(clean_session, F_BOOL, connect.clean_session),
    FIELD(pingmaxnum, F_U8, connect.pingmaxnum),
    FIELD(ipvtype, F_U8, ipv6), // a bool read as 0 or 1
    FIELD(manage, F_BOOL, manage),
    FIELD(cb, F_OBJ, callback),
    FIELD(error_callback, F_OBJ, error_callback),
    FIELD(sock, F_OBJ, sock),
    FIELD(lw_topic, F_OBJ, will_topic),
    FIELD(lw_msg, F_OBJ, will_msg),
    FIELD(lw_qos, F_U8, connect.will_qos),
    FIELD(lw_retain, F_BOOL, connect.will_retain),
    FIELD(session_present, F_BOOL, session_present),
};
typedef char fields_fit[sizeof(umqtt_client_obj_t) < (1 << 13) ? 1 : -1];

// MP_OBJ_NULL: not one of the client's fields.
static mp_obj_t field(umqtt_client_obj_t *self, qstr attr) {
    if (attr == MP_QSTR_topic_list) {
        return run_locked(self, topic_list_op, NULL);
    }
    for (size_t i = 0; i < MP_ARRAY_SIZE(fields); i++) {
        if (fields[i].name != attr) {
            continue;
        }
        const uint8_t *at = (const uint8_t *)self + fields[i].offset;
        switch (fields[i].kind) {
            case F_OBJ: {
                mp_obj_t obj = *(const mp_obj_t *)at;
                return obj == MP_OBJ_NULL ? mp_const_none : obj;
            }
            case F_BOOL:
                return mp_obj_new_bool(*(const bool *)at);
            case F_U8:
                return MP_OBJ_NEW_SMALL_INT(*at);
            default:
                return MP_OBJ_NEW_SMALL_INT(*(const uint16_t *)at);
        }
    }
    return MP_OBJ_NULL;
}

static const mp_rom_map_elem_t umqtt_client_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR___del__), MP_ROM_PTR(&umqtt_client_del_obj) },
    #ifdef UMQTT_TEST_HOOKS
    { MP_ROM_QSTR(MP_QSTR__test_secret_buffers), MP_ROM_PTR(&umqtt_test_secret_buffers_obj) },
    #endif
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
    // get_mqttsta() values, QuecPython's names
    { MP_ROM_QSTR(MP_QSTR_CONNECTEXCE), MP_ROM_INT(UMQTT_STA_CLOSED) },
    { MP_ROM_QSTR(MP_QSTR_CONNECTSUCCESS), MP_ROM_INT(UMQTT_STA_CONNECTED) },
    { MP_ROM_QSTR(MP_QSTR_ARECONNECT), MP_ROM_INT(UMQTT_STA_CONNECTING) },
    { MP_ROM_QSTR(MP_QSTR_SEVCLOSE), MP_ROM_INT(UMQTT_STA_SERVER_CLOSED) },
};
static MP_DEFINE_CONST_DICT(umqtt_client_locals_dict, umqtt_client_locals_dict_table);

static const mp_obj_type_t umqtt_client_type;

static void umqtt_client_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    umqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_map_t *own = self->attrs == MP_OBJ_NULL ? NULL : mp_obj_dict_get_map(self->attrs);
    if (dest[0] == MP_OBJ_NULL) {
        // load: a script's own attribute, a method or constant, a field
        mp_map_elem_t *elem = own == NULL ? NULL : mp_map_lookup(own, MP_OBJ_NEW_QSTR(attr), MP_MAP_LOOKUP);
        if (elem != NULL) {
            dest[0] = elem->value;
            return;
        }
        // methods before fields: c.publish costs one lookup, as without this handler
        elem = mp_map_lookup((mp_map_t *)&umqtt_client_locals_dict.map, MP_OBJ_NEW_QSTR(attr), MP_MAP_LOOKUP);
        if (elem != NULL) {
            mp_convert_member_lookup(self_in, &umqtt_client_type, elem->value, dest);
        } else {
            dest[0] = field(self, attr);
        }
        return;
    }
    mp_obj_t value = field(self, attr);
    if (value != MP_OBJ_NULL) {
        // the callbacks may be set as QuecPython's attributes; the rest is
        // the client's state, read-only
        if (dest[1] != MP_OBJ_NULL && (attr == MP_QSTR_cb || attr == MP_QSTR_error_callback)) {
            *(attr == MP_QSTR_cb ? &self->callback : &self->error_callback) = check_callable(dest[1]);
            dest[0] = MP_OBJ_NULL;
        }
        return;
    }
    if (dest[1] == MP_OBJ_NULL) {
        // delete
        if (own != NULL && mp_map_lookup(own, MP_OBJ_NEW_QSTR(attr), MP_MAP_LOOKUP_REMOVE_IF_FOUND) != NULL) {
            dest[0] = MP_OBJ_NULL;
        }
        return;
    }
    if (self->attrs == MP_OBJ_NULL) {
        self->attrs = mp_obj_new_dict(1);
    }
    mp_obj_dict_store(self->attrs, MP_OBJ_NEW_QSTR(attr), dest[1]);
    dest[0] = MP_OBJ_NULL;
}

static MP_DEFINE_CONST_OBJ_TYPE(
    umqtt_client_type,
    MP_QSTR_MQTTClient,
    MP_TYPE_FLAG_NONE,
    make_new, umqtt_client_make_new,
    print, umqtt_client_print,
    attr, umqtt_client_attr,
    locals_dict, &umqtt_client_locals_dict
    );

static const mp_rom_map_elem_t umqtt_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_umqtt) },
    { MP_ROM_QSTR(MP_QSTR_MQTTClient), MP_ROM_PTR(&umqtt_client_type) },
    // QuecPython's base class: one class here, so isinstance() and subclassing hold
    { MP_ROM_QSTR(MP_QSTR_BaseMqtt), MP_ROM_PTR(&umqtt_client_type) },
    { MP_ROM_QSTR(MP_QSTR_MQTTException), MP_ROM_PTR(&mp_type_MQTTException) },
};
static MP_DEFINE_CONST_DICT(umqtt_module_globals, umqtt_module_globals_table);

const mp_obj_module_t umqtt_user_cmodule = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&umqtt_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_umqtt, umqtt_user_cmodule);
