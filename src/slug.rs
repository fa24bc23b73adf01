//! Enums with a text name ("slug"): one mechanism for every enum that users type or read —
//! in flags, profiles, scenarios, the console's API and its database. [`slug_impls!`] gives
//! an enum its list of values (`ALL`), the accessor `slug()`, `Display`, and `FromStr` with an
//! error that lists the allowed values ([`UnknownSlug`]).

/// A name that is none of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} `{got}` is not one of {}", allowed.join(", "))]
pub struct UnknownSlug {
    /// What was being named (`protocol`, `billing mode`, …).
    pub(crate) what: &'static str,
    /// What was given.
    pub(crate) got: String,
    /// The values allowed.
    pub(crate) allowed: &'static [&'static str],
}

/// Gives an enum its slugs, with the enum's own visibility:
/// `slug_impls!(pub Protocol, "protocol", { V1 = "v1", V2 = "v2" });`.
/// Parsing takes the slug exactly, or in another letter case.
#[macro_export]
#[doc(hidden)]
macro_rules! slug_impls {
    ($vis:vis $type:ident, $what:literal, { $( $variant:ident = $slug:literal ),+ $(,)? }) => {
        impl $type {
            /// Every value, in declaration order.
            $vis const ALL: &'static [$type] = &[ $( $type::$variant ),+ ];
            /// Every value's slug, in declaration order.
            $vis const SLUGS: &'static [&'static str] = &[ $( $slug ),+ ];

            /// Its text name.
            $vis fn slug(self) -> &'static str {
                match self {
                    $( $type::$variant => $slug, )+
                }
            }
        }

        impl ::std::fmt::Display for $type {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.slug())
            }
        }

        impl ::std::str::FromStr for $type {
            type Err = $crate::slug::UnknownSlug;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|value| value.slug() == text)
                    .or_else(|| {
                        Self::ALL
                            .iter()
                            .copied()
                            .find(|value| value.slug().eq_ignore_ascii_case(text))
                    })
                    .ok_or_else(|| $crate::slug::UnknownSlug {
                        what: $what,
                        got: text.to_owned(),
                        allowed: Self::SLUGS,
                    })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Colour {
        Red,
        DeepBlue,
    }

    crate::slug_impls!(Colour, "colour", { Red = "red", DeepBlue = "deep-blue" });

    #[test]
    fn slugs_round_trip_and_errors_list_the_values() {
        for colour in Colour::ALL {
            assert_eq!(colour.slug().parse::<Colour>(), Ok(*colour));
            assert_eq!(colour.to_string(), colour.slug());
        }
        assert_eq!("DEEP-BLUE".parse::<Colour>(), Ok(Colour::DeepBlue));
        let error = "green".parse::<Colour>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "colour `green` is not one of red, deep-blue"
        );
    }
}
