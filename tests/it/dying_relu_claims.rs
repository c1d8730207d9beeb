//! The story's claims (DESIGN.md, "The story it has to tell"), each checked over seeds 1 to 10.
//! Runs are deterministic, so every figure is asserted exactly, as `relu-lab lessons` and the
//! runs below printed it; a change that moves a number fails here first.
//!
//! "Dead" is measured on the training inputs: a zero derivative through the activation on
//! every one of them. "All negative" is the same test (pre-activation <= 0 on every training
//! input) for any activation: under ReLU it is dead, under Leaky ReLU, PReLU or ELU the neuron
//! still gets gradient and is only below zero.

use relu_lab::nn::born_dead::{self, is_network_born_dead};
use relu_lab::nn::{Activation, ActivationKind, Init, NeuronState};
use relu_lab::train::config::OptimizerName;
use relu_lab::train::lessons::{self, Figure, Phase, committed_measurement, load_lessons, measure_all};
use relu_lab::train::{RunConfig, Session, SessionCommand, Snapshotter, StepOutcome, presets};

use crate::support::preset;

/// The seeds every claim is checked on.
const SEEDS: std::ops::RangeInclusive<u64> = 1..=10;

fn session(config: &RunConfig, seed: u64) -> Session {
    let mut config = config.clone();
    config.seed = seed;
    Session::new(config).expect("a valid config")
}

/// Trains until `steps` more steps are made or the run diverges.
fn train(session: &mut Session, steps: u64) {
    for _ in 0..steps {
        if let StepOutcome::Diverged(_) = session.step() {
            break;
        }
    }
}

/// `figure` at `phase` of lesson `number`, per seed.
fn per_seed(runs: &[lessons::SeedRun], figure: Figure, phase: Phase) -> Vec<f64> {
    runs.iter().filter_map(|run| run.value(figure, phase)).collect()
}

/// The lessons' texts are filled from `assets/lessons-measured.json`: measured again here, every
/// figure must be the committed one (a difference names the lesson, the figure and both
/// values). Then the per-seed figures behind some of the story's ranges.
#[test]
fn the_committed_lesson_figures_are_what_the_lessons_measure() {
    let mut all_runs = Vec::new();
    let measured = measure_all(SEEDS, 2, |_, _, _, runs| all_runs.push(runs.to_vec())).expect("every lesson runs");
    let differences = committed_measurement().expect("the committed figures read").differences(&measured);
    assert!(
        differences.is_empty(),
        "run `relu-lab lessons --measure > assets/lessons-measured.json` if this is meant: {differences:#?}"
    );
    assert_eq!(all_runs.len(), presets::PRESETS.len());
    let high = &all_runs[1];
    assert_eq!(per_seed(high, Figure::Dead, Phase::Preset), [7.0, 9.0, 10.0, 9.0, 8.0, 8.0, 10.0, 9.0, 8.0, 9.0]);
    assert_eq!(per_seed(high, Figure::Collapsed, Phase::Preset), [0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
    assert_eq!(per_seed(high, Figure::Revived, Phase::TryIt), [11.0, 13.0, 12.0, 9.0, 6.0, 17.0, 13.0, 9.0, 9.0, 22.0]);
    // Seed 6 is the rescue's shock: the count of neurons negative everywhere does not fall.
    let fell: Vec<bool> = high
        .iter()
        .map(|run| {
            let (before, after) = (run.phase(Phase::Preset), run.phase(Phase::TryIt));
            before.zip(after).is_some_and(|(before, after)| after.all_negative < before.all_negative)
        })
        .collect();
    assert_eq!(fell.iter().filter(|&&fell| fell).count(), 9);
    assert!(!fell[5]);
    let negative_bias = &all_runs[2];
    let born_dead_neurons: f64 = per_seed(negative_bias, Figure::AllNegative, Phase::Start).iter().sum();
    assert_eq!(born_dead_neurons, 103.0, "103 of 160 neurons are negative on every training point at step 0");
    let deep_he = &all_runs[7];
    assert_eq!(
        per_seed(deep_he, Figure::BornDead, Phase::Start),
        [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        "born dead by the exact check on seeds 2, 4 and 6 to 10"
    );
}

#[test]
fn every_lessons_try_it_is_accepted_by_its_run() {
    for lesson in load_lessons().unwrap() {
        let Some(try_it) = &lesson.try_it else { continue };
        let mut session = Session::new(lesson.config().unwrap()).unwrap();
        train(&mut session, 10);
        for command in &try_it.commands {
            session.apply(command.clone()).unwrap_or_else(|error| panic!("{}: {error}", lesson.title));
        }
    }
}

#[test]
fn lesson_8_opens_on_a_network_born_dead_by_the_exact_check() {
    let at_seed = |seed| is_network_born_dead(session(&preset("deep-narrow-he"), seed).network());
    assert_eq!(at_seed(preset("deep-narrow-he").seed), Some(true));
    // Seed 1 is alive at birth by the exact check, and collapses during training.
    assert_eq!(at_seed(1), Some(false));
    let mut first = session(&preset("deep-narrow-he"), 1);
    let mut collapsed_at = None;
    for step in 1..=50 {
        first.step();
        if collapsed_at.is_none() && first.evaluate().diagnostics.is_collapsed {
            collapsed_at = Some(step);
        }
    }
    assert_eq!(collapsed_at, Some(13));
}

/// The rescue: kill layer 2 at rate 3, then lower the rate to 0.03 and switch the activation.
/// Returns, per seed, layer 2's count of neurons negative on every input before and after, and
/// the step at which the run diverged, if it did.
fn rescue(kill_steps: u64, commands: &[SessionCommand]) -> Vec<(usize, usize, Option<u64>)> {
    SEEDS
        .map(|seed| {
            let mut run = session(&preset("high-learning-rate"), seed);
            train(&mut run, kill_steps);
            let before = run.evaluate().diagnostics.layers[1].all_negative;
            for command in commands {
                run.apply(command.clone()).expect("a valid command");
            }
            train(&mut run, 3000);
            let after = run.evaluate().diagnostics.layers[1].all_negative;
            (before, after, run.divergence().map(|divergence| divergence.step))
        })
        .collect()
}

fn rate_and(activation: Activation) -> Vec<SessionCommand> {
    vec![SessionCommand::SetLearningRate { learning_rate: 0.03 }, SessionCommand::SetActivation { activation }]
}

#[test]
fn after_layer_2_dies_leaky_relu_at_a_low_rate_revives_it_on_every_seed() {
    for kill_steps in [300, 3000] {
        let outcomes = rescue(kill_steps, &rate_and(Activation::LeakyRelu { slope: 0.1 }));
        for (seed, (before, after, diverged)) in SEEDS.zip(&outcomes) {
            assert_eq!(*diverged, None, "killed for {kill_steps}, seed {seed}");
            assert!(after < before, "killed for {kill_steps}, seed {seed}: layer 2 all negative {before} -> {after}");
        }
        let after: Vec<usize> = outcomes.iter().map(|o| o.1).collect();
        let expected: &[usize] =
            if kill_steps == 300 { &[5, 1, 0, 1, 5, 4, 0, 0, 5, 1] } else { &[4, 0, 0, 1, 6, 7, 0, 0, 5, 1] };
        assert_eq!(after, expected, "killed for {kill_steps}");
    }
}

#[test]
fn prelu_after_damage_diverges_unless_the_gradient_is_clipped() {
    for kill_steps in [300, 3000] {
        // The shock: the dead neurons' large negative inputs pass through the learned slope.
        let plain = rescue(kill_steps, &rate_and(Activation::Prelu { initial_slope: 0.25 }));
        let diverged: Vec<u64> = SEEDS.zip(&plain).filter(|(_, o)| o.2.is_some()).map(|(seed, _)| seed).collect();
        assert_eq!(diverged, [1, 3, 4, 6, 8, 9], "killed for {kill_steps}");
        assert!(plain.iter().all(|o| o.2.is_none_or(|step| step <= kill_steps + 5)), "within 5 steps: {plain:?}");
        // Clipped at norm 5: no divergence, and layer 2 comes back on every seed.
        let mut clipped = vec![SessionCommand::SetGradientClipping { max_norm: Some(5.0) }];
        clipped.extend(rate_and(Activation::Prelu { initial_slope: 0.25 }));
        for (seed, (before, after, diverged)) in SEEDS.zip(rescue(kill_steps, &clipped)) {
            assert_eq!(diverged, None, "clipped, killed for {kill_steps}, seed {seed}");
            assert!(after < before, "clipped, killed for {kill_steps}, seed {seed}: {before} -> {after}");
        }
    }
}

#[test]
fn elu_after_damage_never_diverges_but_cannot_reach_neurons_far_below_zero() {
    for kill_steps in [300, 3000] {
        let outcomes = rescue(kill_steps, &rate_and(Activation::Elu { alpha: 1.0 }));
        assert!(outcomes.iter().all(|o| o.2.is_none()), "{outcomes:?}");
        let stayed: Vec<u64> = SEEDS.zip(&outcomes).filter(|(_, o)| o.1 >= o.0).map(|(seed, _)| seed).collect();
        // On seed 8 layer 2 sits so far below zero that exp(z) passes almost nothing.
        assert_eq!(stayed, [8], "killed for {kill_steps}: {outcomes:?}");
    }
}

#[test]
fn leaky_relu_stops_death_not_divergence_at_rate_3() {
    let diverged_at = |slope: f64| -> Vec<Option<u64>> {
        let mut config = preset("high-learning-rate");
        config.network.activation = ActivationKind::LeakyRelu;
        config.network.activation_parameter = Some(slope);
        SEEDS
            .map(|seed| {
                let mut run = session(&config, seed);
                train(&mut run, 3000);
                assert_eq!(run.evaluate().diagnostics.count(NeuronState::Dead), 0, "Leaky {slope} cannot die");
                run.divergence().map(|divergence| divergence.step)
            })
            .collect()
    };
    assert_eq!(diverged_at(0.01), [Some(10), None, None, None, Some(15), Some(11), None, Some(12), Some(10), Some(14)]);
    assert_eq!(diverged_at(0.1), [8, 13, 8, 12, 10, 9, 8, 9, 8, 8].map(Some));
}

#[test]
fn under_plain_sgd_a_dead_first_layer_neuron_never_comes_back_but_deeper_ones_do() {
    for (name, expected_layer_2) in
        [("healthy-relu", 7), ("high-learning-rate", 5), ("lower-learning-rate", 13), ("negative-bias", 2)]
    {
        let mut layer_2 = 0;
        for seed in SEEDS {
            let mut run = session(&preset(name), seed);
            train(&mut run, 3000);
            assert_eq!(run.census().revived()[0], 0, "{name}, seed {seed}: a layer-1 revival under plain SGD");
            layer_2 += run.census().revived()[1];
        }
        assert_eq!(layer_2, expected_layer_2, "{name}: layer-2 revivals over seeds 1-10");
    }
}

#[test]
fn under_adam_a_just_dead_first_layer_neuron_can_come_back() {
    let mut config = preset("high-learning-rate");
    config.training.optimizer = OptimizerName::Adam;
    config.training.learning_rate = 0.3;
    let revivals: Vec<u64> = SEEDS
        .map(|seed| {
            let mut run = session(&config, seed);
            train(&mut run, 3000);
            run.census().revived()[0]
        })
        .collect();
    assert_eq!(revivals, [1, 3, 0, 0, 0, 0, 0, 0, 0, 2]);
}

#[test]
fn gelu_from_bias_minus_5_shows_its_neurons_below_zero_not_alive() {
    let mut config = preset("elu-gelu");
    config.network.activation = ActivationKind::Gelu;
    let below: Vec<usize> = SEEDS
        .map(|seed| {
            let mut run = session(&config, seed);
            train(&mut run, 3000);
            let diagnostics = run.evaluate().diagnostics;
            assert_eq!(diagnostics.count(NeuronState::BelowZero), diagnostics.all_negative());
            diagnostics.count(NeuronState::BelowZero)
        })
        .collect();
    assert_eq!(below, [11, 10, 12, 10, 9, 10, 11, 10, 9, 10]);
}

#[test]
fn a_dead_tile_can_show_colour_where_there_is_no_training_data() {
    for (name, steps, dead, positive_on_the_plane) in
        [("high-learning-rate", 3000, 87, 8), ("negative-bias", 0, 103, 33)]
    {
        let (mut dead_count, mut coloured) = (0, 0);
        for seed in SEEDS {
            let mut run = session(&preset(name), seed);
            train(&mut run, steps);
            let evaluation = run.evaluate();
            let snapshot = Snapshotter::new(48).snapshot(&run, &evaluation);
            for neuron in snapshot.layers.iter().flat_map(|layer| &layer.neurons) {
                if neuron.state == NeuronState::Dead {
                    dead_count += 1;
                    coloured += usize::from(neuron.response().iter().any(|&value| value > 0.0));
                }
            }
        }
        assert_eq!((dead_count, coloured), (dead, positive_on_the_plane), "{name}");
    }
}

#[test]
fn rai_makes_a_deep_narrow_net_far_less_often_born_dead_than_he() {
    let he = born_dead::estimate(3, 9, Init::HeNormal, 0.0, 10_000, 1);
    let rai = born_dead::estimate(3, 9, Init::Rai, 0.0, 10_000, 1);
    assert_eq!((he.born_dead, rai.born_dead), (5767, 707));
    // About 80 standard errors apart.
    let gap = (he.probability - rai.probability) / he.standard_error.hypot(rai.standard_error);
    assert!(gap > 80.0, "{gap}");
}

/// With one hidden layer and zero biases no net is born dead, exactly: neuron j's
/// pre-activation `w_j x` is positive on one side of 0 whenever `w_j != 0`.
#[test]
fn one_hidden_layer_with_zero_biases_is_never_born_dead() {
    for init in [Init::HeNormal, Init::XavierUniform] {
        for width in 1..=4 {
            let estimate = born_dead::estimate(width, 1, init, 0.0, 10_000, 1);
            assert_eq!(estimate.born_dead, 0, "{init:?}, width {width}: {estimate:?}");
            assert_eq!(estimate.trials, 10_000);
        }
    }
}

/// `ReLU` does not shrink gradients the way sigmoid does: in six sigmoid layers the gradient
/// shrinks toward the input at every layer.
#[test]
fn sigmoid_gradients_vanish_toward_the_input() {
    let evaluation = session(&preset("sigmoid-vanishing"), 1).evaluate();
    let norms: Vec<f64> = evaluation.diagnostics.layers.iter().map(|layer| layer.gradient_norm).collect();
    assert_eq!(norms.len(), 6);
    assert!(norms.windows(2).all(|pair| pair[0] < pair[1]), "{norms:?}");
    // 1.30e-5 at layer 1 against 7.02e-2 at layer 6: about 5400 times smaller.
    assert_eq!(format!("{:.2e} {:.2e}", norms[0], norms[5]), "1.30e-5 7.02e-2");
}
