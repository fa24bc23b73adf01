//! Identifiers the marketplace makes up: order ids, business ids, customer ids, IVs.
//!
//! Drawn from a seeded generator so that one seed always yields the same run (tests pin
//! it), while the runner seeds each run afresh so that reruns against a merchant that keeps
//! its data never collide with earlier orders.

use crate::marketplace::lifecycle::OrderId;
use crate::protocol::v1::crypto::Iv;

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Ids {
    state: u64,
}

const ALNUM_UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Digits and letters this module wrote as bytes, as text (written a whole run at a time
/// rather than character by character: load mode makes three ids per request).
fn ascii(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_else(|_| unreachable!("ids are written in ASCII"))
}

impl Ids {
    /// A generator for one seed.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Appends `len` characters drawn from `alphabet`.
    fn push_picked(&mut self, out: &mut String, alphabet: &[u8], len: usize) {
        for _ in 0..len {
            out.push(char::from(
                alphabet[(self.next_u64() % alphabet.len() as u64) as usize],
            ));
        }
    }

    fn pick(&mut self, alphabet: &[u8], len: usize) -> String {
        let mut picked = String::with_capacity(len);
        self.push_picked(&mut picked, alphabet, len);
        picked
    }

    /// The 32 lowercase hex digits of two draws (written directly: load mode makes ids for
    /// every request it sends).
    fn hex32(&mut self) -> [u8; 32] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut digits = [0_u8; 32];
        for half in digits.chunks_exact_mut(16) {
            let value = self.next_u64();
            for (index, digit) in half.iter_mut().enumerate() {
                *digit = HEX[((value >> (60 - 4 * index)) & 0xF) as usize];
            }
        }
        digits
    }

    /// An order id shaped like the documented ones: `CS` + 10 digits + 5 letters or digits
    /// (`CS2211181819B4LVS`).
    pub(crate) fn order_id(&mut self) -> OrderId {
        let mut digits = self.next_u64() % 10_000_000_000;
        let mut id = String::with_capacity(17);
        id.push_str("CS");
        let mut decimal = [b'0'; 10];
        for digit in decimal.iter_mut().rev() {
            *digit = b'0' + (digits % 10) as u8;
            digits /= 10;
        }
        id.push_str(ascii(&decimal));
        self.push_picked(&mut id, ALNUM_UPPER, 5);
        OrderId(id)
    }

    /// A UUID-shaped business id, different on every request: `8-4-4-4-12` hex digits with
    /// the version nibble `4` and the variant nibble `a`.
    pub(crate) fn business_id(&mut self) -> String {
        let hex = self.hex32();
        let mut id = String::with_capacity(36);
        for (index, range) in [0..8, 8..12, 13..16, 17..20, 20..32]
            .into_iter()
            .enumerate()
        {
            match index {
                0 => {}
                2 => id.push_str("-4"),
                3 => id.push_str("-a"),
                _ => id.push('-'),
            }
            id.push_str(ascii(&hex[range]));
        }
        id
    }

    /// A 32-hex-digit customer id (`68cbc86abc2018ab880d92f36422fa0e`).
    pub(crate) fn customer_id(&mut self) -> String {
        ascii(&self.hex32()).to_owned()
    }

    /// A 32-character secret (an OAuth client secret).
    pub(crate) fn secret(&mut self) -> String {
        self.pick(ALNUM, 32)
    }

    /// A seed for a generator of its own (RSA-OAEP's random padding, reproducible per run).
    pub(crate) fn seed(&mut self) -> u64 {
        self.next_u64()
    }

    /// A 16-character IV for field encryption.
    pub(crate) fn iv(&mut self) -> Iv {
        self.pick(ALNUM, 16)
            .parse()
            .unwrap_or_else(|_| Iv::random())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_shaped_like_the_documented_ones_and_deterministic() {
        let mut a = Ids::new(7);
        let mut b = Ids::new(7);
        let order = a.order_id();
        assert_eq!(order, b.order_id());
        assert_eq!(order.0.len(), 17);
        assert!(order.0.starts_with("CS") && order.0[2..12].bytes().all(|c| c.is_ascii_digit()));
        let business = a.business_id();
        assert_eq!(business.len(), 36);
        assert_eq!(business.matches('-').count(), 4);
        assert_eq!(a.customer_id().len(), 32);
        assert_eq!(a.iv().as_str().len(), 16);
        assert_ne!(Ids::new(8).order_id(), order);
    }

    #[test]
    fn ids_are_the_ones_formatting_made() {
        // The ids written digit by digit are the ones `format!` wrote before (seeded runs
        // and their snapshots depend on them).
        let mut ids = Ids::new(42);
        let mut again = Ids::new(42);
        let digits = again.next_u64() % 10_000_000_000;
        let order = format!("CS{digits:010}{}", again.pick(ALNUM_UPPER, 5));
        assert_eq!(ids.order_id().0, order);
        let (a, b) = (again.next_u64(), again.next_u64());
        let hex = format!("{a:016x}{b:016x}");
        let business = format!(
            "{}-{}-4{}-a{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        );
        assert_eq!(ids.business_id(), business);
        let customer = format!("{:016x}{:016x}", again.next_u64(), again.next_u64());
        assert_eq!(ids.customer_id(), customer);
    }
}
