//! Scenario files: the TOML schema, its defaults (the paper's, for the
//! protocol), validation, `--set` overrides, the estimate that refuses
//! scenarios too big to run, the effective values, and warnings.
//!
//! Every field is optional. Unknown fields are errors. A bad file gives one
//! [`ScenarioError`] naming the file, the field path, the line and column, and
//! what was expected.

pub mod adversary;
pub mod clip;
pub mod effective;
pub mod estimate;
mod load;
pub mod names;
pub mod profiles;
mod sections;
pub mod units;
mod warnings;

pub use load::{ScenarioError, load_file, load_str, load_str_within};
pub use names::field_path;
pub use profiles::Profile;
pub use sections::*;
pub use warnings::warnings;
