//! Static library with the C ABI the QuecPython C glue links against.
//!
//! This is the only crate with `unsafe` and the only one with a panic handler.
//! Each ABI lives in its own module.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unreachable,
    clippy::todo,
    clippy::undocumented_unsafe_blocks
)]

mod abi;
pub mod iotda;
pub mod sha256;
pub mod umqtt;

/// Panics cannot happen by construction (the core crate denies every panicking
/// construct); should one slip through, halt rather than unwind into C.
#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// With `panic = "abort"` nothing unwinds, but the prebuilt `compiler_builtins`
/// of hosted targets (x86_64 Linux for the unix port) still refers to the
/// personality routine. Never called; the `-Zbuild-std` ARM builds do not
/// refer to it at all.
#[cfg(all(not(test), target_os = "linux"))]
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}
