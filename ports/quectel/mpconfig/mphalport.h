// Quectel link check: the HAL functions (mp_hal_ticks_ms, mp_hal_delay_ms,
// ...) are the ones py/mphal.h declares; the vendor port provides them.
#include <stddef.h>
