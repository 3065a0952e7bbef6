//! The vocabulary: how each coded domain value (status, severity, level, verb, role, ...) is
//! written, read and shown. Every such enum gets its code, its zh-CN label and its parser from
//! the one `vocabulary!` table next to its definition, so the CLI, the FFI, the server and the
//! apps cannot drift apart: a code is read exactly (no case folding, no defaults), and an unknown
//! code is an `InvalidInput` naming the field it was typed into.

/// Implements `ALL`, `code()`, `zh()`, `Display` (the code) and `FromStr` (exact codes; an
/// unknown one is `Problem::Unknown` for `$field`) from one table of `Variant => (code, label)`.
macro_rules! vocabulary {
    ($ty:ident, $field:expr, { $($variant:ident => ($code:literal, $zh:literal)),+ $(,)? }) => {
        impl $ty {
            /// Every value, in the order the domain lists them.
            pub const ALL: [$ty; [$(stringify!($variant)),+].len()] = [$($ty::$variant),+];

            /// The stable code (wire, database, command line).
            pub fn code(self) -> &'static str {
                match self {
                    $($ty::$variant => $code),+
                }
            }

            /// The zh-CN label a person sees.
            pub fn zh(self) -> &'static str {
                match self {
                    $($ty::$variant => $zh),+
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::error::InvalidInput;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $ty::ALL
                    .into_iter()
                    .find(|v| v.code() == s)
                    .ok_or_else(|| $crate::vocab::unknown($field, s))
            }
        }
    };
}

pub(crate) use vocabulary;

use crate::error::{Field, InvalidInput, Problem};

/// An unknown code typed into `field`.
pub(crate) fn unknown(field: Field, code: &str) -> InvalidInput {
    // Codes are bounded so an error never carries a pasted paragraph.
    let code: String = code.chars().take(40).collect();
    InvalidInput::new(field, Problem::Unknown { code })
}

#[cfg(test)]
mod tests {
    use crate::activity::ActivityKind;
    use crate::hazard::{EscalationReason, HazardStatus, Level, Severity, Verb};
    use crate::org::{OrgLevel, Role};
    use crate::photo::{PhotoRole, Variant};
    use crate::place::RiskLevel;

    /// Each code reads back as itself, labels are zh-CN and distinct within an enum.
    fn round_trip<T>(all: &[T])
    where
        T: Copy + PartialEq + std::fmt::Debug + std::str::FromStr + std::fmt::Display,
    {
        for v in all {
            let code = v.to_string();
            assert!(code.parse::<T>().ok() == Some(*v), "{code}");
            assert!(
                code.to_uppercase().parse::<T>().is_err(),
                "{code}: one leniency, exact"
            );
        }
        assert!("no_such_code".parse::<T>().is_err());
    }

    fn distinct(labels: &[&str]) {
        let mut l = labels.to_vec();
        l.sort_unstable();
        l.dedup();
        assert_eq!(l.len(), labels.len(), "{labels:?}");
    }

    #[test]
    fn every_code_round_trips_and_labels_are_distinct() {
        round_trip(&HazardStatus::ALL);
        round_trip(&Severity::ALL);
        round_trip(&Level::ALL);
        round_trip(&EscalationReason::ALL);
        round_trip(&Verb::ALL);
        round_trip(&Role::ALL);
        round_trip(&OrgLevel::ALL);
        round_trip(&RiskLevel::ALL);
        round_trip(&PhotoRole::ALL);
        round_trip(&Variant::ALL);
        round_trip(&ActivityKind::ALL);
        distinct(&HazardStatus::ALL.map(HazardStatus::zh));
        distinct(&Verb::ALL.map(Verb::zh));
        distinct(&Role::ALL.map(Role::zh));
        distinct(&EscalationReason::ALL.map(EscalationReason::zh));
    }

    #[test]
    fn an_unknown_code_names_its_field_in_both_languages() {
        let e = match "chief".parse::<Role>() {
            Ok(r) => panic!("parsed {r}"),
            Err(e) => e,
        };
        assert_eq!(e.zh(), "未知的角色：chief");
        assert_eq!(e.en(), "unknown role: chief");
    }
}
