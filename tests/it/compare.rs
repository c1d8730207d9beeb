//! Fork and compare, and the seeds view, through the trainer the app runs (on a clock the test
//! controls) and through the command line: bits, not impressions.

use crate::support::preset;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use relu_lab::nn::{Activation, Init};
use relu_lab::train::clock::{Clock, ManualClock};
use relu_lab::train::{
    Branch, Ensemble, EnsembleCursor, LaneStep, RunConfig, RunRecord, Session, SessionCommand, Speed, Target, Trainer,
    TrainerEvent, Verification, WorkerCommand,
};

/// A trainer at full speed on a clock that stands still (each tick trains until told to stop).
fn trainer(config: RunConfig) -> Trainer {
    let mut trainer = Trainer::new(config, Box::new(ManualClock::default())).expect("a valid config");
    trainer.handle(WorkerCommand::SetSpeed(Speed::Max));
    trainer
}

/// Makes exactly `steps` more steps (of A) and drains the events.
fn train(trainer: &mut Trainer, steps: u64) -> Vec<TrainerEvent> {
    trainer.handle(WorkerCommand::Step(steps));
    let clock_never_ends = ManualClock::default().now() + Duration::from_hours(1);
    while trainer.is_running() {
        trainer.tick(clock_never_ends);
    }
    std::iter::from_fn(|| trainer.next_event()).collect()
}

fn leaky() -> SessionCommand {
    SessionCommand::SetActivation { activation: Activation::LeakyRelu { slope: 0.1 } }
}

#[test]
fn a_fork_with_no_change_stays_bit_identical_for_1000_steps() {
    let mut trainer = trainer(preset("high-learning-rate"));
    train(&mut trainer, 400);
    trainer.handle(WorkerCommand::Fork { changes: Vec::new() });
    let events = train(&mut trainer, 1000);
    assert!(events.contains(&TrainerEvent::Forked { step: 400, b_restarted: false }));
    let b = trainer.ensemble().first().b().unwrap();
    assert_eq!(trainer.session().step_count(), 1400);
    assert_eq!(b.step_count(), 1400);
    assert_eq!(trainer.session().network(), b.network());
    // B reported the same numbers as A at every point after the fork.
    let a_points: Vec<_> =
        events.iter().filter_map(|e| if let TrainerEvent::History(p) = e { Some(p) } else { None }).collect();
    let b_points: Vec<_> =
        events.iter().filter_map(|e| if let TrainerEvent::BranchHistory(p) = e { Some(p) } else { None }).collect();
    assert!(!b_points.is_empty());
    assert_eq!(a_points, b_points);
}

#[test]
fn b_on_leaky_relu_differs_from_a_only_through_the_activation_and_keep_b_goes_on_bit_exactly() {
    // Bias -5 (at learning rate 3 a Leaky ReLU branch would diverge within 15 steps).
    let config = preset("negative-bias");
    let mut trainer = trainer(config.clone());
    train(&mut trainer, 500);
    trainer.handle(WorkerCommand::Fork { changes: Vec::new() });
    trainer.handle(WorkerCommand::OnBranch { target: Target::B, command: leaky() });
    train(&mut trainer, 700);
    assert_eq!(trainer.session().step_count(), 1200);
    // The same run, switched at step 500 without any fork.
    let mut switched = Session::new(config.clone()).unwrap();
    for _ in 0..500 {
        switched.step();
    }
    switched.apply(leaky()).unwrap();
    for _ in 0..700 {
        switched.step();
    }
    let mut unswitched = Session::new(config).unwrap();
    for _ in 0..1200 {
        unswitched.step();
    }
    assert_eq!(trainer.ensemble().first().b().unwrap().network(), switched.network(), "B is the run that switched");
    assert_eq!(trainer.session().network(), unswitched.network(), "A is the run that did not");
    let description = trainer.ensemble().fork_info().unwrap().description;
    assert_eq!(description, "B: activation ReLU → Leaky ReLU (0.1) from step 500");
    trainer.handle(WorkerCommand::Keep(Branch::B));
    train(&mut trainer, 300);
    for _ in 0..300 {
        switched.step();
    }
    assert!(trainer.ensemble().first().b().is_none());
    assert_eq!(trainer.session().network(), switched.network(), "keep B continues B bit for bit");
    assert_eq!(trainer.session().record().parameter_digest, switched.record().parameter_digest);
}

#[test]
fn a_comparison_record_replays_both_branches_bit_for_bit() {
    let mut trainer = trainer(preset("high-learning-rate"));
    train(&mut trainer, 300);
    trainer.handle(WorkerCommand::Session(SessionCommand::SetLearningRate { learning_rate: 1.0 }));
    train(&mut trainer, 200);
    trainer.handle(WorkerCommand::Fork { changes: vec![leaky()] });
    trainer.handle(WorkerCommand::OnBranch {
        target: Target::B,
        command: SessionCommand::SetLearningRate { learning_rate: 0.03 },
    });
    train(&mut trainer, 400);
    trainer.handle(WorkerCommand::Session(SessionCommand::SetBiasOffset { bias_offset: 0.5 }));
    train(&mut trainer, 100);
    trainer.handle(WorkerCommand::RequestRecord);
    let record = std::iter::from_fn(|| trainer.next_event())
        .find_map(|event| if let TrainerEvent::Record(record) = event { Some(record) } else { None })
        .unwrap();
    let fork = record.lanes[0].fork.as_ref().unwrap();
    assert_eq!((fork.step, fork.after_command, fork.b_restarted), (500, 1, false));
    // Through JSON, as a saved file would go.
    let record = RunRecord::from_json(&record.to_json()).unwrap();
    let (mut ensemble, mut cursor) = EnsembleCursor::start(&record).unwrap();
    let mut forked_at = None;
    while let Some(events) = cursor.next(&mut ensemble).unwrap() {
        if events.iter().any(|event| matches!(event.step, LaneStep::Forked { .. })) {
            forked_at = Some(ensemble.step_count());
        }
    }
    assert_eq!(forked_at, Some(500));
    let lane = ensemble.first();
    assert_eq!(lane.a().network(), trainer.session().network());
    assert_eq!(lane.b().unwrap().network(), trainer.ensemble().first().b().unwrap().network());
    assert_eq!(cursor.verify(&ensemble), [(1, Verification::Matches, Some(Verification::Matches))]);
    // And the trainer's own replay says so.
    let mut replayer = self::trainer(RunConfig::default());
    replayer.handle(WorkerCommand::Pause);
    replayer.handle(WorkerCommand::LoadRecord(Box::new(record)));
    let clock_never_ends = ManualClock::default().now() + Duration::from_hours(1);
    while replayer.is_running() {
        replayer.tick(clock_never_ends);
    }
    let events: Vec<TrainerEvent> = std::iter::from_fn(|| replayer.next_event()).collect();
    let verdict =
        events.iter().find_map(|e| if let TrainerEvent::Notice(text) = e { Some(text.clone()) } else { None });
    assert_eq!(
        verdict.as_deref(),
        Some(
            "Replayed the record to step 1000: A: the final weights match the record bit for bit; B: the final \
             weights match the record bit for bit."
        )
    );
}

#[test]
fn a_comparison_from_step_0_builds_b_with_another_init_on_the_same_data_and_seed() {
    let config = RunConfig { seed: 2, ..preset("deep-narrow-he") };
    let mut trainer = trainer(config.clone());
    train(&mut trainer, 50);
    trainer.handle(WorkerCommand::CompareFromStart { changes: vec![SessionCommand::SetInit { init: Init::Rai }] });
    train(&mut trainer, 200);
    let rai = Session::new(RunConfig {
        network: relu_lab::train::config::NetworkConfig { init: Init::Rai, ..config.network.clone() },
        ..config.clone()
    });
    let mut rai = rai.unwrap();
    let mut he = Session::new(config).unwrap();
    for _ in 0..200 {
        rai.step();
        he.step();
    }
    assert_eq!(trainer.session().network(), he.network(), "A: He from step 0");
    assert_eq!(trainer.ensemble().first().b().unwrap().network(), rai.network(), "B: RAI from step 0, same seed");
    assert!(trainer.ensemble().fork_info().unwrap().b_restarted);
}

#[test]
fn each_seed_of_the_seeds_view_is_the_single_run_of_that_seed_and_opens_as_the_run() {
    let config = preset("high-learning-rate");
    let mut trainer = trainer(config.clone());
    trainer.handle(WorkerCommand::OpenSeeds { count: 10 });
    train(&mut trainer, 300);
    assert!(trainer.is_seeds_view());
    let seeds = trainer.ensemble();
    assert_eq!(seeds.lanes().len(), 10);
    assert_eq!(seeds.step_count(), 300);
    for lane in seeds.lanes() {
        let mut single = Session::new(RunConfig { seed: lane.seed(), ..config.clone() }).unwrap();
        for _ in 0..lane.a().step_count() {
            single.step();
        }
        assert_eq!(lane.a().network(), single.network(), "seed {}", lane.seed());
    }
    let seed_4 = seeds.lanes()[3].a().network().clone();
    trainer.handle(WorkerCommand::OpenSeed(3));
    assert!(!trainer.is_seeds_view());
    assert_eq!(trainer.session().network(), &seed_4);
    assert_eq!(trainer.session().config().seed, 4, "seeds count from 1");
}

fn relu_lab(args: &[&str], dir: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_relu-lab")).args(args).current_dir(dir).output().expect("it runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8")
}

#[test]
fn relu_lab_compare_is_deterministic_and_matches_a_replay_of_its_record() {
    let dir = tempfile_dir("compare");
    let args = [
        "compare",
        "--preset",
        "high-learning-rate",
        "--fork-at",
        "300",
        "--steps",
        "900",
        "--every",
        "150",
        "--b",
        "activation = \"leaky-relu\"",
        "--b",
        "learning_rate = 0.03",
        "--csv",
        "first.csv",
        "--record",
        "comparison.json",
    ];
    let first = relu_lab(&args, &dir);
    let mut again = args;
    again[14] = "second.csv";
    again[16] = "again.json";
    let second = relu_lab(&again, &dir);
    assert_eq!(first, second, "the same command prints the same rows");
    let replayed = relu_lab(&["replay", "comparison.json", "--csv", "replayed.csv"], &dir);
    assert_eq!(first, replayed, "a replay of the record prints the same rows");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    assert_eq!(read("first.csv"), read("second.csv"));
    assert_eq!(read("first.csv"), read("replayed.csv"));
    assert!(
        first.contains("fork at step 300: B: activation ReLU → Leaky ReLU (0.01), learning rate 3 → 0.03"),
        "{first}"
    );
    let header = read("first.csv").lines().next().unwrap().to_owned();
    assert!(header.starts_with("step,a_epoch,") && header.contains(",b_l2_dead,"), "{header}");
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("relu-lab-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// The seeds view's summary of the story's two probabilistic claims, after 3000 steps: the
/// sentences the app shows, measured.
#[test]
fn the_seeds_view_summarises_what_lessons_2_and_8_claim() {
    use relu_lab::train::seeds::SeedsState;
    let mut high = Ensemble::seeds(&preset("high-learning-rate"), 1..=10).expect("ten seeds");
    high.step(3000, 2);
    let summary = SeedsState::new(&high).view(&mut high).summary;
    assert_eq!(
        summary,
        [
            "9 of 10 networks collapsed; dead per network 7 to 10 (median 9); test accuracy 45.2% to 50.4% (median 48.8%)"
        ]
    );
    let rai = vec![SessionCommand::SetInit { init: Init::Rai }];
    let mut deep = Ensemble::seeds(&preset("deep-narrow-he"), 1..=10).expect("ten seeds");
    deep.fork_at(0, rai).expect("a fork");
    let mut state = SeedsState::new(&deep);
    deep.step(3000, 2);
    let summary = state.view(&mut deep).summary;
    assert_eq!(
        summary,
        [
            "A: 8 of 10 networks collapsed; dead per network 9 to 24 (median 17)",
            "B: 0 of 10 networks collapsed; dead per network 0 to 10 (median 3.5)",
            "Paired: B has fewer dead neurons than A in 10 of 10 seeds, more in 0; B revived neurons in 7 of 10 seeds",
            "A: born dead (exact check at step 0) on 7 of 10 seeds (70%); Monte Carlo over 10000 networks: 57.7%",
            "B: born dead (exact check at step 0) on 0 of 10 seeds (0%); Monte Carlo over 10000 networks: 7.1%",
        ]
    );
}

/// The README's figures for `relu-lab compare --preset high-learning-rate --fork-at 3000
/// --steps 6000` with B on Leaky ReLU 0.1 at rate 0.03, over seeds 1-10.
#[test]
fn the_readme_comparison_figures_hold_over_seeds_1_to_10() {
    use relu_lab::nn::NeuronState;
    let b_changes = vec![SessionCommand::SetLearningRate { learning_rate: 0.03 }, leaky()];
    let (mut a_dead, mut a_accuracy, mut b_dead, mut b_revivals, mut b_accuracy) =
        (vec![], vec![], vec![], vec![], vec![]);
    for seed in 1..=10 {
        let mut pair = Ensemble::single(RunConfig { seed, ..preset("high-learning-rate") }).expect("a run");
        pair.step(3000, 1);
        pair.fork_now(&b_changes).expect("a fork");
        pair.step(3000, 2);
        let lane = pair.first_mut();
        let a = lane.session_mut(Branch::A).unwrap().evaluate();
        let b = lane.session_mut(Branch::B).unwrap().evaluate();
        a_dead.push(a.diagnostics.count(NeuronState::Dead));
        a_accuracy.push((a.test_accuracy.expect("classification") * 1000.0).round() / 10.0);
        b_dead.push(b.diagnostics.count(NeuronState::Dead));
        b_revivals.push(b.revived.iter().sum::<u64>());
        b_accuracy.push((b.test_accuracy.expect("classification") * 1000.0).round() / 10.0);
    }
    assert_eq!(a_dead, [7, 9, 10, 9, 8, 8, 10, 9, 8, 9]);
    assert_eq!(a_accuracy, [54.4, 51.2, 50.4, 46.8, 52.4, 45.2, 50.0, 48.8, 48.8, 49.6]);
    assert_eq!(b_dead, [0; 10]);
    assert_eq!(b_revivals, [11, 13, 12, 9, 6, 17, 13, 9, 9, 22]);
    assert_eq!(b_accuracy, [98.8, 99.2, 96.4, 100.0, 100.0, 56.0, 97.2, 99.2, 97.2, 97.6]);
}
