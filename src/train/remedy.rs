//! What to do after a divergence, as measured rather than guessed.
//!
//! The banner that reports a divergence offers one way out: go back to the last checkpoint
//! before it (see [`super::Session::checkpoint_before_divergence`]) and change one thing. A
//! lower learning rate is the usual answer, but not always a working one. Switching the
//! activation after a learning rate of 3 has done its damage is the classroom's way to
//! diverge: dead ReLU neurons sit far below zero, and a non-zero slope below zero passes that
//! on. Measured through the trainer on lesson 2 (learning rate 3), seeds 1-10, switching at
//! step 300 or 3000 to each activation with the parameter the menu gives it (and Leaky ReLU also
//! with the lessons' slope of 0.1), and training 3000 steps after going back
//! (`tests/it/remedies.rs`, which fails if any of this stops being true):
//!
//! - PReLU: a rate 10 or 100 times lower still diverges (its slope's gradient is the
//!   pre-activation itself, huge and negative); clipping the gradient at norm
//!   [`CLIP_NORM`] rescues every seed.
//! - Linear: likewise (nothing bounds a linear network's output).
//! - Leaky ReLU (0.01 or 0.1): 10 times lower still diverges on some seeds, 100 times lower on
//!   none.
//! - ELU, SELU: 10 times lower rescues every seed.
//! - GELU, SiLU, softplus, tanh, sigmoid (and ReLU itself) do not diverge after the switch.
//!
//! The measurement tries [`CANDIDATES`] in order, least change first, and the remedy offered
//! for an activation is the first that rescues every seed: the figures the banner shows come
//! from the same constants.

use super::command::SessionCommand;
use super::config::{MIN_LEARNING_RATE, RunConfig};
use super::ensemble::Target;
use super::settings::short;
use super::trainer::WorkerCommand;
use crate::nn::ActivationKind;

/// The gradient norm at which clipping rescues a network that a lower rate cannot.
pub const CLIP_NORM: f64 = 10.0;

/// A change made after going back to the checkpoint before a divergence.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Remedy {
    /// Divide the base learning rate by this.
    LowerRate {
        /// The divisor (10 makes 3 into 0.3).
        divisor: f64,
    },
    /// Clip the gradient at this norm and keep the learning rate.
    ClipGradient {
        /// The longest gradient allowed.
        max_norm: f64,
    },
}

/// Every remedy the banner may offer, least change first: the order in which the measurement
/// tries them, and in which [`measured_remedy`] must pick the first that works.
pub const CANDIDATES: [Remedy; 3] = [
    Remedy::LowerRate { divisor: 10.0 },
    Remedy::LowerRate { divisor: 100.0 },
    Remedy::ClipGradient { max_norm: CLIP_NORM },
];

/// The remedy measured for a network with `kind` after a divergence (see the module doc): the
/// first of [`CANDIDATES`] that rescues every seed.
pub fn measured_remedy(kind: ActivationKind) -> Remedy {
    match kind {
        ActivationKind::Prelu | ActivationKind::Linear => CANDIDATES[2],
        ActivationKind::LeakyRelu => CANDIDATES[1],
        _ => CANDIDATES[0],
    }
}

/// The remedy to offer for a run that diverged under `config`: the measured one for its
/// activation; a lower rate where the gradient is already clipped as tightly (clipping again
/// would change nothing).
pub fn remedy_for(config: &RunConfig) -> Remedy {
    match measured_remedy(config.network.activation) {
        Remedy::ClipGradient { max_norm }
            if config.training.clip_gradient_norm.is_some_and(|norm| norm <= max_norm) =>
        {
            CANDIDATES[0]
        }
        remedy => remedy,
    }
}

impl Remedy {
    /// The session commands that make the change on a run with `config`.
    pub fn commands(self, config: &RunConfig) -> Vec<SessionCommand> {
        match self {
            Self::LowerRate { .. } => {
                vec![SessionCommand::SetLearningRate { learning_rate: self.learning_rate(config) }]
            }
            Self::ClipGradient { max_norm } => vec![SessionCommand::SetGradientClipping { max_norm: Some(max_norm) }],
        }
    }

    /// What the banner's button sends: go back to `rewind_step` (every branch; the history
    /// after it is dropped), make the change on branch A (the run), and train on.
    pub fn worker_commands(self, config: &RunConfig, rewind_step: u64) -> Vec<WorkerCommand> {
        vec![
            WorkerCommand::Rewind { step: rewind_step, then: self.commands(config), target: Target::A },
            WorkerCommand::Resume,
        ]
    }

    /// The learning rate after the change.
    pub fn learning_rate(self, config: &RunConfig) -> f64 {
        let rate = config.training.learning_rate;
        match self {
            // Divided, not multiplied by 0.1: 3 / 10 is exactly the 0.3 a user types.
            Self::LowerRate { divisor } => (rate / divisor).max(MIN_LEARNING_RATE),
            Self::ClipGradient { .. } => rate,
        }
    }

    /// The change in a few words: "learning rate 0.3", "clip the gradient at 10".
    pub fn action(self, config: &RunConfig) -> String {
        match self {
            Self::LowerRate { .. } => format!("learning rate {}", short(self.learning_rate(config))),
            Self::ClipGradient { max_norm } => format!("clip the gradient at {}", short(max_norm)),
        }
    }

    /// Why this change, for a network with `kind`, in a sentence or two. The claims are the
    /// measurement's: every candidate before this one failed on some seed.
    pub fn reason(self, kind: ActivationKind) -> String {
        let weaker: Vec<String> = CANDIDATES
            .iter()
            .take_while(|&&candidate| candidate != self)
            .filter_map(|candidate| match candidate {
                Self::LowerRate { divisor } => Some(short(*divisor)),
                Self::ClipGradient { .. } => None,
            })
            .collect();
        let lower = match weaker.as_slice() {
            [] => String::new(),
            [one] => format!("{one} times lower"),
            [rest @ .., last] => format!("{} or {last} times lower", rest.join(", ")),
        };
        match self {
            Self::LowerRate { divisor } if weaker.is_empty() => {
                format!("A learning rate {} times lower takes smaller steps.", short(divisor))
            }
            Self::LowerRate { divisor } => format!(
                "After damage at a high rate, a learning rate {lower} still diverges on some seeds (measured on seeds \
                 1-10); {} times lower does not.",
                short(divisor)
            ),
            Self::ClipGradient { max_norm } => {
                let why = match kind {
                    ActivationKind::Prelu => {
                        "PReLU's slope learns from the negative pre-activations themselves, and the high rate made them \
                         huge"
                    }
                    ActivationKind::Linear => {
                        "nothing bounds a linear network's output, and the high rate made its weights huge"
                    }
                    _ => "the high rate left weights so large that any step overshoots",
                };
                format!(
                    "A lower learning rate does not help here ({lower} still diverges): {why}. Clipping the gradient \
                     at norm {} caps the length of every update.",
                    short(max_norm)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_name_the_figures_of_the_constants() {
        let prelu = measured_remedy(ActivationKind::Prelu);
        let reason = prelu.reason(ActivationKind::Prelu);
        assert!(reason.contains("10 or 100 times lower"), "{reason}");
        assert!(reason.contains(&format!("norm {}", short(CLIP_NORM))), "{reason}");
        let config = RunConfig::default();
        assert_eq!(prelu.action(&config), format!("clip the gradient at {}", short(CLIP_NORM)));
        let leaky = measured_remedy(ActivationKind::LeakyRelu).reason(ActivationKind::LeakyRelu);
        assert!(
            leaky.contains("10 times lower still diverges") && leaky.contains("100 times lower does not"),
            "{leaky}"
        );
    }

    #[test]
    fn a_run_already_clipped_as_tightly_gets_a_lower_rate() {
        let mut config = RunConfig::default();
        config.network.activation = ActivationKind::Prelu;
        assert_eq!(remedy_for(&config), Remedy::ClipGradient { max_norm: CLIP_NORM });
        config.training.clip_gradient_norm = Some(1.0);
        assert_eq!(remedy_for(&config), CANDIDATES[0]);
        config.training.learning_rate = 3.0;
        assert_eq!(CANDIDATES[0].learning_rate(&config), 0.3);
    }
}
