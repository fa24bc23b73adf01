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

    fn pick(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| alphabet[(self.next_u64() % alphabet.len() as u64) as usize] as char)
            .collect()
    }

    /// An order id shaped like the documented ones: `CS` + 10 digits + 5 letters or digits
    /// (`CS2211181819B4LVS`).
    pub(crate) fn order_id(&mut self) -> OrderId {
        let digits = self.next_u64() % 10_000_000_000;
        OrderId(format!("CS{digits:010}{}", self.pick(ALNUM_UPPER, 5)))
    }

    /// A UUID-shaped business id, different on every request.
    pub(crate) fn business_id(&mut self) -> String {
        let (a, b) = (self.next_u64(), self.next_u64());
        let hex = format!("{a:016x}{b:016x}");
        format!(
            "{}-{}-4{}-a{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        )
    }

    /// A 32-hex-digit customer id (`68cbc86abc2018ab880d92f36422fa0e`).
    pub(crate) fn customer_id(&mut self) -> String {
        format!("{:016x}{:016x}", self.next_u64(), self.next_u64())
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
}
