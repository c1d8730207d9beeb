//! Commands applied to a live session: when they take effect, what they keep, what they kill.

use relu_lab::nn::{Activation, NeuronState};
use relu_lab::train::{Session, SessionCommand, StepOutcome};

use crate::support::preset;

fn train(session: &mut Session, steps: u64) {
    for _ in 0..steps {
        session.step();
    }
}

fn dead_count(session: &mut Session) -> usize {
    session.evaluate().diagnostics.count(NeuronState::Dead)
}

#[test]
fn a_command_takes_effect_at_the_next_step() {
    let mut session = Session::new(preset("healthy-relu")).unwrap();
    train(&mut session, 10);
    let annotation = session.apply(SessionCommand::SetLearningRate { learning_rate: 0.5 }).unwrap();
    assert_eq!(annotation.step, 10);
    assert!(annotation.text.contains("0.03") && annotation.text.contains("0.5"), "{}", annotation.text);
    assert_eq!(session.learning_rate(), 0.5);
    // The record stamps the command with the step before which it was applied.
    assert_eq!(session.record().commands[0].step, 10);
    train(&mut session, 1);
    assert_eq!(session.evaluate().learning_rate, 0.5);
}

#[test]
fn switching_the_activation_keeps_every_weight_bit_for_bit() {
    let mut session = Session::new(preset("healthy-relu")).unwrap();
    train(&mut session, 200);
    let before = session.network().layers.clone();
    session.apply(SessionCommand::SetActivation { activation: Activation::LeakyRelu { slope: 0.1 } }).unwrap();
    session.apply(SessionCommand::SetActivation { activation: Activation::Gelu }).unwrap();
    session.apply(SessionCommand::SetActivation { activation: Activation::Relu }).unwrap();
    let after = &session.network().layers;
    for (a, b) in before.iter().zip(after) {
        assert!(a.weights.iter().zip(&b.weights).all(|(x, y)| x.to_bits() == y.to_bits()));
        assert!(a.biases.iter().zip(&b.biases).all(|(x, y)| x.to_bits() == y.to_bits()));
    }
}

#[test]
fn a_bias_offset_kills_relu_neurons_they_stay_dead_and_leaky_relu_revives_them() {
    let mut session = Session::new(preset("healthy-relu")).unwrap();
    train(&mut session, 300);
    let dead_before = dead_count(&mut session);
    // Measured: 0 dead before, then many dead at offset -6 (inputs span [-6, 6], weights ~1).
    session.apply(SessionCommand::SetBiasOffset { bias_offset: -6.0 }).unwrap();
    let dead_after = dead_count(&mut session);
    assert!(dead_after >= dead_before + 8, "dead before {dead_before}, after {dead_after}");
    // Dead neurons get no gradient: training on leaves them exactly as they were.
    let frozen = session.network().layers[0].clone();
    train(&mut session, 500);
    assert_eq!(dead_count(&mut session), dead_after);
    let diagnostics = session.evaluate().diagnostics;
    let first = &session.network().layers[0];
    for (neuron, stats) in diagnostics.layers[0].neurons.iter().enumerate() {
        if stats.state == NeuronState::Dead {
            assert_eq!(first.weights.column(neuron), frozen.weights.column(neuron));
            assert_eq!(first.biases[neuron], frozen.biases[neuron]);
        }
    }
    // Leaky ReLU passes gradient on the negative side: none is dead, and they climb back.
    session.apply(SessionCommand::SetActivation { activation: Activation::LeakyRelu { slope: 0.1 } }).unwrap();
    assert_eq!(dead_count(&mut session), 0);
    let sunk: Vec<f32> = session.network().layers[1].biases.to_vec();
    train(&mut session, 3000);
    let risen = &session.network().layers[1].biases;
    let climbing = sunk.iter().zip(risen).filter(|&(before, after)| after > before).count();
    let diagnostics = session.evaluate().diagnostics;
    let active = diagnostics.layers.iter().flat_map(|l| &l.neurons).filter(|n| n.fraction_active > 0.0).count();
    // Measured: 8 of 8 second-layer biases rose, 10 of 16 neurons active again after 3000 steps.
    assert!(climbing >= 6, "only {climbing} of 8 biases rose after the switch");
    assert!(active >= 6, "only {active} neurons active again after the rescue");
}

#[test]
fn moving_the_bias_offset_back_undoes_it() {
    let mut session = Session::new(preset("healthy-relu")).unwrap();
    let before = session.network().layers[0].biases.clone();
    session.apply(SessionCommand::SetBiasOffset { bias_offset: -3.0 }).unwrap();
    session.apply(SessionCommand::SetBiasOffset { bias_offset: 0.0 }).unwrap();
    let after = &session.network().layers[0].biases;
    assert!(before.iter().zip(after).all(|(a, b)| (a - b).abs() < 1e-6));
}

#[test]
fn learning_rate_ten_diverges_into_a_paused_run_without_panic() {
    let mut config = preset("leaky-rescue");
    config.training.learning_rate = 10.0;
    let mut session = Session::new(config).unwrap();
    let mut outcome = StepOutcome::Trained { batch_loss: 0.0 };
    for _ in 0..1000 {
        outcome = session.step();
        if matches!(outcome, StepOutcome::Diverged(_)) {
            break;
        }
    }
    let StepOutcome::Diverged(divergence) = outcome else { panic!("learning rate 10 did not diverge") };
    // Measured: step 9, the loss became NaN.
    assert!(divergence.step < 100);
    let step = session.step_count();
    // A diverged run stays where it stopped.
    assert!(matches!(session.step(), StepOutcome::Diverged(_)));
    assert_eq!(session.step_count(), step);
    // A reset starts it over.
    session.apply(SessionCommand::Reset { seed: None }).unwrap();
    assert_eq!(session.step_count(), 0);
    assert!(session.divergence().is_none());
}

#[test]
fn refused_commands_change_nothing() {
    let mut session = Session::new(preset("healthy-relu")).unwrap();
    let config = session.config().clone();
    assert!(session.apply(SessionCommand::SetLearningRate { learning_rate: f64::NAN }).is_err());
    assert!(session.apply(SessionCommand::SetLearningRate { learning_rate: -1.0 }).is_err());
    assert!(session.apply(SessionCommand::SetBatchSize { batch_size: 0 }).is_err());
    assert!(session.apply(SessionCommand::SetArchitecture { hidden_layers: vec![] }).is_err());
    assert!(session.apply(SessionCommand::ReviveNeuron { layer: 7, neuron: 0 }).is_err());
    assert_eq!(session.config(), &config);
    assert!(session.record().commands.is_empty());
}

#[test]
fn revive_dead_redraws_only_the_dead() {
    let mut session = Session::new(preset("negative-bias")).unwrap();
    train(&mut session, 200);
    let dead = dead_count(&mut session);
    assert!(dead > 0);
    let annotation = session.apply(SessionCommand::ReviveDead).unwrap();
    assert!(annotation.text.contains(&dead.to_string()), "{}", annotation.text);
}
