//! Value types of scenario files that check themselves while they are read, so
//! that an error points at the offending value: durations with units,
//! probabilities, positive rates.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// A non-negative duration, in whole microseconds, written as a string with a
/// unit: `"250us"` (or `"250µs"`), `"50ms"`, `"30s"`, `"15m"` (or
/// `"15min"`), `"2h"`, `"1d"`. A number without a unit (`50`, `0.05`,
/// `"50"`) is refused with a hint ([`missing_unit`]): a value is never read
/// in a unit the user did not write (DESIGN.md §7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dur(pub u64);

impl Dur {
    /// `n` microseconds.
    pub const fn micros(n: u64) -> Dur {
        Dur(n)
    }
    /// `n` milliseconds.
    pub const fn millis(n: u64) -> Dur {
        Dur(n * 1_000)
    }
    /// `n` seconds.
    pub const fn secs(n: u64) -> Dur {
        Dur(n * 1_000_000)
    }
    /// As a `std::time::Duration`.
    pub fn std(self) -> std::time::Duration {
        std::time::Duration::from_micros(self.0)
    }
    /// As seconds.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    /// Parses `"50ms"`-style text: a non-negative number and one of [`UNITS`].
    pub fn parse(s: &str) -> Result<Dur, String> {
        let s = s.trim();
        let split = s.find(|c: char| c.is_alphabetic()).unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let num: f64 =
            num.trim().parse().map_err(|_| format!("expected a duration such as \"50ms\" or \"2h\", got {s:?}"))?;
        let scale = match unit.trim() {
            "" => return Err(missing_unit(num)),
            // The micro sign (U+00B5) or the Greek letter mu (U+03BC).
            "us" | "µs" | "μs" => 1.0,
            "ms" => 1e3,
            "s" => 1e6,
            "m" | "min" => 60e6,
            "h" => 3600e6,
            "d" => 86_400e6,
            other => {
                return Err(format!("unknown duration unit {other:?} (units: {UNITS})"));
            }
        };
        Dur::from_micros_f64(num * scale)
    }
    fn from_micros_f64(us: f64) -> Result<Dur, String> {
        if !us.is_finite() || us < 0.0 {
            return Err("expected a non-negative duration".to_string());
        }
        if us > 1e18 {
            return Err("duration too long".to_string());
        }
        Ok(Dur(us.round() as u64))
    }
}

/// The units a duration may have, as errors list them.
pub const UNITS: &str = "us, ms, s, m or min, h, d";

/// The refusal of a number written without a unit, showing the number with
/// the two units it most likely meant.
pub fn missing_unit(n: f64) -> String {
    if !n.is_finite() || n < 0.0 {
        return format!("expected a non-negative duration with a unit, such as \"50ms\" (units: {UNITS})");
    }
    format!("durations need a unit: did you mean \"{n}ms\" or \"{n}s\"? (units: {UNITS})")
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0;
        for (unit, scale) in
            [("d", 86_400_000_000), ("h", 3_600_000_000), ("m", 60_000_000), ("s", 1_000_000), ("ms", 1_000)]
        {
            if us >= scale && us.is_multiple_of(scale) {
                return write!(f, "{}{unit}", us / scale);
            }
        }
        write!(f, "{us}us")
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration with a unit, such as \"50ms\" or \"2h\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Dur, E> {
                Dur::parse(s).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Dur, E> {
                Err(E::custom(missing_unit(n as f64)))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Dur, E> {
                Err(E::custom(missing_unit(n as f64)))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Dur, E> {
                Err(E::custom(missing_unit(n)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A probability in [0, 1].
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize)]
pub struct Probability(pub f64);

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let p = f64::deserialize(d)?;
        if !(0.0..=1.0).contains(&p) {
            return Err(de::Error::custom(format!("expected a probability from 0 to 1, got {p}")));
        }
        Ok(Probability(p))
    }
}

/// A finite number that is zero or more (rates, shapes, exponents).
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize)]
pub struct NonNegative(pub f64);

impl<'de> Deserialize<'de> for NonNegative {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let x = f64::deserialize(d)?;
        if !x.is_finite() || x < 0.0 {
            return Err(de::Error::custom(format!("expected a number of at least 0, got {x}")));
        }
        Ok(NonNegative(x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_with_units() {
        assert_eq!(Dur::parse("50ms"), Ok(Dur::millis(50)));
        assert_eq!(Dur::parse("2h"), Ok(Dur::secs(7200)));
        assert_eq!(Dur::parse("1.5s"), Ok(Dur::millis(1500)));
        assert_eq!(Dur::parse("250us"), Ok(Dur::micros(250)));
        assert_eq!(Dur::parse("15min"), Ok(Dur::secs(900)));
        assert_eq!(Dur::parse("15m"), Ok(Dur::secs(900)));
        assert_eq!(Dur::parse("1d"), Ok(Dur::secs(86_400)));
        assert_eq!(Dur::parse("7µs"), Ok(Dur::micros(7)));
        assert!(Dur::parse("-5ms").unwrap_err().contains("non-negative"));
        assert!(Dur::parse("5 parsecs").is_err());
        assert_eq!(Dur::secs(7200).to_string(), "2h");
        assert_eq!(Dur::micros(1500).to_string(), "1500us");
    }

    #[test]
    fn a_number_without_a_unit_is_refused_with_a_hint() {
        let hint = "durations need a unit: did you mean \"50ms\" or \"50s\"? (units: us, ms, s, m or min, h, d)";
        assert_eq!(Dur::parse("50"), Err(hint.to_string()));
        assert_eq!(Dur::parse(" 50 "), Err(hint.to_string()));
        assert!(Dur::parse("0.5").unwrap_err().starts_with("durations need a unit: did you mean \"0.5ms\""));
        assert!(Dur::parse("0").unwrap_err().starts_with("durations need a unit"));
        let de = |text: &str| toml::from_str::<toml::Table>(text).unwrap()["v"].clone().try_into::<Dur>();
        assert_eq!(de("v = 50").unwrap_err().message(), hint);
        assert!(de("v = 0.05").unwrap_err().message().starts_with("durations need a unit: did you mean \"0.05ms\""));
        assert!(de("v = -3").unwrap_err().message().starts_with("expected a non-negative duration with a unit"));
        assert_eq!(de("v = \"50\"").unwrap_err().message(), hint);
        assert_eq!(de("v = \"50ms\"").unwrap(), Dur::millis(50));
        assert!(de("v = true").unwrap_err().message().contains("expected a duration with a unit"));
    }
}

/// The schemas of the unit types, for the scenario reference
/// (`kadsim validate --reference`): how each is written in a file.
mod schema {
    use super::{Dur, NonNegative, Probability};
    use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
    use std::borrow::Cow;

    impl JsonSchema for Dur {
        fn schema_name() -> Cow<'static, str> {
            "Duration".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({ "type": "string", "description": "a duration with its unit: \"250us\", \"50ms\", \"30s\", \"15m\", \"2h\", \"1d\"" })
        }
    }

    impl JsonSchema for Probability {
        fn schema_name() -> Cow<'static, str> {
            "Probability".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({ "type": "number", "minimum": 0.0, "maximum": 1.0, "description": "a number from 0 to 1" })
        }
    }

    impl JsonSchema for NonNegative {
        fn schema_name() -> Cow<'static, str> {
            "NonNegative".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({ "type": "number", "minimum": 0.0, "description": "a number of at least 0" })
        }
    }
}
