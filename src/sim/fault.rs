//! The test fault that breaks the protocol on purpose, so that a test can
//! show the validation suite catches a broken protocol
//! (`tests/integration/validation.rs`): with
//! `KADSIM_TEST_FAULT=protocol-k-minus-1` the simulated nodes run with k − 1
//! where the scenario says k (buckets, replies and a lookup's k closest
//! alike). It is said on stderr, and the protocol core never sees the
//! variable: the driver changes the configuration it hands the core.

/// `cfg`, broken as the test fault asks, or as it is.
pub fn broken_on_purpose(mut cfg: crate::kad::Config) -> crate::kad::Config {
    if std::env::var(crate::files::swap::FAULT_VAR).is_ok_and(|v| v == "protocol-k-minus-1") && cfg.k > 1 {
        eprintln!("kadsim: test fault protocol-k-minus-1: the nodes run with k = {} (broken on purpose)", cfg.k - 1);
        cfg.k -= 1;
    }
    cfg
}
