//! Pure domain logic: types, rules and calculations. No I/O, no async.

pub mod authz;
pub mod bulletin;
pub mod calendar;
pub mod case;
pub mod category;
pub mod coords;
pub mod grid_import;
pub mod grid_index;
pub mod indicators;
pub mod info_report;
pub mod inspection;
pub mod key_task;
pub mod manual;
pub mod merchant;
pub mod net;
pub mod org;
pub mod photo;
pub mod privacy;
pub mod volunteer;

/// An enum that is stored or sent as a fixed text: the one way to declare such enums
/// ([`string_enum!`] implements it). The store reads and writes every `StrEnum` column the
/// same way; serde uses the same texts.
pub trait StrEnum: Sized + Copy + 'static {
    /// Every variant, in declaration order.
    const ALL: &'static [Self];
    /// The stored and sent text, e.g. `grid_worker`.
    fn as_str(self) -> &'static str;
    /// The text back to the variant; also accepts the aliases the declaration lists (the
    /// Chinese names an office spreadsheet uses).
    fn parse(s: &str) -> Option<Self>;
}

/// Declares an enum stored or sent as text, once: its variants, their texts and optional
/// aliases accepted on input. Generates `ALL`, `as_str`, `parse`, `Display`, serde in both
/// directions (by the same texts) and [`StrEnum`].
///
/// ```ignore
/// string_enum! {
///     /// What a person does.
///     pub enum Role {
///         GridWorker = "grid_worker" | "网格员",
///     }
/// }
/// ```
#[macro_export]
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name { $( $(#[$vmeta])* $variant ),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Option<$name> {
                match s.trim() { $($text $(| $alias)* => Some($name::$variant),)+ _ => None }
            }
        }

        impl $crate::domain::StrEnum for $name {
            const ALL: &'static [$name] = $name::ALL;
            fn as_str(self) -> &'static str { $name::as_str(self) }
            fn parse(s: &str) -> Option<$name> { $name::parse(s) }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                $name::parse(&s).ok_or_else(|| {
                    let expected: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    ::serde::de::Error::custom(format!("unknown value {s:?}, expected one of {}", expected.join(", ")))
                })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::string_enum! {
        /// For the test only.
        enum Shade {
            Light = "light" | "浅",
            Dark = "dark",
        }
    }

    #[test]
    fn texts_aliases_and_serde_agree() {
        for s in Shade::ALL {
            assert_eq!(Shade::parse(s.as_str()), Some(*s));
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<Shade>(&json).unwrap(), *s);
        }
        assert_eq!(Shade::parse(" 浅 "), Some(Shade::Light));
        assert_eq!(Shade::Dark.to_string(), "dark");
        let err = serde_json::from_str::<Shade>("\"grey\"").unwrap_err().to_string();
        assert!(err.contains("light, dark"), "{err}");
    }
}
