//! Signing one V1 parameter list again and again with a few values changed: load mode sends
//! the same purchase under fresh ids, each with a new `timeStamp` (spec:
//! koogallery-saas-v1.md §2.2).
//!
//! What did not change since the last call is reused — the parameters' signing order (by
//! name) and the percent-encoded `name=value` of every value that is byte for byte the same —
//! and the string to sign is fed to the HMAC piece by piece instead of being joined first.
//! The query is byte-identical to [`auth_token::signed_query`]'s for the same parameters
//! (tested over random lists and changes).

use std::cell::RefCell;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::Mac as _;

use crate::protocol::digest::{KeyedHmac, keyed_hmac};
use crate::protocol::encoding::push_encoded;
use crate::protocol::secret::AccessKey;
use crate::protocol::v1::auth_token::{self, AUTH_TOKEN, AuthTokenError};

/// One parameter as last seen: its name and value, and both encoded for the query.
#[derive(Debug)]
struct Seen {
    name: String,
    value: String,
    encoded: String,
}

/// The signing state of one repeatedly signed parameter list (one per load worker).
#[derive(Debug, Default)]
pub(crate) struct QueryMemo {
    /// The parameters in query order, as last signed.
    seen: Vec<Seen>,
    /// Positions in `seen` in signing order: `authToken` left out, sorted by name (stable,
    /// as [`auth_token::string_to_sign`] sorts).
    signing_order: Vec<usize>,
}

/// The HMAC last prepared on this thread, with its key (access key + timeStamp): every
/// request a thread signs within one millisecond has that key, whichever of its workers
/// signs it, and preparing a key is two of the hash's blocks.
#[derive(Default)]
struct Prepared {
    key: Vec<u8>,
    mac: Option<KeyedHmac>,
}

impl Prepared {
    /// HMAC-SHA256 under `access key + time_stamp`, prepared again only when the key changed.
    fn keyed(&mut self, key: &AccessKey, time_stamp: &str) -> KeyedHmac {
        // The key is the access key followed by the time stamp (`auth_token::hmac_key`).
        let same = self.key.strip_prefix(key.expose_bytes()) == Some(time_stamp.as_bytes());
        match &self.mac {
            Some(mac) if same => mac.clone(),
            _ => {
                self.key.clear();
                auth_token::push_hmac_key(&mut self.key, key, time_stamp);
                let mac = keyed_hmac(&self.key);
                self.mac = Some(mac.clone());
                mac
            }
        }
    }
}

thread_local! {
    static PREPARED: RefCell<Prepared> = RefCell::new(Prepared::default());
}

impl QueryMemo {
    /// The signed query for `params` (which must include `timeStamp`): the parameters in the
    /// given order, then `authToken`, every value percent-encoded.
    pub(crate) fn signed_query(
        &mut self,
        key: &AccessKey,
        params: &[(&str, &str)],
    ) -> Result<String, AuthTokenError> {
        self.remember(params);
        let time_stamp = auth_token::time_stamp_of(params)?;
        let mut mac = PREPARED.with_borrow_mut(|prepared| prepared.keyed(key, time_stamp));
        for (index, &position) in self.signing_order.iter().enumerate() {
            let Seen { name, value, .. } = &self.seen[position];
            if index > 0 {
                mac.update(b"&");
            }
            mac.update(name.as_bytes());
            mac.update(b"=");
            mac.update(value.as_bytes());
        }
        let token = STANDARD.encode(mac.finalize().into_bytes());
        // Base64 is 44 characters; `+ / =` escaped, at most three bytes each.
        let length = self
            .seen
            .iter()
            .map(|seen| seen.encoded.len() + 1)
            .sum::<usize>()
            + AUTH_TOKEN.len()
            + 1
            + token.len() * 3;
        let mut query = String::with_capacity(length);
        for seen in &self.seen {
            query.push_str(&seen.encoded);
            query.push('&');
        }
        query.push_str(AUTH_TOKEN);
        query.push('=');
        push_encoded(&mut query, &token);
        Ok(query)
    }

    /// Takes in this call's parameters, re-encoding only the values that changed and
    /// re-sorting only when the names did.
    fn remember(&mut self, params: &[(&str, &str)]) {
        let same_names = self.seen.len() == params.len()
            && self
                .seen
                .iter()
                .zip(params)
                .all(|(seen, (name, _))| seen.name == *name);
        if !same_names {
            self.seen = params
                .iter()
                .map(|(name, value)| Seen::of(name, value))
                .collect();
            self.signing_order = (0..params.len())
                .filter(|&position| params[position].0 != AUTH_TOKEN)
                .collect();
            self.signing_order
                .sort_by(|&a, &b| params[a].0.cmp(params[b].0));
            return;
        }
        for (seen, (name, value)) in self.seen.iter_mut().zip(params) {
            if seen.value != *value {
                seen.set(name, value);
            }
        }
    }
}

impl Seen {
    fn of(name: &str, value: &str) -> Self {
        let mut seen = Self {
            name: name.to_owned(),
            value: String::new(),
            encoded: String::new(),
        };
        seen.set(name, value);
        seen
    }

    /// A new value for the same name, written over the old one's buffers.
    fn set(&mut self, name: &str, value: &str) {
        value.clone_into(&mut self.value);
        self.encoded.clear();
        push_encoded(&mut self.encoded, name);
        self.encoded.push('=');
        push_encoded(&mut self.encoded, value);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The same query without the memo: what the memo must give.
    fn plain(key: &AccessKey, params: &[(&str, &str)]) -> Result<String, AuthTokenError> {
        auth_token::signed_query(key, params)
    }

    fn key() -> AccessKey {
        AccessKey::new("memo-test-key")
    }

    #[test]
    fn equals_the_plain_signer_as_values_change_one_by_one() {
        let mut memo = QueryMemo::default();
        let mut params = [
            ("activity", "newInstance".to_owned()),
            ("customerName", "华为 A&B=C+D".to_owned()),
            ("orderId", "CS1".to_owned()),
            ("businessId", "b-1".to_owned()),
            ("timeStamp", "20261206071245578".to_owned()),
        ];
        for round in 0..5 {
            params[2].1 = format!("CS{round}");
            params[4].1 = format!("2026120607124557{round}");
            if round == 3 {
                params[1].1 = "renamed/~".to_owned();
            }
            let pairs: Vec<(&str, &str)> = params.iter().map(|(n, v)| (*n, v.as_str())).collect();
            assert_eq!(
                memo.signed_query(&key(), &pairs),
                plain(&key(), &pairs),
                "round {round}"
            );
        }
    }

    #[test]
    fn the_prepared_key_follows_the_access_key_and_the_time_stamp() {
        // One thread, one millisecond, keys alternating (two runs' workers on one thread),
        // then the same key again and the next millisecond: each as the plain signer.
        let mut memo = QueryMemo::default();
        let other = AccessKey::new("memo-test-key-2");
        for (key, time_stamp) in [
            (key(), "20261206071245578"),
            (other.clone(), "20261206071245578"),
            (key(), "20261206071245578"),
            (key(), "20261206071245578"),
            (key(), "20261206071245579"),
            (other, "20261206071245579"),
        ] {
            let pairs = [("activity", "newInstance"), ("timeStamp", time_stamp)];
            assert_eq!(memo.signed_query(&key, &pairs), plain(&key, &pairs));
        }
    }

    #[test]
    fn a_missing_time_stamp_is_refused_as_by_the_plain_signer() {
        let mut memo = QueryMemo::default();
        let pairs = [("activity", "newInstance")];
        assert_eq!(
            memo.signed_query(&key(), &pairs),
            Err(AuthTokenError::MissingTimeStamp)
        );
    }

    fn list() -> impl Strategy<Value = Vec<(String, String)>> {
        proptest::collection::vec(("[a-zA-Z]{1,6}", "\\PC{0,12}"), 0..6).prop_map(|mut pairs| {
            pairs.push(("timeStamp".to_owned(), "20261206071245578".to_owned()));
            pairs
        })
    }

    proptest! {
        /// Any sequence of lists — names repeated, added, dropped, reordered, values
        /// changed or not — gives what the plain signer gives, call after call.
        #[test]
        fn equals_the_plain_signer_over_any_sequence(lists in proptest::collection::vec(list(), 1..6)) {
            let mut memo = QueryMemo::default();
            for list in &lists {
                let pairs: Vec<(&str, &str)> =
                    list.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                prop_assert_eq!(memo.signed_query(&key(), &pairs), plain(&key(), &pairs));
            }
        }
    }
}
