//! Helpers shared by the integration tests: a seeded RNG and byte mutators.
#![allow(dead_code)]

use fover_protocol::wire::{HEADER_LEN, PAYLOAD_LEN_OFFSET};

/// xorshift64*: fast, deterministic, seeded by the test (never by the OS).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in `0..n` (`n > 0`); the bias is irrelevant for testing.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    pub fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }
    pub fn fill(&mut self, out: &mut Vec<u8>, len: usize) {
        out.extend((0..len).map(|_| self.byte()));
    }
}

/// Random bytes: mostly 0..300 long, sometimes much longer.
pub fn random_bytes(rng: &mut Rng, out: &mut Vec<u8>) {
    out.clear();
    let len = if rng.chance(1) { 300 + rng.below(20_000) } else { rng.below(300) };
    rng.fill(out, len);
}

/// Mutates a valid frame in place: bit flips, byte sets, insertions,
/// deletions, truncation, duplication. Afterwards it may re-patch the header's
/// payload length to agree with the new size, so the decoder gets past the
/// length check and into the payload.
pub fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let len = bytes.len();
        match rng.below(8) {
            0 | 1 if len > 0 => {
                let i = rng.below(len);
                bytes[i] ^= 1 << rng.below(8);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                bytes[i] = rng.byte();
            }
            3 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(8);
                let insert: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
                bytes.splice(at..at, insert);
            }
            4 if len > 0 => {
                let at = rng.below(len);
                let n = (1 + rng.below(8)).min(len - at);
                bytes.drain(at..at + n);
            }
            5 => bytes.truncate(rng.below(len + 1)),
            6 if len > 0 => {
                // An interesting value at a random place (length fields, codes).
                let i = rng.below(len);
                bytes[i] = [0, 1, 2, 0x7f, 0x80, 0xff, 64, 65][rng.below(8)];
            }
            _ => {
                let at = rng.below(len + 1);
                let from = rng.below(len + 1);
                let chunk: Vec<u8> = bytes[from..(from + 1 + rng.below(16)).min(len)].to_vec();
                bytes.splice(at..at, chunk);
            }
        }
    }
    if rng.chance(50) {
        patch_payload_len(bytes, 0);
    }
}

/// Sets the header's payload length to what follows the header, minus
/// `trailer` bytes (a CRC or a tag). Does nothing to a frame shorter than a header.
pub fn patch_payload_len(bytes: &mut [u8], trailer: usize) {
    if bytes.len() >= HEADER_LEN + trailer {
        let len = (bytes.len() - HEADER_LEN - trailer) as u32;
        bytes[PAYLOAD_LEN_OFFSET..HEADER_LEN].copy_from_slice(&len.to_be_bytes());
    }
}

/// Replaces the last four bytes by the CRC-32 of the rest, as an unkeyed sender would.
pub fn patch_crc(bytes: &mut [u8]) {
    if bytes.len() >= 4 {
        let body = bytes.len() - 4;
        let crc = crc32fast::hash(&bytes[..body]);
        bytes[body..].copy_from_slice(&crc.to_be_bytes());
    }
}
