//! Scenario files: the TOML schema, its defaults (the paper's, for the
//! protocol), validation, `--set` overrides, the estimate that refuses
//! scenarios too big to run, the effective values, and warnings.
//!
//! Every field is optional. Unknown fields are errors; a section must be a
//! table (`shape`); a duration must have a unit ([`units::Dur`]). A bad file
//! gives one [`ScenarioError`] naming the file (or the `--set`), the field
//! path, the line and column, and what was expected.

pub mod adversary;
mod checks;
pub mod classes;
pub mod clip;
mod distribution;
pub mod effective;
pub mod estimate;
mod load;
pub mod names;
mod network;
pub mod profiles;
pub mod reference;
mod sections;
mod shape;
pub mod study;
pub mod units;
mod warnings;

pub use distribution::*;
pub use load::{MAX_SCENARIO_BYTES, ScenarioError, load_file, load_str, load_str_within};
pub use names::field_path;
pub use network::*;
pub use profiles::Profile;
pub use sections::*;
pub use study::{Study, StudyParam, load_study};
pub use warnings::warnings;
