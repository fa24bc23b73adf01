//! The flags that say what the product is beyond its protocol and billing mode: a License
//! product, a 联营 product with the Kit and the identity centre, an order-notification
//! address — and the material they need (the merchant's RSA public key, the keys bound to
//! the other interface types).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use crate::cli::exit::{Failure, Kind as _};
use crate::fsio::{self, INPUT_FILE_CAP};
use crate::marketplace::kind::ProductType;
use crate::protocol::v2::client_secret::{MerchantPrivateKey, MerchantPublicKey, OaepDigest};
use crate::scenario::profile::Profile;
use crate::transport::TargetUrl;

/// The embedded reference merchant's Kit key (RSA 3072, PKCS#8): only ever the embedded
/// merchant's, whose clientSecret is kgsim's own test data.
const EMBEDDED_MERCHANT_KIT_KEY: &str =
    include_str!("../../fixtures/kit/embedded-merchant-private.pem");

/// The product flags of `kgsim run`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ProductFlags {
    /// What is sold: saas (the default), license-code (License 2.0 codes, spec §4.2) or
    /// online-license (§4.5). License products need --protocol v2.
    #[arg(long, value_name = "TYPE")]
    pub(crate) product: Option<ProductType>,
    /// A 联营 (joint-operation) product: the marketplace sends the five Kit syncs and serves
    /// the identity centre the merchant's login uses (V2 only).
    #[arg(long)]
    pub(crate) kit: bool,
    /// The merchant's RSA public key (PEM, at least 3072 bits) that applicationSync's
    /// clientSecret is encrypted with; the embedded merchant brings its own.
    #[arg(long, value_name = "PEM")]
    pub(crate) kit_public_key: Option<PathBuf>,
    /// The OAEP digests of clientSecret: sha256-mgf1-sha1 (the default: what Java's
    /// OAEPWithSHA-256AndMGF1Padding does), sha1 or sha256.
    #[arg(long, value_name = "DIGEST")]
    pub(crate) kit_oaep_digest: Option<OaepDigest>,
    /// The merchant's login callback (OAuth 2.0 redirect_uri, CAS service); the embedded
    /// merchant's own when omitted.
    #[arg(long, value_name = "URL")]
    pub(crate) login_url: Option<String>,
    /// Notify every order the marketplace creates to this address (`https://domain[:port]`,
    /// spec §5); without a value, the production address's origin.
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    pub(crate) order_notify: Option<String>,
}

/// The Kit's key pair: the public key the marketplace encrypts with, and — for the embedded
/// merchant — the private key it decrypts with.
pub(crate) struct KitKeys {
    /// Encrypts clientSecret.
    pub(crate) public: MerchantPublicKey,
    /// The embedded merchant's, generated for the run.
    pub(crate) private: Option<MerchantPrivateKey>,
}

impl ProductFlags {
    /// The Kit's keys, when the product is a 联营 one: the file the profile or flag names,
    /// or for the embedded merchant a fresh 3072-bit pair.
    pub(crate) fn kit_keys(profile: &Profile, embedded: bool) -> Result<Option<KitKeys>, Failure> {
        if !profile.kit.enabled {
            return Ok(None);
        }
        if let Some(path) = &profile.kit.public_key {
            let text = fsio::read_text_capped(std::path::Path::new(path), INPUT_FILE_CAP)
                .could_not_run()?;
            let public = MerchantPublicKey::parse(&text)
                .with_context(|| format!("the Kit public key {path}"))
                .usage()?;
            return Ok(Some(KitKeys {
                public,
                private: None,
            }));
        }
        if !embedded {
            return Err(Failure::Usage(anyhow::anyhow!(
                "a Kit run needs the merchant's RSA public key: pass --kit-public-key PEM (or kit-public-key in the profile)"
            )));
        }
        // The embedded reference merchant's own fixed key: generating a 3072-bit key cost
        // 0.27 s of every Kit run, and this key guards nothing (the merchant is kgsim's own,
        // on a loopback port for one run). A user's merchant always brings its own key.
        let private = MerchantPrivateKey::parse(EMBEDDED_MERCHANT_KIT_KEY)
            .context("the embedded merchant's RSA key")
            .could_not_run()?;
        Ok(Some(KitKeys {
            public: private.public_key(),
            private: Some(private),
        }))
    }

    /// The order-notification address: the one given, or the production address's origin.
    pub(crate) fn notify_target(
        profile: &Profile,
        production: &TargetUrl,
    ) -> Result<Option<TargetUrl>, Failure> {
        match profile.order_notify.as_deref() {
            None => Ok(None),
            Some("") => TargetUrl::parse(&production.with_path("/"))
                .map(Some)
                .usage(),
            Some(url) => TargetUrl::parse(url).map(Some).usage(),
        }
    }
}
