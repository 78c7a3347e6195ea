// Quectel link check: an opaque mutex like the vendor port's (an RTOS handle);
// mp_thread_* come from the vendor port.
typedef struct _mp_thread_mutex_t {
    void *handle;
} mp_thread_mutex_t;
