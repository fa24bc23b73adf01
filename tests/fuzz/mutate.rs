//! The mutations: flip, set, insert, delete, duplicate and splice bytes, and insert tokens of
//! the target's grammar, driven by a seeded xorshift generator so that a run can be repeated.

/// A seeded mutator.
pub(crate) struct Mutator {
    state: u64,
    dictionary: &'static [&'static str],
}

/// Bytes that often sit on a parser's edges.
const INTERESTING: &[u8] = b"\0\n\r\t \"'\\{}[]:,=&%+#-.0123456789\x7f\xff\xc3\xa9";

impl Mutator {
    pub(crate) fn new(seed: u64, dictionary: &'static [&'static str]) -> Self {
        Self {
            state: seed | 1,
            dictionary,
        }
    }

    fn next(&mut self) -> u64 {
        // xorshift64*
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// Replaces `out` with a mutation of a corpus entry: one to eight changes.
    pub(crate) fn mutate(&mut self, seeds: &[Vec<u8>], out: &mut Vec<u8>) {
        out.extend_from_slice(&seeds[self.below(seeds.len())]);
        for _ in 0..=self.below(8) {
            self.change(seeds, out);
        }
        out.truncate(64 * 1024);
    }

    fn change(&mut self, seeds: &[Vec<u8>], out: &mut Vec<u8>) {
        let at = self.below(out.len() + 1);
        match self.below(8) {
            0 if !out.is_empty() => {
                let i = self.below(out.len());
                out[i] ^= 1 << self.below(8);
            }
            1 if !out.is_empty() => {
                let i = self.below(out.len());
                out[i] = INTERESTING[self.below(INTERESTING.len())];
            }
            2 => {
                let byte = INTERESTING[self.below(INTERESTING.len())];
                out.insert(at, byte);
            }
            3 if !out.is_empty() => {
                let len = self.below(out.len() - at.min(out.len()) + 1).min(16);
                out.drain(at.min(out.len())..(at + len).min(out.len()));
            }
            4 if !out.is_empty() => {
                let from = self.below(out.len());
                let len = self.below(out.len() - from).min(64) + 1;
                let piece: Vec<u8> = out[from..from + len].to_vec();
                let at = self.below(out.len() + 1);
                out.splice(at..at, piece);
            }
            5 => {
                let other = &seeds[self.below(seeds.len())];
                if !other.is_empty() {
                    let from = self.below(other.len());
                    let len = self.below(other.len() - from) + 1;
                    out.splice(at..at, other[from..from + len].iter().copied());
                }
            }
            6 if !self.dictionary.is_empty() => {
                let token = self.dictionary[self.below(self.dictionary.len())];
                out.splice(at..at, token.bytes());
            }
            _ => {
                let byte = (self.next() & 0xff) as u8;
                out.insert(at, byte);
            }
        }
    }
}
