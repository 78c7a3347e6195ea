//! Incremental SHA-256 whose whole state lives in a byte array the caller
//! owns (on the device: a `bytearray` of the script), for checking an OTA
//! package's `sign` while it streams in: no allocation, no alignment
//! requirement, and a state that was overwritten is an error, never
//! undefined behaviour.
//!
//! The state is RustCrypto's serialized `Sha256` (chaining value, block
//! count, pending partial block); each call loads it, hashes, stores it.

use sha2::digest::common::hazmat::{SerializableState, SerializedState};
use sha2::digest::typenum::Unsigned;
use sha2::{Digest, Sha256};

/// Bytes of a serialized state.
pub const STATE_LEN: usize =
    <<Sha256 as SerializableState>::SerializedStateSize as Unsigned>::USIZE;
/// Length of the lowercase hex digest.
pub const HEX_LEN: usize = 64;

/// Most bytes one state hashes: 2^46 (64 TiB), far above any package,
/// far below SHA-256's 2^61 so the bit length never overflows.
const MAX_BLOCKS: u64 = 1 << 40;
const BLOCK: u64 = 64;

/// Why a state cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sha256Error {
    /// The bytes are not a state [`init`] made (overwritten by the caller).
    BadState,
    /// More than 2^46 bytes in one digest.
    TooLong,
}

use Sha256Error::{BadState, TooLong};

fn block_count(state: &[u8; STATE_LEN]) -> u64 {
    let mut b = [0u8; 8];
    for (d, s) in b.iter_mut().zip(state.iter().skip(32)) {
        *d = *s;
    }
    u64::from_le_bytes(b)
}

fn store(h: &Sha256, state: &mut [u8; STATE_LEN]) {
    for (d, s) in state.iter_mut().zip(h.serialize().iter()) {
        *d = *s;
    }
}

fn load(state: &[u8; STATE_LEN]) -> Result<Sha256, Sha256Error> {
    // the core takes any block count and would overflow computing the bit
    // length of an absurd one
    if block_count(state) > MAX_BLOCKS {
        return Err(BadState);
    }
    let s = <&SerializedState<Sha256>>::try_from(&state[..]).map_err(|_| BadState)?;
    Sha256::deserialize(s).map_err(|_| BadState)
}

/// A fresh state (the digest of nothing so far).
pub fn init(state: &mut [u8; STATE_LEN]) {
    store(&Sha256::new(), state);
}

/// Hash `data` after what the state has seen.
pub fn update(state: &mut [u8; STATE_LEN], data: &[u8]) -> Result<(), Sha256Error> {
    let mut h = load(state)?;
    let blocks = (data.len() as u64 / BLOCK).saturating_add(1);
    if block_count(state).saturating_add(blocks) > MAX_BLOCKS {
        return Err(TooLong);
    }
    h.update(data);
    store(&h, state);
    Ok(())
}

/// The lowercase hex digest of everything hashed so far; the state is left
/// as it was (more data may follow).
pub fn hex(state: &[u8; STATE_LEN], out: &mut [u8; HEX_LEN]) -> Result<(), Sha256Error> {
    let digest = load(state)?.finalize();
    crate::auth::hex_lower(&digest, out);
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn digest_of(chunks: &[&[u8]]) -> [u8; HEX_LEN] {
        let mut st = [0u8; STATE_LEN];
        init(&mut st);
        for c in chunks {
            update(&mut st, c).unwrap();
        }
        let mut out = [0u8; HEX_LEN];
        hex(&st, &mut out).unwrap();
        out
    }

    #[test]
    fn known_digests() {
        // hashlib.sha256(b"").hexdigest(), hashlib.sha256(b"abc").hexdigest()
        assert_eq!(
            &digest_of(&[]),
            b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            &digest_of(&[b"a", b"", b"bc"]),
            b"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hex_leaves_the_state_usable() {
        let mut st = [0u8; STATE_LEN];
        init(&mut st);
        update(&mut st, b"ab").unwrap();
        let mut out = [0u8; HEX_LEN];
        hex(&st, &mut out).unwrap();
        update(&mut st, b"c").unwrap();
        hex(&st, &mut out).unwrap();
        assert_eq!(&out, &digest_of(&[b"abc"]));
    }

    #[test]
    fn overwritten_state_is_refused() {
        let mut st = [0xffu8; STATE_LEN];
        // the pending-block position byte is past the block
        assert_eq!(update(&mut st, b"x"), Err(BadState));
        let mut out = [0u8; HEX_LEN];
        assert_eq!(hex(&st, &mut out), Err(BadState));
        // a block count past the limit (the core would overflow on it)
        init(&mut st);
        st[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(hex(&st, &mut out), Err(BadState));
        init(&mut st);
        st[32..40].copy_from_slice(&MAX_BLOCKS.to_le_bytes());
        assert_eq!(update(&mut st, b"x"), Err(TooLong));
    }

    proptest! {
        #[test]
        fn chunking_does_not_matter(data in proptest::collection::vec(any::<u8>(), 0..400),
                                    cut in 0usize..400) {
            let cut = cut.min(data.len());
            let whole = digest_of(&[&data]);
            let split = digest_of(&[&data[..cut], &data[cut..]]);
            prop_assert_eq!(whole, split);
        }

        #[test]
        fn any_state_bytes_never_panic(st in proptest::collection::vec(any::<u8>(), STATE_LEN)) {
            let mut s = [0u8; STATE_LEN];
            s.copy_from_slice(&st);
            let _ = update(&mut s, b"data");
            let mut out = [0u8; HEX_LEN];
            let _ = hex(&s, &mut out);
        }
    }
}
