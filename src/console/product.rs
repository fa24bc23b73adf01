//! A product as the console's API creates it, and the marketplace settings it stands for.
//! The request is kept in the database as given: it holds no secret (access keys come from
//! the environment when the console starts).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::marketplace::Settings;
use crate::marketplace::clock::Span;
use crate::marketplace::kind::{ProductKind, ProductType};
use crate::marketplace::settings::{InterfaceKeys, KitSettings};
use crate::protocol::v2::client_secret::{MerchantPublicKey, OaepDigest};
use crate::protocol::{AccessKey, Activity, BillingMode, Protocol};
use crate::transport::target::TargetUrl;

/// `POST /api/products`: a merchant's product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProductSpec {
    /// The production interface address (生产接口地址), `http://` or `https://`.
    pub(crate) production_address: String,
    /// A name for the pages (the address when omitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    /// The SaaS protocol version.
    #[serde(default)]
    pub(crate) protocol: Protocol,
    /// How it is billed.
    #[serde(default)]
    pub(crate) billing: BillingMode,
    /// What is sold (License products are V2).
    #[serde(default)]
    pub(crate) product: ProductType,
    /// How long the marketplace waits for an answer, in seconds (the platform's 20 s when
    /// omitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) timeout_seconds: Option<u32>,
    /// V2: where every order is notified (`orderNotify`, spec V2 §5), signed with the
    /// 通用接口 key; omitted: no notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) order_notify: Option<String>,
    /// 联营 (V2 SaaS): the merchant's RSA public key (PEM or bare Base64, ≥ 3072 bits) that
    /// `clientSecret` is encrypted with (spec V2 §3); omitted: no Kit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) kit_public_key: Option<String>,
    /// The OAEP digests for `clientSecret` (`sha256-mgf1-sha1` when omitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) kit_oaep_digest: Option<OaepDigest>,
    /// A folder of the product's own scenarios (on the console's machine) that its suite
    /// runs take instead of the built-in suite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) scenarios: Option<String>,
    /// The optional interfaces the product implements (`kgsim run --interface`): its suite
    /// runs take the scenarios that test them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) interfaces: Vec<String>,
}

/// What is wrong with a product request.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SpecError {
    /// The field.
    pub(crate) field: &'static str,
    /// What is wrong, with the values allowed.
    pub(crate) message: String,
}

/// A product request, checked: its settings and its production address.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// The marketplace settings.
    pub(crate) settings: Settings,
    /// Where calls go.
    pub(crate) target: TargetUrl,
    /// The per-call timeout.
    pub(crate) timeout: std::time::Duration,
    /// Where order notifications go, if anywhere.
    pub(crate) notify: Option<TargetUrl>,
}

impl ProductSpec {
    /// The name the pages show.
    pub(crate) fn display_name(&self) -> String {
        self.name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| self.production_address.clone())
    }

    /// The kind of product (protocol × billing × type), checked.
    pub(crate) fn kind(&self) -> Result<ProductKind, SpecError> {
        let (protocol, billing, product) = (self.protocol, self.billing, self.product);
        if product != ProductType::Saas && protocol != Protocol::V2 {
            return Err(SpecError {
                field: "product",
                message: "License products exist in the V2 protocol only".into(),
            });
        }
        let kind = ProductKind {
            protocol,
            billing,
            product,
        };
        match kind.invalid() {
            Some(why) => Err(SpecError {
                field: "billing",
                message: why,
            }),
            None => Ok(kind),
        }
    }

    /// The interfaces the kind has, required first (spec V1 §1, V2 §2.9, §4).
    pub(crate) fn interfaces(&self) -> Vec<(Activity, bool)> {
        self.kind().map_or_else(
            |_| Vec::new(),
            |kind| {
                let required = kind.required().iter().map(|a| (*a, true));
                required
                    .chain(kind.optional().iter().map(|a| (*a, false)))
                    .collect()
            },
        )
    }

    /// The optional interfaces the product declares, each one its kind has.
    pub(crate) fn declared(&self, kind: ProductKind) -> Result<Vec<Activity>, SpecError> {
        self.interfaces
            .iter()
            .map(|name| {
                name.parse::<Activity>()
                    .ok()
                    .filter(|a| kind.optional().contains(a))
                    .ok_or_else(|| {
                        let allowed: Vec<&str> = kind.optional().iter().map(|a| a.slug()).collect();
                        SpecError {
                            field: "interfaces",
                            message: format!(
                                "`{name}` is not an optional interface of {} products (they have: {})",
                                kind.name(),
                                allowed.join(", ")
                            ),
                        }
                    })
            })
            .collect()
    }

    /// The Kit's settings, when the product has the Kit; `domain` is where the identity
    /// centre is served (announced in tenantSync).
    fn kit(&self, kind: ProductKind, domain: &str) -> Result<Option<KitSettings>, SpecError> {
        let Some(key) = &self.kit_public_key else {
            return Ok(None);
        };
        if kind.protocol != Protocol::V2 || kind.product != ProductType::Saas {
            return Err(SpecError {
                field: "kit_public_key",
                message: "联营 (the Kit) is for V2 SaaS products".into(),
            });
        }
        let public_key = MerchantPublicKey::parse(key).map_err(|e| SpecError {
            field: "kit_public_key",
            message: e.to_string(),
        })?;
        let digest = self.kit_oaep_digest.unwrap_or_default();
        Ok(Some(KitSettings {
            public_key,
            digest,
            domain_name: domain.to_owned(),
        }))
    }

    /// Checks the request and builds the settings: the basic interfaces signed with `key`, the
    /// other interface types with theirs (each falling back to `key`, spec V2 §1.2); the Kit
    /// announces `domain` as the identity centre.
    pub(crate) fn resolve(
        &self,
        key: &AccessKey,
        keys: &InterfaceKeys,
        domain: &str,
    ) -> Result<Resolved, SpecError> {
        let kind = self.kind()?;
        let target = TargetUrl::parse(&self.production_address).map_err(|e| SpecError {
            field: "production_address",
            message: e.to_string(),
        })?;
        let seconds = self.timeout_seconds.unwrap_or(20);
        if !(1..=120).contains(&seconds) {
            return Err(SpecError {
                field: "timeout_seconds",
                message: format!("{seconds} is outside 1..=120"),
            });
        }
        let notify = match self.order_notify.as_deref() {
            None => None,
            Some(_) if kind.protocol != Protocol::V2 => {
                return Err(SpecError {
                    field: "order_notify",
                    message: "order notification exists in the V2 protocol only".into(),
                });
            }
            Some(url) => Some(TargetUrl::parse(url).map_err(|e| SpecError {
                field: "order_notify",
                message: e.to_string(),
            })?),
        };
        self.declared(kind)?;
        let mut settings = Settings::new(kind.protocol, key.clone());
        settings.billing = kind.billing;
        settings.product = kind.product;
        settings.timeout = Span::seconds(i64::from(seconds));
        settings.keys = keys.clone();
        settings.order_notify = notify.is_some();
        settings.kit = self.kit(kind, domain)?;
        Ok(Resolved {
            settings,
            target,
            timeout: std::time::Duration::from_secs(u64::from(seconds)),
            notify,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOMAIN: &str = "http://127.0.0.1:9";

    fn spec(json: &str) -> Result<ProductSpec, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn defaults_to_a_v1_period_saas_product() {
        let spec = spec(r#"{"production_address":"http://127.0.0.1:9/p"}"#).unwrap();
        let resolved = spec
            .resolve(&AccessKey::new("k"), &InterfaceKeys::default(), DOMAIN)
            .unwrap();
        assert_eq!(resolved.settings.protocol, Protocol::V1);
        assert_eq!(resolved.settings.billing, BillingMode::Period);
        assert_eq!(resolved.settings.product, ProductType::Saas);
        assert_eq!(resolved.timeout, std::time::Duration::from_secs(20));
    }

    #[test]
    fn names_the_field_and_the_values_allowed() {
        let key = AccessKey::new("k");
        let error = spec(r#"{"production_address":"http://h/p","billing":"monthly"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("unknown variant `monthly`, expected one of `period`, `one-time`"),
            "{error}"
        );
        let bad = spec(r#"{"production_address":"ftp://h/p"}"#).unwrap();
        assert!(
            bad.resolve(&key, &InterfaceKeys::default(), DOMAIN)
                .unwrap_err()
                .to_string()
                .starts_with("production_address")
        );
        let bad = spec(r#"{"production_address":"http://h/p","product":"license-code"}"#).unwrap();
        assert!(
            bad.resolve(&key, &InterfaceKeys::default(), DOMAIN)
                .unwrap_err()
                .to_string()
                .contains("V2 protocol only")
        );
        assert!(spec(r#"{"production_address":"http://h/p","colour":"red"}"#).is_err());
        let bad =
            spec(r#"{"production_address":"http://h/p","order_notify":"http://h/n"}"#).unwrap();
        assert!(
            bad.resolve(&key, &InterfaceKeys::default(), DOMAIN)
                .unwrap_err()
                .to_string()
                .contains("V2 protocol only")
        );
        let bad = spec(r#"{"production_address":"http://h/p","protocol":"v2","product":"license-code","billing":"on-demand"}"#).unwrap();
        assert!(
            bad.resolve(&key, &InterfaceKeys::default(), DOMAIN)
                .unwrap_err()
                .to_string()
                .starts_with("billing: ")
        );
    }

    #[test]
    fn declared_interfaces_are_the_kinds_optional_ones() {
        let key = AccessKey::new("k");
        let ok = spec(r#"{"production_address":"http://h/p","interfaces":["upgrade"]}"#).unwrap();
        assert!(ok.resolve(&key, &InterfaceKeys::default(), DOMAIN).is_ok());
        let bad =
            spec(r#"{"production_address":"http://h/p","interfaces":["new-instance"]}"#).unwrap();
        let error = bad
            .resolve(&key, &InterfaceKeys::default(), DOMAIN)
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("interfaces: `new-instance` is not an optional"),
            "{error}"
        );
        assert!(error.contains("upgrade"), "{error}");
    }

    #[test]
    fn the_interfaces_are_the_kinds_required_first() {
        let spec =
            spec(r#"{"production_address":"http://h/p","protocol":"v2","product":"license-code"}"#)
                .unwrap();
        let interfaces = spec.interfaces();
        assert!(
            interfaces.contains(&(Activity::RefreshLicenseCode, true)),
            "{interfaces:?}"
        );
        assert!(
            !interfaces.iter().any(|(a, _)| *a == Activity::NewInstance),
            "{interfaces:?}"
        );
        let first_optional = interfaces.iter().position(|(_, required)| !required);
        assert!(
            interfaces
                .iter()
                .skip(first_optional.unwrap_or(interfaces.len()))
                .all(|(_, r)| !r)
        );
    }
}
