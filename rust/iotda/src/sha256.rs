//! SHA-256 (FIPS 180-4): a small, rolled compression function of our own
//! in the frame [`crate::hash`] shares with SM3, and an incremental SHA-256
//! whose whole state lives in a byte array the caller owns (on the device: a
//! `bytearray` of the script), for checking an OTA package's `sign` while it
//! streams in: no allocation, no alignment requirement, and a state that was
//! overwritten is an error, never undefined behaviour.
//!
//! The stored state: the eight chaining words (little-endian), the message
//! length in bytes (u64 little-endian), the pending partial block (its first
//! `length % 64` bytes count).

use crate::hash::{self, Algorithm, Hasher, BLOCK};

pub(crate) const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

const K: [u32; 64] = [
    0x428a_2f98,
    0x7137_4491,
    0xb5c0_fbcf,
    0xe9b5_dba5,
    0x3956_c25b,
    0x59f1_11f1,
    0x923f_82a4,
    0xab1c_5ed5,
    0xd807_aa98,
    0x1283_5b01,
    0x2431_85be,
    0x550c_7dc3,
    0x72be_5d74,
    0x80de_b1fe,
    0x9bdc_06a7,
    0xc19b_f174,
    0xe49b_69c1,
    0xefbe_4786,
    0x0fc1_9dc6,
    0x240c_a1cc,
    0x2de9_2c6f,
    0x4a74_84aa,
    0x5cb0_a9dc,
    0x76f9_88da,
    0x983e_5152,
    0xa831_c66d,
    0xb003_27c8,
    0xbf59_7fc7,
    0xc6e0_0bf3,
    0xd5a7_9147,
    0x06ca_6351,
    0x1429_2967,
    0x27b7_0a85,
    0x2e1b_2138,
    0x4d2c_6dfc,
    0x5338_0d13,
    0x650a_7354,
    0x766a_0abb,
    0x81c2_c92e,
    0x9272_2c85,
    0xa2bf_e8a1,
    0xa81a_664b,
    0xc24b_8b70,
    0xc76c_51a3,
    0xd192_e819,
    0xd699_0624,
    0xf40e_3585,
    0x106a_a070,
    0x19a4_c116,
    0x1e37_6c08,
    0x2748_774c,
    0x34b0_bcb5,
    0x391c_0cb3,
    0x4ed8_aa4a,
    0x5b9c_ca4f,
    0x682e_6ff3,
    0x748f_82ee,
    0x78a5_636f,
    0x84c8_7814,
    0x8cc7_0208,
    0x90be_fffa,
    0xa450_6ceb,
    0xbef9_a3f7,
    0xc671_78f2,
];

// Every index is masked (`& 15` into the 16-word schedule, `& 63` into K),
// so none can be out of bounds (and the compiler drops the checks).
/// Round `j` (0..64) on the working variables `v` (a..h) and the schedule
/// ring `w` (the frame around the rounds is [`hash`]'s, shared with SM3).
#[allow(clippy::indexing_slicing)]
pub(crate) fn round(v: &mut [u32; 8], w: &mut [u32; 16], j: usize) {
    // W[j + n] lives at (j + n) & 15: W[j-16] at +0, W[j-15] at +1,
    // W[j-7] at +9, W[j-2] at +14.
    let at = |n: usize| j.wrapping_add(n) & 15;
    if j >= 16 {
        let w15 = w[at(1)];
        let w2 = w[at(14)];
        let s0 = w15.rotate_right(7) ^ w15.rotate_right(18) ^ (w15 >> 3);
        let s1 = w2.rotate_right(17) ^ w2.rotate_right(19) ^ (w2 >> 10);
        w[at(0)] = w[at(0)]
            .wrapping_add(s0)
            .wrapping_add(w[at(9)])
            .wrapping_add(s1);
    }
    let [a, b, c, d, e, f, g, h] = *v;
    let big_s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
    let ch = (e & f) ^ (!e & g);
    let t1 = h
        .wrapping_add(big_s1)
        .wrapping_add(ch)
        .wrapping_add(K[j & 63])
        .wrapping_add(w[at(0)]);
    let big_s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
    let maj = (a & b) ^ (a & c) ^ (b & c);
    let t2 = big_s0.wrapping_add(maj);
    *v = [t1.wrapping_add(t2), a, b, c, d.wrapping_add(t1), e, f, g];
}

/// HMAC-SHA256(key, msg).
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; hash::DIGEST_LEN] {
    hash::hmac(Algorithm::Sha256, key, msg)
}

/// Bytes of a stored state: 32 (words) + 8 (length) + 64 (block).
pub const STATE_LEN: usize = 104;
/// Length of the lowercase hex digest.
pub const HEX_LEN: usize = 64;

const WORDS: usize = 32;
const LENGTH_END: usize = WORDS + 8;

/// Most bytes one state hashes: 2^46 (64 TiB), far above any package, far
/// below the 2^61 bytes whose bit length would overflow.
const MAX_LEN: u64 = 1 << 46;

/// Why a state cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sha256Error {
    /// The bytes are not a state [`init`] made (overwritten by the caller).
    BadState,
    /// More than 2^46 bytes in one digest.
    TooLong,
}

use Sha256Error::{BadState, TooLong};

fn stored_len(state: &[u8; STATE_LEN]) -> u64 {
    let mut le = [0u8; 8];
    le.copy_from_slice(state.get(WORDS..LENGTH_END).unwrap_or_default());
    u64::from_le_bytes(le)
}

fn store(h: &Hasher, state: &mut [u8; STATE_LEN]) {
    let (words, rest) = state.split_at_mut(WORDS);
    let (len, block) = rest.split_at_mut(8);
    for (o, s) in words.chunks_exact_mut(4).zip(h.state) {
        o.copy_from_slice(&s.to_le_bytes());
    }
    len.copy_from_slice(&h.total.to_le_bytes());
    block.copy_from_slice(&h.block);
}

fn load(state: &[u8; STATE_LEN]) -> Result<Hasher, Sha256Error> {
    let total = stored_len(state);
    if total > MAX_LEN {
        return Err(BadState);
    }
    let (words, rest) = state.split_at(WORDS);
    let mut chaining = [0u32; 8];
    for (s, b) in chaining.iter_mut().zip(words.chunks_exact(4)) {
        let mut le = [0u8; 4];
        le.copy_from_slice(b);
        *s = u32::from_le_bytes(le);
    }
    let mut block = [0u8; BLOCK];
    block.copy_from_slice(rest.get(8..).unwrap_or_default());
    Ok(Hasher::from_parts(
        Algorithm::Sha256,
        chaining,
        block,
        total,
    ))
}

/// A fresh state (the digest of nothing so far).
pub fn init(state: &mut [u8; STATE_LEN]) {
    store(&Hasher::new(Algorithm::Sha256), state);
}

/// Hash `data` after what the state has seen.
pub fn update(state: &mut [u8; STATE_LEN], data: &[u8]) -> Result<(), Sha256Error> {
    let mut h = load(state)?;
    if h.total.saturating_add(data.len() as u64) > MAX_LEN {
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
        // the stored length is far past the limit
        assert_eq!(update(&mut st, b"x"), Err(BadState));
        let mut out = [0u8; HEX_LEN];
        assert_eq!(hex(&st, &mut out), Err(BadState));
        // a length past the limit (its bit length could overflow)
        init(&mut st);
        st[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(hex(&st, &mut out), Err(BadState));
        init(&mut st);
        st[32..40].copy_from_slice(&MAX_LEN.to_le_bytes());
        assert_eq!(update(&mut st, b"x"), Err(TooLong));
    }

    #[test]
    fn padding_edges() {
        // hashlib.sha256(b"a" * n).hexdigest() (CPython), around the one- and
        // two-block padding edges
        let cases: [(usize, &[u8; 64]); 7] = [
            (
                55,
                b"9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
            ),
            (
                56,
                b"b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
            ),
            (
                63,
                b"7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
            ),
            (
                64,
                b"ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
            ),
            (
                65,
                b"635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0",
            ),
            (
                119,
                b"31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb",
            ),
            (
                1000,
                b"41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3",
            ),
        ];
        for (n, want) in cases {
            let data = std::vec![b'a'; n];
            assert_eq!(&digest_of(&[&data]), want, "{n} bytes");
        }
    }

    proptest! {
        #[test]
        fn same_as_rustcrypto(data in proptest::collection::vec(any::<u8>(), 0..300),
                              key in proptest::collection::vec(any::<u8>(), 0..150)) {
            use hmac::{Hmac, KeyInit, Mac};
            use sha2::Digest;
            let ours = crate::hash::digest(Algorithm::Sha256, &data);
            prop_assert_eq!(&ours[..], &sha2::Sha256::digest(&data)[..]);
            let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key).unwrap();
            mac.update(&data);
            prop_assert_eq!(&hmac_sha256(&key, &data)[..], &mac.finalize().into_bytes()[..]);
        }

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
