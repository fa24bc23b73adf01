//! The API document's schemas of the protocol's enums: strings whose allowed values are the
//! enum's slugs, so the document lists them (the enums live below the console and know
//! nothing of its API).

use std::borrow::Cow;

use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{RefOr, schema};

use crate::marketplace::kind::ProductType;
use crate::protocol::v2::client_secret::OaepDigest;
use crate::protocol::{BillingMode, Protocol};

/// A string schema of an enum's slugs.
fn slugs(description: &str, values: &'static [&'static str]) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .description(Some(description))
        .enum_values(Some(values.iter().copied()))
        .build()
        .into()
}

macro_rules! slug_schema {
    ($($type:ident: $description:literal),+ $(,)?) => {$(
        impl utoipa::PartialSchema for $type {
            fn schema() -> RefOr<Schema> {
                slugs($description, $type::SLUGS)
            }
        }

        impl utoipa::ToSchema for $type {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($type))
            }

            fn schemas(_: &mut Vec<(String, RefOr<schema::Schema>)>) {}
        }
    )+};
}

slug_schema!(
    Protocol: "The SaaS protocol version.",
    BillingMode: "How the product is billed.",
    ProductType: "What is sold.",
    OaepDigest: "The OAEP and MGF1 digests clientSecret is encrypted with.",
);
