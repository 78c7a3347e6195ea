//! The Merkle–Damgård frame SHA-256 and SM3 share, and HMAC (RFC 2104)
//! over it.
//!
//! Both digests take 64-byte blocks, keep eight 32-bit words of state, pad
//! the same way (0x80, zeros, the bit length big-endian) and output the
//! state big-endian; they differ only in the initial value and the
//! compression function. One copy of the buffering, padding and HMAC code
//! serves both (flash matters more than speed here: one HMAC per login, one
//! digest per OTA package).

/// Bytes per block (both digests).
pub const BLOCK: usize = 64;
/// Bytes of a digest (both digests).
pub const DIGEST_LEN: usize = 32;

/// Which digest a [`Hasher`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha256,
    Sm3,
}

impl Algorithm {
    fn iv(self) -> [u32; 8] {
        match self {
            Algorithm::Sha256 => crate::sha256::IV,
            Algorithm::Sm3 => crate::sm3::IV,
        }
    }

    /// One block into `state`: the frame both digests share (the schedule
    /// ring, 64 rounds over a copy of the state, the feed-forward), one copy
    /// of it; only the round and the feed-forward's operation differ.
    fn compress(self, state: &mut [u32; 8], block: &[u8; BLOCK]) {
        let mut w = words(block);
        let mut v = *state;
        for j in 0..64 {
            match self {
                Algorithm::Sha256 => crate::sha256::round(&mut v, &mut w, j),
                Algorithm::Sm3 => crate::sm3::round(&mut v, &mut w, j),
            }
        }
        for (s, x) in state.iter_mut().zip(v) {
            *s = match self {
                Algorithm::Sha256 => s.wrapping_add(x),
                Algorithm::Sm3 => *s ^ x,
            };
        }
    }
}

/// The 16 big-endian words of a block.
pub(crate) fn words(block: &[u8; BLOCK]) -> [u32; 16] {
    let mut w = [0u32; 16];
    // arrays and slice iterators: no chunk or array iterator code on the device
    for (word, b) in w.iter_mut().zip(block.as_chunks::<4>().0) {
        *word = u32::from_be_bytes(*b);
    }
    w
}

/// A streaming digest computation.
#[derive(Clone)]
pub struct Hasher {
    algorithm: Algorithm,
    pub(crate) state: [u32; 8],
    /// The pending partial block: its first `total % 64` bytes.
    pub(crate) block: [u8; BLOCK],
    /// Message length in bytes (mod 2^64).
    pub(crate) total: u64,
}

impl Hasher {
    pub fn new(algorithm: Algorithm) -> Self {
        Hasher {
            algorithm,
            state: algorithm.iv(),
            block: [0; BLOCK],
            total: 0,
        }
    }

    /// A computation resumed from its parts (a stored state).
    pub(crate) fn from_parts(
        algorithm: Algorithm,
        state: [u32; 8],
        block: [u8; BLOCK],
        total: u64,
    ) -> Self {
        Hasher {
            algorithm,
            state,
            block,
            total,
        }
    }

    fn filled(&self) -> usize {
        // BLOCK is a power of two
        (self.total & 63) as usize
    }

    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let filled = self.filled();
            let room = self.block.get_mut(filled..).unwrap_or_default();
            let n = room.len().min(data.len());
            let (head, tail) = data.split_at(n);
            for (dst, src) in room.iter_mut().zip(head) {
                *dst = *src;
            }
            self.total = self.total.wrapping_add(n as u64);
            data = tail;
            if self.filled() == 0 {
                self.algorithm.compress(&mut self.state, &self.block);
            }
        }
    }

    pub fn finalize(mut self) -> [u8; DIGEST_LEN] {
        self.finish()
    }

    /// Back to the initial value, to hash a new message: HMAC runs its
    /// three digests in one hasher (no 108-byte hasher moved or copied).
    fn reset(&mut self) {
        self.state = self.algorithm.iv();
        // the block's bytes are garbage until `total` covers them
        self.total = 0;
    }

    /// The digest of what was hashed; the hasher is spent until [`reset`].
    fn finish(&mut self) -> [u8; DIGEST_LEN] {
        let bits = self.total.wrapping_mul(8);
        self.update(&[0x80]);
        while self.filled() != BLOCK - 8 {
            self.update(&[0]);
        }
        self.update(&bits.to_be_bytes());
        let mut out = [0u8; DIGEST_LEN];
        for (o, s) in out.as_chunks_mut::<4>().0.iter_mut().zip(&self.state) {
            *o = s.to_be_bytes();
        }
        out
    }
}

/// The digest of `data`.
pub fn digest(algorithm: Algorithm, data: &[u8]) -> [u8; DIGEST_LEN] {
    let mut h = Hasher::new(algorithm);
    h.update(data);
    h.finalize()
}

/// HMAC(key, msg) over `algorithm`; a key longer than a block is hashed
/// first, a shorter one zero-padded (RFC 2104).
pub fn hmac(algorithm: Algorithm, key: &[u8], msg: &[u8]) -> [u8; DIGEST_LEN] {
    let mut k = [0u8; BLOCK];
    let mut h = Hasher::new(algorithm);
    let short;
    let key = if key.len() > BLOCK {
        h.update(key);
        short = h.finish();
        h.reset();
        &short[..]
    } else {
        key
    };
    for (d, s) in k.iter_mut().zip(key) {
        *d = *s;
    }
    // one pad buffer, flipped from ipad to opad in place
    let xor = |k: &mut [u8; BLOCK], x: u8| k.iter_mut().for_each(|b| *b ^= x);
    xor(&mut k, 0x36);
    h.update(&k);
    h.update(msg);
    let inner = h.finish();
    h.reset();
    xor(&mut k, 0x36 ^ 0x5c);
    h.update(&k);
    h.update(&inner);
    h.finish()
}
