//! HTTPS for the open APIs: the real hosts are HTTPS-only and merchants must validate the
//! certificate strictly (spec: koogallery-v2-kit-license.md §6.1), so kgsim generates a CA on
//! the spot (rcgen), writes its certificate where the merchant can trust it, and serves with a
//! certificate that CA issued for the names the merchant uses.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A CA and a server identity it issued.
pub(crate) struct Identity {
    /// The CA certificate, PEM: what the merchant trusts.
    pub(crate) ca_pem: String,
    /// The TLS configuration serving the issued certificate.
    pub(crate) server: Arc<rustls::ServerConfig>,
}

/// Generating or loading the identity failed.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rcgen refused.
    #[error("cannot generate the certificates: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused.
    #[error("cannot configure TLS: {0}")]
    Configure(#[from] rustls::Error),
}

/// A fresh CA and a server certificate for `names` (DNS names or IP addresses).
pub(crate) fn generate(names: &[String]) -> Result<Identity, TlsError> {
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.distinguished_name
        .push(DnType::CommonName, "kgsim local open-API CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate()?)?;
    let mut leaf = CertificateParams::new(names.to_vec())?;
    leaf.distinguished_name.push(
        DnType::CommonName,
        names.first().map_or("localhost", String::as_str),
    );
    let leaf_key = KeyPair::generate()?;
    let leaf_cert = leaf.signed_by(&leaf_key, &ca)?;
    let chain = vec![leaf_cert.der().clone(), ca.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            chain.into_iter().map(CertificateDer::into_owned).collect(),
            key,
        )?;
    Ok(Identity {
        ca_pem: ca.pem(),
        server: Arc::new(server),
    })
}
