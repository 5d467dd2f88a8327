//! Scenario files: the TOML schema, its defaults (the paper's, for the
//! protocol), validation, and `--set` overrides.
//!
//! Every field is optional. Unknown fields are errors. A bad file gives one
//! [`ScenarioError`] naming the file, the field path, the line and column, and
//! what was expected.

mod load;
mod sections;
pub mod units;

pub use load::{ScenarioError, load_file, load_str};
pub use sections::*;
