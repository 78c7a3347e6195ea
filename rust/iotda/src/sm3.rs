//! SM3 (GB/T 32905-2016) and HMAC-SM3 (RFC 2104 over SM3), for sign type 2.
//!
//! A small, rolled compression function of our own (RustCrypto's `sm3`
//! crate unrolls the 64 rounds: about 6 KB of ARM code) in the frame
//! [`crate::hash`] shares with SHA-256; one HMAC per login needs no speed.
//! Checked against the standard's examples and OpenSSL (tests).

use crate::hash::{self, Algorithm, DIGEST_LEN};

pub(crate) const IV: [u32; 8] = [
    0x7380_166f,
    0x4914_b2b9,
    0x1724_42d7,
    0xda8a_0600,
    0xa96f_30bc,
    0x1631_38aa,
    0xe38d_ee4d,
    0xb0fb_0e4e,
];

fn p0(x: u32) -> u32 {
    x ^ x.rotate_left(9) ^ x.rotate_left(17)
}

fn p1(x: u32) -> u32 {
    x ^ x.rotate_left(15) ^ x.rotate_left(23)
}

// Every index is masked with `& 15` into a 16-word array, so none can be out
// of bounds (and the compiler drops the checks).
/// Round `j` (0..64) on the working variables `v` (A..H) and the schedule
/// ring `w` (the frame around the rounds is [`hash`]'s, shared with SHA-256).
#[allow(clippy::indexing_slicing)]
pub(crate) fn round(v: &mut [u32; 8], w: &mut [u32; 16], j: usize) {
    // W[j+4] joins the window (the expansion of GB/T 32905 5.3.2),
    // replacing W[j-12], which no later round needs.
    // W[j + k] lives at (j + k) & 15 (k = -12 is +4, -5 is +11, ...).
    let at = |k: usize| j.wrapping_add(k) & 15;
    if j >= 12 {
        // W[j+4] = P1(W[j-12] ^ W[j-5] ^ (W[j+1] <<< 15)) ^ (W[j-9] <<< 7) ^ W[j-2]
        w[at(4)] = p1(w[at(4)] ^ w[at(11)] ^ w[at(1)].rotate_left(15))
            ^ w[at(7)].rotate_left(7)
            ^ w[at(14)];
    }
    let [a, b, c, d, e, f, g, h] = *v;
    let wj = w[at(0)];
    let wj2 = wj ^ w[at(4)];
    let (t, ff, gg) = if j < 16 {
        (0x79cc_4519u32, a ^ b ^ c, e ^ f ^ g)
    } else {
        (
            0x7a87_9d8au32,
            (a & b) | (a & c) | (b & c),
            (e & f) | (!e & g),
        )
    };
    let a12 = a.rotate_left(12);
    let ss1 = a12
        .wrapping_add(e)
        .wrapping_add(t.rotate_left((j & 31) as u32))
        .rotate_left(7);
    let ss2 = ss1 ^ a12;
    let tt1 = ff.wrapping_add(d).wrapping_add(ss2).wrapping_add(wj2);
    let tt2 = gg.wrapping_add(h).wrapping_add(ss1).wrapping_add(wj);
    *v = [
        tt1,
        a,
        b.rotate_left(9),
        c,
        p0(tt2),
        e,
        f.rotate_left(19),
        g,
    ];
}

/// SM3 of `data`.
pub fn sm3(data: &[u8]) -> [u8; DIGEST_LEN] {
    hash::digest(Algorithm::Sm3, data)
}

/// HMAC-SM3(key, msg) (a key over one block is hashed first, RFC 2104).
pub fn hmac_sm3(key: &[u8], msg: &[u8]) -> [u8; DIGEST_LEN] {
    hash::hmac(Algorithm::Sm3, key, msg)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> std::string::String {
        b.iter().map(|x| std::format!("{x:02x}")).collect()
    }

    #[test]
    fn padding_edges_and_streaming() {
        // CPython over OpenSSL: hashlib.new("sm3", b"a" * n).hexdigest();
        // the lengths around the one- and two-block padding edges.
        let cases: [(usize, &str); 7] = [
            (
                55,
                "288337eef51eec62e7544d7270424c8dbe656254c99852870a73b2453a6a7fb1",
            ),
            (
                56,
                "ba00ebedaab54065a5fd4f9f56326016203166bcee3eed44ea868d59d67aa3c8",
            ),
            (
                63,
                "587308543551881ebd70d27ad358ff5dcdf24ac54822e2f7b7c3edce0985d21b",
            ),
            (
                64,
                "616ec433c359e7c2b19f360e2b8f2a1b6e9ed76b8dc1a7d207b31a5341c611e9",
            ),
            (
                65,
                "3d1d94afa238ec3e2bbc20ad504702b24c16f2889c94973f2f8da3526c44e4bc",
            ),
            (
                119,
                "53282a90724e9eb79b18d06b5b8f7f02d046e18b29247dcdb064a136d5c4459a",
            ),
            (
                1000,
                "f4bedca973227d45c5b822551d2e762d4cfb0e9af70b241452545727b5fb046f",
            ),
        ];
        for (n, want) in cases {
            let data = std::vec![b'a'; n];
            assert_eq!(hex(&sm3(&data)), want, "{n} bytes");
            // fed in uneven pieces: the same digest
            let mut h = hash::Hasher::new(Algorithm::Sm3);
            for piece in data.chunks(7) {
                h.update(piece);
            }
            assert_eq!(hex(&h.finalize()), want, "{n} bytes in pieces");
        }
    }

    #[test]
    fn hmac_with_a_long_key() {
        // hmac.new(b"k" * 100, b"msg", "sm3").hexdigest(): a key over one
        // block is hashed first
        assert_eq!(
            hex(&hmac_sm3(&[b'k'; 100], b"msg")),
            "cc31acb1dc9b29f3f9585995742a82fbb670680904f754257275c8d4368fd8b9"
        );
    }
}
