//! The shape of a scenario before its values are read: every section is a
//! table and every `[[network.partitions]]` item is one. serde reads a struct
//! from a sequence too, field by field in order, so without this check
//! `protocol = [8, 3]` would be k = 8, α = 3 and `--set 'workload=[1,2]'`
//! would replace the whole workload by two rates.

/// The fields of a scenario that are sections: each must be a table
/// (`[protocol]`, or an inline table `session = { ... }`), never an array or
/// a plain value. A test serializes a fully populated scenario and checks
/// that every table in it is listed here.
pub const SECTIONS: &[&str] = &[
    "protocol",
    "bootstrap",
    "network",
    "network.latency",
    "network.latency.access",
    "network.loss",
    "churn",
    "churn.session",
    "churn.downtime",
    "workload",
    "output",
    "adversary",
];

/// The fields of a scenario that are arrays of tables (`[[network.partitions]]`):
/// an array whose every item is a table.
pub const TABLE_ARRAYS: &[&str] = &["network.partitions"];

/// Checks that every section `table` sets is a table and every array of
/// tables is one: `Err((field path, what was expected))`, the path of an
/// array item with its index (`network.partitions.1`).
pub fn check(table: &toml::Table) -> Result<(), (String, String)> {
    for path in SECTIONS {
        if let Some(v) = lookup(table, path)
            && !v.is_table()
        {
            return Err((path.to_string(), format!("expected a table ([{path}]), got {}", kind(v))));
        }
    }
    for path in TABLE_ARRAYS {
        let Some(v) = lookup(table, path) else { continue };
        let Some(items) = v.as_array() else {
            return Err((path.to_string(), format!("expected an array of tables ([[{path}]]), got {}", kind(v))));
        };
        if let Some((i, item)) = items.iter().enumerate().find(|(_, item)| !item.is_table()) {
            return Err((format!("{path}.{i}"), format!("expected a table ([[{path}]]), got {}", kind(item))));
        }
    }
    Ok(())
}

/// The value at dotted `path`, if every table on the way is there.
fn lookup<'a>(table: &'a toml::Table, path: &str) -> Option<&'a toml::Value> {
    let mut parts = path.split('.');
    let mut value = table.get(parts.next()?)?;
    for part in parts {
        value = value.as_table()?.get(part)?;
    }
    Some(value)
}

/// A TOML value's kind, in words.
fn kind(v: &toml::Value) -> &'static str {
    match v {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a float",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "an array",
        toml::Value::Table(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::adversary::{Adversary, BehaviourName, IdPlacement, Victims};
    use crate::scenario::units::{Dur, NonNegative, Probability};
    use crate::scenario::*;

    /// A scenario with every optional field and list filled in.
    fn fully_populated() -> Scenario {
        let dist = Distribution {
            dist: DistKind::Lognormal,
            mean: Some(Dur::secs(1)),
            shape: Some(NonNegative(1.0)),
            scale: Some(Dur::secs(1)),
            median: Some(Dur::secs(1)),
            sigma: Some(NonNegative(1.0)),
        };
        let mut sc = Scenario::default();
        sc.protocol.max_per_subnet_per_bucket = Some(2);
        sc.network.latency = Latency {
            value: Some(Dur::millis(1)),
            min: Some(Dur::millis(1)),
            max: Some(Dur::millis(1)),
            median: Some(Dur::millis(1)),
            sigma: Some(NonNegative(1.0)),
            width: Some(Dur::millis(1)),
            height_mean: Some(Dur::millis(1)),
            file: Some("m.txt".into()),
            format: Some(MatrixFormat::Dense),
            unit: Some(MatrixUnit::Micros),
            missing: Some(MatrixMissing::Estimate),
            access: Some(dist.clone()),
            sha1: Some(Sha1Hex::try_from("0".repeat(40)).unwrap()),
            ..Latency::default()
        };
        let p = Some(Probability(0.5));
        sc.network.loss = Loss { rate: p, p_good_bad: p, p_bad_good: p, loss_good: p, loss_bad: p, ..Loss::default() };
        let part = Partition { start: Dur::secs(1), end: Dur::secs(2), fraction: Probability(0.5) };
        sc.network.partitions = vec![part.clone(), part];
        sc.churn.session = Some(dist.clone());
        sc.churn.downtime = Some(dist);
        sc.churn.trace = Some("t.csv".into());
        sc.adversary = Adversary {
            count: Some(1),
            fraction: p,
            ids: IdPlacement::Sybil,
            target: Some("00".repeat(20)),
            victims: Some(Victims::List(vec![1, 2])),
            join_at: Dur::secs(1),
            behaviours: vec![BehaviourName::Poison],
            subnets: 1,
        };
        sc
    }

    /// Every path of `value` that holds a table, and every one that holds an
    /// array of tables.
    fn tables(prefix: &str, table: &toml::Table, found: &mut Vec<String>, arrays: &mut Vec<String>) {
        for (key, v) in table {
            let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
            match v {
                toml::Value::Table(t) => {
                    tables(&path, t, found, arrays);
                    found.push(path);
                }
                toml::Value::Array(items) if items.iter().any(toml::Value::is_table) => {
                    for item in items.iter().filter_map(toml::Value::as_table) {
                        tables(&path, item, found, arrays);
                    }
                    arrays.push(path);
                }
                _ => {}
            }
        }
    }

    #[test]
    fn every_section_of_the_schema_is_listed() {
        let table = toml::Table::try_from(fully_populated()).unwrap();
        let (mut found, mut arrays) = (Vec::new(), Vec::new());
        tables("", &table, &mut found, &mut arrays);
        found.sort();
        arrays.sort();
        arrays.dedup();
        let mut listed: Vec<String> = SECTIONS.iter().map(|s| s.to_string()).collect();
        listed.sort();
        assert_eq!(found, listed, "a struct-typed field of Scenario is missing from SECTIONS (or listed but gone)");
        assert_eq!(arrays, TABLE_ARRAYS, "an array of tables is missing from TABLE_ARRAYS");
    }

    #[test]
    fn sections_given_as_anything_but_a_table_are_refused() {
        let shape = |text: &str| check(&text.parse::<toml::Table>().unwrap());
        assert_eq!(shape("[protocol]\nk = 8\n[[network.partitions]]\nstart = \"1s\"\n"), Ok(()));
        assert_eq!(shape("[churn]\nsession = { dist = \"exponential\" }\n"), Ok(()));
        let e = |path: &str, message: &str| Err((path.to_string(), message.to_string()));
        assert_eq!(shape("protocol = [8, 3]\n"), e("protocol", "expected a table ([protocol]), got an array"));
        assert_eq!(shape("workload = 5\n"), e("workload", "expected a table ([workload]), got an integer"));
        assert_eq!(
            shape("[network]\nlatency = [\"1ms\"]\n"),
            e("network.latency", "expected a table ([network.latency]), got an array")
        );
        assert_eq!(
            shape("[churn]\nsession = [\"exponential\", \"1h\"]\n"),
            e("churn.session", "expected a table ([churn.session]), got an array")
        );
        assert_eq!(
            shape("[network.latency]\naccess = [\"exponential\", \"5ms\"]\n"),
            e("network.latency.access", "expected a table ([network.latency.access]), got an array")
        );
        assert_eq!(
            shape("[network]\npartitions = [{ start = \"1s\" }, [\"1s\", \"2s\", 0.5]]\n"),
            e("network.partitions.1", "expected a table ([[network.partitions]]), got an array")
        );
        assert_eq!(
            shape("[network]\npartitions = \"none\"\n"),
            e("network.partitions", "expected an array of tables ([[network.partitions]]), got a string")
        );
    }
}
