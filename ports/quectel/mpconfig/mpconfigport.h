// Minimal bare-metal MicroPython configuration used only to compile the C glue
// (c_glue/*/mod*.c) with the Quectel vendor flags: it stands in for the
// vendor port's mpconfigport.h (QuecPython: threads on, float, no ROM text
// compression assumed -- the uncompressed strings are the worst case).
// No MicroPython runtime is built from it.
#include <stdint.h>

#define MICROPY_CONFIG_ROM_LEVEL        (MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES)
#define MICROPY_ENABLE_GC               (1)
#define MICROPY_PY_THREAD               (1)
#define MICROPY_PY_THREAD_GIL           (1)
#define MICROPY_ROM_TEXT_COMPRESSION    (0)
#define MICROPY_LONGINT_IMPL            (MICROPY_LONGINT_IMPL_MPZ)
#define MICROPY_FLOAT_IMPL              (MICROPY_FLOAT_IMPL_FLOAT)
#define MICROPY_PY_SELECT               (1)
#define MICROPY_PY_SYS_PLATFORM         "quectel"
#define MICROPY_HW_BOARD_NAME           "qpy-linkcheck"
#define MICROPY_HW_MCU_NAME             "cortex"

#define MP_SSIZE_MAX (0x7fffffff)
#define UINT_FMT "%lu"
#define INT_FMT "%ld"
typedef int32_t mp_int_t;   // must be pointer size
typedef uint32_t mp_uint_t; // must be pointer size
typedef long mp_off_t;

#include <alloca.h>

#define MP_STATE_PORT MP_STATE_VM
