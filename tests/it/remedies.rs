//! The divergence banner's remedies, measured as the app applies them: lesson 2 (learning rate
//! 3) on seeds 1-10, the activation switched at step 300 or 3000, trained until it diverges;
//! then the banner's button (go back to the checkpoint before the divergence, make the change,
//! train on) through the trainer, exactly the commands the app sends. For every activation that
//! diverges after the switch, the remedy offered must rescue every seed, and every gentler
//! candidate must fail on some seed (so the banner's "a lower rate does not help here" is a
//! measurement too). Where the remedy stops working, or a gentler one starts to, a test fails.

use std::sync::Arc;
use std::time::Duration;

use relu_lab::nn::{Activation, ActivationKind};
use relu_lab::train::clock::{Clock, ManualClock};
use relu_lab::train::remedy::{CANDIDATES, CLIP_NORM, Remedy, measured_remedy, remedy_for};
use relu_lab::train::{
    Divergence, RunConfig, SessionCommand, Speed, Target, Trainer, TrainerEvent, View, WorkerCommand,
};

use crate::support::preset;

/// The steps at which the activation is switched.
const SWITCH_STEPS: [u64; 2] = [300, 3000];
/// The seeds a remedy must rescue.
const SEEDS: std::ops::RangeInclusive<u64> = 1..=10;
/// How long a run trains after the switch to show it diverges, and after the remedy to show
/// it does not: a lesson's length.
const TRAIN_AFTER: u64 = 3000;

/// A trainer at full speed on a clock that only moves when told.
fn trainer(config: RunConfig) -> (Trainer, ManualClock) {
    let clock = ManualClock::default();
    let mut trainer = Trainer::new(config, Box::new(clock.clone())).expect("a valid config");
    trainer.handle(WorkerCommand::SetSpeed(Speed::Max));
    (trainer, clock)
}

/// Makes exactly `steps` more steps (fewer if the run diverges) and returns the events.
fn train(trainer: &mut Trainer, steps: u64) -> Vec<TrainerEvent> {
    trainer.handle(WorkerCommand::Step(steps));
    let never = ManualClock::default().now() + Duration::from_hours(1);
    while trainer.is_running() {
        trainer.tick(never);
    }
    std::iter::from_fn(|| trainer.next_event()).collect()
}

/// The view the app would draw now.
fn view(trainer: &mut Trainer, clock: &ManualClock) -> Arc<View> {
    clock.advance(Duration::from_secs(1));
    trainer.handle(WorkerCommand::RequestSnapshot);
    trainer.tick(clock.now());
    trainer.take_new_snapshot().expect("a view is published on request")
}

fn divergence(events: &[TrainerEvent]) -> Option<Divergence> {
    events.iter().find_map(|event| if let TrainerEvent::Diverged(d) = event { Some(*d) } else { None })
}

/// One run of the experiment.
#[derive(Clone, Copy, Debug)]
struct Scenario {
    activation: Activation,
    switch_step: u64,
    seed: u64,
}

/// Lesson 2 on the scenario's seed, switched to its activation at its step (as the controls
/// send it), trained on. Returns the trainer and its clock, and the divergence if it diverged.
fn switch(scenario: Scenario) -> (Trainer, ManualClock, Option<Divergence>) {
    let mut config = preset("high-learning-rate");
    config.seed = scenario.seed;
    let (mut trainer, clock) = trainer(config);
    train(&mut trainer, scenario.switch_step);
    let activation = scenario.activation;
    trainer.handle(WorkerCommand::Session(SessionCommand::SetActivation { activation }));
    let events = train(&mut trainer, TRAIN_AFTER);
    (trainer, clock, divergence(&events))
}

/// Applies `remedy` to a diverged scenario as the banner does; `Err` says how it failed.
fn try_remedy(scenario: Scenario, remedy: Remedy) -> Result<(), String> {
    let (mut trainer, clock, Some(diverged)) = switch(scenario) else {
        return Err(format!("{scenario:?} did not diverge"));
    };
    let view = view(&mut trainer, &clock);
    let back = view.rewind_step.ok_or_else(|| format!("{scenario:?}: no step to go back to"))?;
    assert!(back < diverged.step, "{scenario:?}: goes back to {back}, before the divergence at {}", diverged.step);
    for command in remedy.worker_commands(&view.run.config, back) {
        trainer.handle(command);
    }
    assert_eq!(trainer.session().step_count(), back);
    assert!(trainer.session().network().is_finite(), "{scenario:?}: went back to a finite network");
    let events = train(&mut trainer, TRAIN_AFTER);
    match divergence(&events) {
        Some(again) => Err(format!("{scenario:?} with {remedy:?} diverged again at step {}", again.step)),
        None => Ok(()),
    }
}

/// `run` on every item, on two named threads (the machine's cores), results in order.
fn on_threads<T: Sync, R: Send>(items: &[T], run: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let halves = items.split_at(items.len() / 2);
    std::thread::scope(|scope| {
        let run = &run;
        let first = std::thread::Builder::new()
            .name("remedies".to_owned())
            .spawn_scoped(scope, move || halves.0.iter().map(run).collect::<Vec<R>>())
            .expect("a thread starts");
        let second: Vec<R> = halves.1.iter().map(run).collect();
        let mut results = first.join().expect("no panic");
        results.extend(second);
        results
    })
}

/// The scenarios of `activation` that diverge.
fn diverging(activation: Activation) -> Vec<Scenario> {
    let all: Vec<Scenario> = SWITCH_STEPS
        .into_iter()
        .flat_map(|switch_step| SEEDS.map(move |seed| Scenario { activation, switch_step, seed }))
        .collect();
    let diverged = on_threads(&all, |&scenario| switch(scenario).2.is_some());
    all.into_iter().zip(diverged).filter_map(|(scenario, diverged)| diverged.then_some(scenario)).collect()
}

/// Checks the remedy for `activation`: it rescues every diverging scenario, every gentler
/// candidate fails on one. Returns how many scenarios diverged.
fn check_remedy(activation: Activation) -> usize {
    let scenarios = diverging(activation);
    if scenarios.is_empty() {
        return 0;
    }
    let kind = activation.kind();
    let offered = measured_remedy(kind);
    let position = CANDIDATES.iter().position(|&candidate| candidate == offered).expect("a candidate");
    for gentler in &CANDIDATES[..position] {
        // The first failure is enough; most fail within a few steps.
        let fails = scenarios.iter().any(|&scenario| try_remedy(scenario, *gentler).is_err());
        assert!(fails, "{activation}: {gentler:?} rescues every seed too, so the banner should offer it");
    }
    let failures: Vec<String> =
        on_threads(&scenarios, |&scenario| try_remedy(scenario, offered)).into_iter().filter_map(Result::err).collect();
    assert!(failures.is_empty(), "{activation}: the offered {offered:?} fails: {failures:#?}");
    scenarios.len()
}

#[test]
fn after_a_prelu_switch_at_rate_3_clipping_at_10_rescues_seeds_1_to_10_and_a_lower_rate_does_not() {
    assert_eq!(measured_remedy(ActivationKind::Prelu), Remedy::ClipGradient { max_norm: CLIP_NORM });
    let diverged = check_remedy(ActivationKind::Prelu.with_default_parameter());
    assert_eq!(diverged, 20, "PReLU diverges after the switch on every seed, at both steps");
    // The banner reads the run's config: a PReLU run at rate 3 gets the measured remedy.
    let mut config = preset("high-learning-rate");
    config.network.activation = ActivationKind::Prelu;
    assert_eq!(remedy_for(&config), measured_remedy(ActivationKind::Prelu));
}

#[test]
fn every_other_activation_switched_at_rate_3_gets_the_remedy_that_rescues_it() {
    // Each with the parameter the activation menu gives it, and Leaky ReLU also with the
    // lessons' slope of 0.1.
    let activations = ActivationKind::ALL
        .into_iter()
        .filter(|&kind| kind != ActivationKind::Prelu)
        .map(ActivationKind::with_default_parameter)
        .chain([Activation::LeakyRelu { slope: 0.1 }]);
    let mut diverging_ones = Vec::new();
    for activation in activations {
        if check_remedy(activation) > 0 {
            diverging_ones.push(activation.to_string());
        }
    }
    // What the module's doc says diverges (a change here is news: update the doc's list).
    assert_eq!(diverging_ones, ["Leaky ReLU (0.01)", "ELU (1)", "SELU", "linear", "Leaky ReLU (0.1)"]);
}

/// A switch to PReLU two steps before a regular checkpoint: the run diverges on the step of a
/// checkpoint whose network is finite but whose loss is not. "Go back" lands before it; going
/// back to it (what the banner used to offer) diverges again at once, whatever the rate.
#[test]
fn go_back_lands_on_the_last_checkpoint_that_trained_not_on_the_one_that_diverged() {
    let mut checked = 0;
    for seed in SEEDS {
        let scenario = Scenario { activation: ActivationKind::Prelu.with_default_parameter(), switch_step: 3398, seed };
        let (mut trainer, clock, Some(diverged)) = switch(scenario) else { continue };
        if !trainer.session().checkpoint_steps().any(|step| step == diverged.step) {
            continue;
        }
        checked += 1;
        assert!(trainer.session().network().is_finite(), "the network that diverged is finite");
        let back = view(&mut trainer, &clock).rewind_step.expect("somewhere to go back to");
        assert!(back < diverged.step, "seed {seed}: {back} is before {}", diverged.step);
        // The negative control: the checkpoint at the divergence itself, at a rate 1000 times
        // lower, diverges again on its first step.
        let then = vec![SessionCommand::SetLearningRate { learning_rate: 0.003 }];
        trainer.handle(WorkerCommand::Rewind { step: diverged.step, then, target: Target::A });
        let again = divergence(&train(&mut trainer, 10)).expect("it diverges again");
        assert_eq!(again.step, diverged.step, "seed {seed}");
        // The banner's way: before it, with the measured remedy, it trains on.
        let (mut trainer, clock, _) = switch(scenario);
        let view = view(&mut trainer, &clock);
        let back = view.rewind_step.expect("somewhere to go back to");
        for command in remedy_for(&view.run.config).worker_commands(&view.run.config, back) {
            trainer.handle(command);
        }
        assert!(trainer.session().network().is_finite());
        assert_eq!(divergence(&train(&mut trainer, 500)), None, "seed {seed}");
    }
    assert!(checked > 0, "some seed diverges on a checkpoint's step");
}
