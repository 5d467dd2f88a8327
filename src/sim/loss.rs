//! Message loss of the simulated network (`[network.loss]`).
//!
//! Three models: none; independent loss with a fixed probability per message;
//! and Gilbert–Elliott bursty loss, a two-state (good/bad) Markov chain per
//! sending node, stepped once for every message that node sends and then
//! losing the message with the current state's loss probability. The model
//! holds only parameters; each sender keeps its own [`LossChain`] (one byte)
//! and RNG, so senders on different threads never share state. Every decision
//! is a deterministic function of the RNG state (DESIGN.md §3); the `none`
//! model never draws from the RNG.

use crate::scenario::{self, Loss};
use rand_core::RngCore;
use rand_distr::{Bernoulli, Distribution};

/// One sender's Gilbert–Elliott chain: whether it has started and whether it
/// is in the bad state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LossChain(u8);

impl LossChain {
    const STARTED: u8 = 1;
    const BAD: u8 = 2;

    /// Whether the chain is in the bad state.
    pub fn is_bad(&self) -> bool {
        self.0 & Self::BAD != 0
    }
}

/// The loss model of a run, built once from the scenario.
#[derive(Clone, Debug)]
pub struct LossModel {
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    None,
    Independent { lose: Bernoulli, rate: f64 },
    GilbertElliott(GilbertElliott),
}

#[derive(Clone, Debug)]
struct GilbertElliott {
    p_good_bad: f64,
    p_bad_good: f64,
    loss_good: f64,
    loss_bad: f64,
    to_bad: Bernoulli,
    to_good: Bernoulli,
    lose_good: Bernoulli,
    lose_bad: Bernoulli,
    /// A chain starts in its stationary distribution (bad with probability
    /// π_bad), so that a short run with many nodes sees the long-run loss rate
    /// from the first message.
    start_bad: Bernoulli,
}

/// A Bernoulli trial with probability `p`, clamped into [0, 1] (NaN: 0).
fn bernoulli(p: f64) -> Bernoulli {
    let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
    Bernoulli::new(p).unwrap_or_else(|_| Bernoulli::new(0.0).expect("0 is a probability"))
}

impl LossModel {
    /// Builds the model of `cfg`, applying the
    /// scenario's defaults to unset fields (independent rate 0.01;
    /// Gilbert–Elliott p_good_bad 0.01, p_bad_good 0.1, loss_good 0,
    /// loss_bad 0.5). Every Gilbert–Elliott chain starts in its stationary distribution.
    pub fn new(cfg: &Loss) -> LossModel {
        let p = |x: Option<scenario::units::Probability>, default: f64| x.map_or(default, |x| x.0);
        let kind = match cfg.model {
            scenario::LossModel::None => Kind::None,
            scenario::LossModel::Independent => {
                let rate = p(cfg.rate, 0.01);
                Kind::Independent { lose: bernoulli(rate), rate }
            }
            scenario::LossModel::GilbertElliott => {
                let (p_good_bad, p_bad_good) = (p(cfg.p_good_bad, 0.01), p(cfg.p_bad_good, 0.1));
                let (loss_good, loss_bad) = (p(cfg.loss_good, 0.0), p(cfg.loss_bad, 0.5));
                Kind::GilbertElliott(GilbertElliott {
                    p_good_bad,
                    p_bad_good,
                    loss_good,
                    loss_bad,
                    to_bad: bernoulli(p_good_bad),
                    to_good: bernoulli(p_bad_good),
                    lose_good: bernoulli(loss_good),
                    lose_bad: bernoulli(loss_bad),
                    start_bad: bernoulli(if p_good_bad + p_bad_good > 0.0 {
                        p_good_bad / (p_good_bad + p_bad_good)
                    } else {
                        0.0
                    }),
                })
            }
        };
        LossModel { kind }
    }

    /// Whether the next message of the sender whose chain is `chain` is lost.
    /// With Gilbert–Elliott this first steps the chain (two draws per call);
    /// independent loss draws once; none draws nothing.
    #[inline]
    pub fn lost<R: RngCore>(&self, chain: &mut LossChain, rng: &mut R) -> bool {
        match &self.kind {
            Kind::None => false,
            Kind::Independent { lose, .. } => lose.sample(rng),
            Kind::GilbertElliott(ge) => {
                if chain.0 & LossChain::STARTED == 0 {
                    chain.0 = LossChain::STARTED | if ge.start_bad.sample(rng) { LossChain::BAD } else { 0 };
                }
                let bad = if chain.is_bad() { !ge.to_good.sample(rng) } else { ge.to_bad.sample(rng) };
                if bad {
                    chain.0 |= LossChain::BAD;
                    ge.lose_bad.sample(rng)
                } else {
                    chain.0 &= !LossChain::BAD;
                    ge.lose_good.sample(rng)
                }
            }
        }
    }

    /// The analytic long-run fraction of messages lost: 0 for none, the rate
    /// for independent loss, and π_bad·loss_bad + (1 − π_bad)·loss_good for
    /// Gilbert–Elliott with π_bad = p_good_bad / (p_good_bad + p_bad_good)
    /// (0 when both transition probabilities are 0: the chain stays good).
    pub fn stationary_loss_rate(&self) -> f64 {
        match &self.kind {
            Kind::None => 0.0,
            Kind::Independent { rate, .. } => *rate,
            Kind::GilbertElliott(ge) => {
                let total = ge.p_good_bad + ge.p_bad_good;
                let pi_bad = if total > 0.0 { ge.p_good_bad / total } else { 0.0 };
                pi_bad * ge.loss_bad + (1.0 - pi_bad) * ge.loss_good
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::LossModel as Name;
    use crate::scenario::units::Probability;
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    /// `n` loss outcomes of the messages of `senders` nodes sent round-robin,
    /// grouped per sender.
    fn outcomes(cfg: &Loss, senders: u32, n: usize, seed: u64) -> Vec<Vec<bool>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let m = LossModel::new(cfg);
        let mut chains = vec![LossChain::default(); senders as usize];
        let mut per = vec![Vec::new(); senders as usize];
        for i in 0..n {
            let from = (i as u32) % senders;
            per[from as usize].push(m.lost(&mut chains[from as usize], &mut rng));
        }
        per
    }

    fn rate(per: &[Vec<bool>]) -> f64 {
        let n: usize = per.iter().map(Vec::len).sum();
        per.iter().flatten().filter(|&&l| l).count() as f64 / n as f64
    }

    /// Mean length of the runs of consecutive losses of each sender.
    fn mean_run(per: &[Vec<bool>]) -> f64 {
        let (mut runs, mut lost) = (0usize, 0usize);
        for seq in per {
            let mut prev = false;
            for &l in seq {
                if l {
                    lost += 1;
                    if !prev {
                        runs += 1;
                    }
                }
                prev = l;
            }
        }
        lost as f64 / runs as f64
    }

    #[test]
    fn none_never_loses_nor_draws() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let before = rng.clone();
        let m = LossModel::new(&Loss::default());
        let mut chain = LossChain::default();
        assert!((0..1000).all(|_| !m.lost(&mut chain, &mut rng)));
        assert_eq!(rng, before);
        assert_eq!(m.stationary_loss_rate(), 0.0);
    }

    #[test]
    fn independent_default_rate() {
        // rate 0.01 over 200 000 messages: σ = √(0.01·0.99/200 000) = 0.00022.
        let cfg = Loss { model: Name::Independent, ..Loss::default() };
        assert_eq!(LossModel::new(&cfg).stationary_loss_rate(), 0.01);
        let r = rate(&outcomes(&cfg, 4, 200_000, 2));
        assert!((r - 0.01).abs() < 0.001, "rate {r}");
    }

    #[test]
    fn gilbert_elliott_default_rate_and_bursts() {
        // π_bad = 0.01 / (0.01 + 0.1) = 0.090909; loss rate = 0.5·π_bad = 0.045455.
        let cfg = Loss { model: Name::GilbertElliott, ..Loss::default() };
        let m = LossModel::new(&cfg);
        assert!((m.stationary_loss_rate() - 0.045_454_5).abs() < 1e-6);
        let per = outcomes(&cfg, 8, 1_000_000, 3);
        let r = rate(&per);
        assert!((r - 0.045_455).abs() < 0.05 * 0.045_455, "rate {r}");
        // In the bad state the next message is lost with ≈ 0.9·0.5 = 0.45, so
        // loss runs average ≈ 1/(1 − 0.45) = 1.82 messages; independent loss at
        // the same rate gives 1/(1 − 0.0455) = 1.048.
        let ge_run = mean_run(&per);
        let ind = Loss { model: Name::Independent, rate: Some(Probability(0.045_455)), ..Loss::default() };
        let ind_run = mean_run(&outcomes(&ind, 8, 1_000_000, 4));
        assert!((ge_run - 1.82).abs() < 0.1, "GE mean run {ge_run}");
        assert!((ind_run - 1.048).abs() < 0.02, "independent mean run {ind_run}");
        assert!(ge_run > 1.5 * ind_run);
    }

    #[test]
    fn gilbert_elliott_lossy_good_state() {
        // p_gb 0.2, p_bg 0.3: π_bad = 0.4; rate = 0.4·0.8 + 0.6·0.05 = 0.35.
        let cfg = Loss {
            model: Name::GilbertElliott,
            p_good_bad: Some(Probability(0.2)),
            p_bad_good: Some(Probability(0.3)),
            loss_good: Some(Probability(0.05)),
            loss_bad: Some(Probability(0.8)),
            ..Loss::default()
        };
        assert!((LossModel::new(&cfg).stationary_loss_rate() - 0.35).abs() < 1e-12);
        let r = rate(&outcomes(&cfg, 3, 300_000, 5));
        assert!((r - 0.35).abs() < 0.01, "rate {r}");
    }

    #[test]
    fn chains_are_per_sender() {
        // Node 0 always moves to bad and always loses there; node 1 never leaves good.
        let cfg = Loss {
            model: Name::GilbertElliott,
            p_good_bad: Some(Probability(1.0)),
            p_bad_good: Some(Probability(0.0)),
            loss_good: Some(Probability(0.0)),
            loss_bad: Some(Probability(1.0)),
            ..Loss::default()
        };
        let m = LossModel::new(&cfg);
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let mut chains = [LossChain::default(); 70];
        assert!(m.lost(&mut chains[69], &mut rng));
        assert!(m.lost(&mut chains[69], &mut rng));
        assert_eq!(m.stationary_loss_rate(), 1.0);
        assert!(chains[69].is_bad());
        assert!(chains[..69].iter().all(|c| *c == LossChain::default()), "other senders' chains are untouched");
    }

    #[test]
    fn deterministic() {
        for model in [Name::Independent, Name::GilbertElliott] {
            let cfg = Loss { model, ..Loss::default() };
            assert_eq!(outcomes(&cfg, 5, 50_000, 7), outcomes(&cfg, 5, 50_000, 7));
            assert_ne!(outcomes(&cfg, 5, 50_000, 7), outcomes(&cfg, 5, 50_000, 8));
        }
    }
}

#[cfg(test)]
mod start_tests {
    use super::*;
    use crate::scenario::{Loss, LossModel as Model};
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    #[test]
    fn many_short_chains_lose_at_the_long_run_rate() {
        // 100,000 senders of 5 messages each: with chains started in their
        // stationary distribution the loss rate is the long-run 1/22 = 0.04545
        // (π_bad = 0.01 / 0.11, loss_bad = 0.5) from the first message on.
        let cfg = Loss { model: Model::GilbertElliott, ..Loss::default() };
        let n = 100_000u32;
        let m = LossModel::new(&cfg);
        let mut chains = vec![LossChain::default(); n as usize];
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut lost = 0u32;
        for _ in 0..5 {
            for chain in chains.iter_mut() {
                lost += u32::from(m.lost(chain, &mut rng));
            }
        }
        let rate = f64::from(lost) / f64::from(5 * n);
        assert!((rate - 0.04545).abs() < 0.003, "{rate}");
    }
}
