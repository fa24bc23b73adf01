//! The answer to "does this signature verify, and if not, why?".
//!
//! Merchants lose days to "my authToken does not match". A bare "mismatch" does not help; the
//! diagnosing verifiers in this module's siblings recompute the signature the way common
//! mistakes would and name the step that differs when one of them reproduces the value
//! that was received.

use std::fmt;

/// The outcome of verifying one signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The signature is what the scheme prescribes.
    Valid,
    /// The signature differs from the expected value.
    Invalid(Mismatch),
}

/// A signature that did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The value the scheme prescribes (safe to print: it is a MAC, not the key).
    pub(crate) expected: String,
    /// The value that was received (empty when it was missing).
    pub(crate) got: String,
    /// The known mistake that reproduces `got`, when one does.
    pub(crate) cause: Option<Cause>,
}

/// A named mistake that explains a mismatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cause {
    /// A stable identifier, e.g. `not-url-decoded`.
    pub(crate) id: &'static str,
    /// The step that differs, in a sentence a merchant engineer can act on.
    pub(crate) explanation: &'static str,
}

impl Verdict {
    /// Whether the signature verified.
    pub fn is_valid(&self) -> bool {
        matches!(self, Self::Valid)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.explanation, self.id)
    }
}

impl Verdict {
    /// The verdict on a signature over a body that is not a JSON object: there is no payload
    /// to sign, so nothing can match.
    pub(crate) fn unsignable(received: &str) -> Self {
        Self::Invalid(Mismatch {
            expected: "(the body is not a JSON object, so it cannot be signed)".to_owned(),
            got: received.to_owned(),
            cause: None,
        })
    }
}

/// One way of getting a signature wrong: how to recompute it with that mistake.
pub(crate) struct Suspect<'a> {
    pub(crate) cause: Cause,
    pub(crate) recompute: Box<dyn Fn() -> Option<String> + 'a>,
}

impl<'a> Suspect<'a> {
    pub(crate) fn new(
        id: &'static str,
        explanation: &'static str,
        recompute: impl Fn() -> Option<String> + 'a,
    ) -> Self {
        Self {
            cause: Cause { id, explanation },
            recompute: Box::new(recompute),
        }
    }
}

/// Builds the verdict for a received value: valid when `matches(expected, got)`, else the
/// first suspect whose recomputation `matches` what was received names the cause.
pub(crate) fn judge(
    expected: String,
    got: &str,
    matches: impl Fn(&str, &str) -> bool,
    suspects: &[Suspect<'_>],
) -> Verdict {
    if matches(&expected, got) {
        return Verdict::Valid;
    }
    let cause = suspects
        .iter()
        .find(|suspect| (suspect.recompute)().is_some_and(|value| matches(&value, got)))
        .map(|suspect| suspect.cause);
    Verdict::Invalid(Mismatch {
        expected,
        got: got.to_owned(),
        cause,
    })
}
