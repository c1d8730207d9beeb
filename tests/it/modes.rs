//! One engine for one, two or ten networks: every mode can do what makes sense in it, and the
//! seams between modes hold. Each test here is one finding of the issue that built the
//! ensemble ("One engine for one, two or ten networks"): it failed before and passes now.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use relu_lab::nn::Activation;
use relu_lab::train::clock::{Clock, ManualClock};
use relu_lab::train::lessons::{Phase, load_lessons, run_lesson};
use relu_lab::train::seeds::SeedsState;
use relu_lab::train::{
    Branch, Ensemble, RunConfig, RunRecord, Session, SessionCommand, Speed, Target, Trainer, TrainerEvent,
    WorkerCommand,
};

use crate::support::{TIMEOUT, preset, temp_folder};

/// A trainer at full speed on a clock that stands still.
fn trainer(config: RunConfig) -> Trainer {
    let mut trainer = Trainer::new(config, Box::new(ManualClock::default())).expect("a valid config");
    trainer.handle(WorkerCommand::SetSpeed(Speed::Max));
    trainer
}

/// Makes exactly `steps` more lockstep steps and drains the events.
fn train(trainer: &mut Trainer, steps: u64) -> Vec<TrainerEvent> {
    trainer.handle(WorkerCommand::Step(steps));
    let never = ManualClock::default().now() + Duration::from_hours(1);
    while trainer.is_running() {
        trainer.tick(never);
    }
    std::iter::from_fn(|| trainer.next_event()).collect()
}

/// The events of the commands handled so far.
fn events(trainer: &mut Trainer) -> Vec<TrainerEvent> {
    std::iter::from_fn(|| trainer.next_event()).collect()
}

/// Runs `relu-lab` in `dir`, failing the test if it does not end within the timeout.
fn relu_lab(args: &[&str], dir: &Path) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_relu-lab"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("it starts");
    let deadline = Instant::now() + TIMEOUT;
    while child.try_wait().expect("waitable").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("relu-lab {args:?} did not end within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("its output")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Lesson 11's own comparison without the clip on A: A diverges within a few steps, B (clipped)
/// trains to the end. It used to hang with A stuck at step 8 while B made millions of steps.
#[test]
fn compare_ends_when_a_diverges_after_the_fork_and_names_it() {
    let dir = temp_folder("modes", "a-diverges");
    let mut config = preset("leaky-clipped");
    config.training.clip_gradient_norm = None;
    std::fs::write(dir.join("noclip.toml"), toml::to_string(&config).unwrap()).unwrap();
    let output = relu_lab(
        &["compare", "--config", "noclip.toml", "--steps", "3000", "--b", "clip_gradient_norm = 1.0", "--csv", "c.csv"],
        &dir,
    );
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(3), "a divergence is a non-zero exit: {stderr}");
    assert!(stderr.contains("A diverged at step"), "{stderr}");
    assert!(stdout.contains("A diverged at step"), "said when it happened: {stdout}");
    let last = stdout.lines().find(|line| line.trim_start().starts_with("3000 |")).expect("a row at step 3000");
    assert!(last.contains("(diverged at step"), "A's cells say it diverged: {last}");
    let csv = std::fs::read_to_string(dir.join("c.csv")).expect("the CSV is written");
    assert!(csv.lines().last().is_some_and(|row| row.starts_with("3000,")), "B's rows reach step 3000");
}

#[test]
fn compare_keeps_its_files_when_the_run_diverges_before_the_fork() {
    let dir = temp_folder("modes", "before-fork");
    let mut config = preset("leaky-clipped");
    config.training.clip_gradient_norm = None;
    std::fs::write(dir.join("noclip.toml"), toml::to_string(&config).unwrap()).unwrap();
    let args = ["compare", "--config", "noclip.toml", "--fork-at", "500", "--steps", "1000"];
    let output =
        relu_lab(&[&args[..], &["--b", "learning_rate = 0.03", "--csv", "c.csv", "--record", "r.json"]].concat(), &dir);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(text(&output.stdout).contains("before the fork at step 500: no comparison was made"));
    assert!(std::fs::read_to_string(dir.join("c.csv")).is_ok_and(|csv| csv.lines().count() > 1), "the CSV is kept");
    let replay = relu_lab(&["replay", "r.json"], &dir);
    assert!(replay.status.success(), "the record is kept and replays: {}", text(&replay.stderr));
}

#[test]
fn going_back_works_while_comparing_and_in_the_seeds_view() {
    let mut compared = trainer(preset("high-learning-rate"));
    train(&mut compared, 300);
    compared.handle(WorkerCommand::Fork {
        changes: vec![
            SessionCommand::SetLearningRate { learning_rate: 0.03 },
            SessionCommand::SetActivation { activation: Activation::LeakyRelu { slope: 0.1 } },
        ],
    });
    train(&mut compared, 300);
    let then = compared.ensemble().clone();
    train(&mut compared, 250);
    compared.handle(WorkerCommand::Rewind { step: 700, then: Vec::new(), target: Target::Both });
    let said = events(&mut compared);
    assert!(said.contains(&TrainerEvent::Rewound { step: 600, b_step: Some(600), from_divergence: None }), "{said:?}");
    let lane = compared.ensemble().first();
    assert_eq!(lane.a().network(), then.first().a().network());
    assert_eq!(lane.b().map(Session::network), then.first().b().map(Session::network));

    let mut seeds = trainer(preset("healthy-relu"));
    seeds.handle(WorkerCommand::OpenSeeds { count: 3 });
    train(&mut seeds, 450);
    seeds.handle(WorkerCommand::Rewind { step: 420, then: Vec::new(), target: Target::Both });
    assert!(events(&mut seeds).iter().any(|event| matches!(event, TrainerEvent::Rewound { step: 400, .. })));
    assert!(seeds.ensemble().lanes().iter().all(|lane| lane.a().step_count() == 400));
    assert_eq!(seeds.ensemble().step_count(), 400);
}

#[test]
fn the_seeds_view_shows_its_own_step_and_is_recorded_and_replayed_as_one_record() {
    let clock = ManualClock::default();
    let mut trainer = Trainer::new(preset("high-learning-rate"), Box::new(clock.clone())).expect("a valid config");
    trainer.handle(WorkerCommand::SetSpeed(Speed::Max));
    train(&mut trainer, 100);
    trainer.handle(WorkerCommand::Fork { changes: vec![SessionCommand::SetLearningRate { learning_rate: 0.3 }] });
    trainer.handle(WorkerCommand::OpenSeeds { count: 3 });
    train(&mut trainer, 250);
    // A second later, the trainer publishes what it shows now.
    clock.advance(Duration::from_secs(1));
    trainer.handle(WorkerCommand::RequestSnapshot);
    trainer.tick(clock.now());
    let view = trainer.take_new_snapshot().expect("a view was published");
    assert_eq!(view.step, 250, "the seeds' step, not the waiting run's 100");
    assert_eq!(view.run.step(), 100, "the run waits meanwhile");
    trainer.handle(WorkerCommand::RequestRecord);
    let record = events(&mut trainer)
        .into_iter()
        .find_map(|event| if let TrainerEvent::Record(record) = event { Some(record) } else { None })
        .expect("the record");
    assert_eq!(record.lanes.len(), 3, "one record of every seed");
    assert!(record.lanes.iter().all(|lane| lane.fork.as_ref().is_some_and(|fork| fork.step == 100)));
    // Through a file, as a user would save it; the trainer replays it as the seeds view.
    let record = RunRecord::from_json(&record.to_json()).expect("it reads back");
    let mut replayer = self::trainer(RunConfig::default());
    replayer.handle(WorkerCommand::LoadRecord(Box::new(record.clone())));
    let verdict = train(&mut replayer, 1).into_iter().chain(train(&mut replayer, 300)).find_map(|event| match event {
        TrainerEvent::Notice(text) if text.starts_with("Replayed") => Some(text),
        _ => None,
    });
    assert_eq!(
        verdict.as_deref(),
        Some("Replayed the record to step 250: all 6 networks match the record bit for bit.")
    );
    assert!(replayer.is_seeds_view());
    let dir = temp_folder("modes", "seeds-record");
    std::fs::write(dir.join("seeds.json"), record.to_json()).unwrap();
    let replay = relu_lab(&["replay", "seeds.json"], &dir);
    assert!(replay.status.success(), "{}", text(&replay.stderr));
    assert!(text(&replay.stderr).contains("seed 3 B: the final weights match the record bit for bit"));
}

/// Flipping `b_restarted` used to replay another comparison and say "match" for both branches.
#[test]
fn any_edit_to_a_comparison_record_fails_verification() {
    let dir = temp_folder("modes", "edited-fork");
    let made = relu_lab(
        &[
            "compare",
            "--preset",
            "healthy-relu",
            "--fork-at",
            "100",
            "--steps",
            "300",
            "--b",
            "learning_rate = 0.3",
            "--record",
            "c.json",
        ],
        &dir,
    );
    assert!(made.status.success(), "{}", text(&made.stderr));
    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("c.json")).unwrap()).unwrap();
    for field in ["b_restarted", "after_command", "step"] {
        let mut edited = original.clone();
        let fork = &mut edited["lanes"][0]["fork"];
        fork[field] = match field {
            "b_restarted" => serde_json::json!(true),
            _ => serde_json::json!(fork[field].as_u64().unwrap_or(0) + 1),
        };
        std::fs::write(dir.join("edited.json"), edited.to_string()).unwrap();
        let replay = relu_lab(&["replay", "edited.json"], &dir);
        assert_eq!(replay.status.code(), Some(1), "{field}: {}", text(&replay.stderr));
    }
    // A comparison in a format from before comparisons is refused as such.
    let mut old = original["lanes"][0].clone();
    old["format"] = serde_json::json!(2);
    std::fs::write(dir.join("old.json"), old.to_string()).unwrap();
    let replay = relu_lab(&["replay", "old.json", "--no-verify"], &dir);
    assert!(text(&replay.stderr).contains("cannot hold a comparison"), "{}", text(&replay.stderr));
}

/// `relu-lab lessons` measures what the lesson's button does in the app: the same trainer
/// commands at the lesson's step, on the same seed, give the same figures, for a lesson that
/// forks (2), one that compares from step 0 (8) and one that changes the run (3).
#[test]
fn a_lesson_measures_exactly_what_its_button_does() {
    let lessons = load_lessons().expect("the lessons load");
    for (number, seed) in [(2, 6), (8, 2), (3, 4)] {
        let lesson = &lessons[number - 1];
        let measured = run_lesson(lesson, seed..=seed, 1).expect("it runs").remove(0);
        let mut app_trainer = trainer(RunConfig { seed, ..lesson.config().expect("a preset") });
        train(&mut app_trainer, 3000);
        for command in lesson.try_it.as_ref().expect("a try-it").worker_commands() {
            app_trainer.handle(command);
        }
        train(&mut app_trainer, 3000);
        let branch = if app_trainer.ensemble().is_forked() { Branch::B } else { Branch::A };
        let mut ensemble: Ensemble = app_trainer.ensemble().clone();
        let session = ensemble.first_mut().session_mut(branch).expect("the branch that took the change");
        let on_screen = relu_lab::train::figures::Figures::measure(session);
        assert_eq!(Some(&on_screen), measured.phase(Phase::TryIt), "lesson {number}, seed {seed}");
    }
}

/// The seeds view and `relu-lab lessons` take one median: lesson 7's ELU accuracy read 91.6%
/// in the seeds view (the lower middle) and 92.6% in the lesson (the midpoint).
#[test]
fn the_seeds_view_and_the_lessons_print_the_same_median() {
    let lesson = &load_lessons().expect("the lessons load")[6];
    let runs = run_lesson(lesson, 1..=10, 2).expect("it runs");
    let median =
        relu_lab::train::lessons::summarize(&runs, relu_lab::train::figures::Figure::TestAccuracy, Phase::Preset)
            .expect("accuracies")
            .median_text();
    let mut seeds = Ensemble::seeds(&lesson.config().expect("a preset"), 1..=10).expect("ten seeds");
    seeds.step(3000, 2);
    let summary = SeedsState::new(&seeds).view(&mut seeds).summary.join(" ");
    assert!(summary.contains(&format!("(median {median})")), "{median} in {summary}");
}

/// Opened at a lesson's beat (lesson 2 pauses at its step 3000), the seeds view used to wait,
/// paused, at step 0: ten blank cards. Its seeds now train to the step the run waits at and pause
/// there, where the summary reads what the lesson measures over the same seeds.
#[test]
fn the_seeds_view_opened_at_a_beat_trains_to_the_runs_step_and_reads_the_lessons_figure() {
    let lesson = &load_lessons().expect("the lessons load")[1];
    let config = lesson.config().expect("a preset");
    let clock = ManualClock::default();
    let mut trainer = Trainer::new(config.clone(), Box::new(clock.clone())).expect("a valid config");
    trainer.handle(WorkerCommand::SetSpeed(Speed::Max));
    trainer.handle(WorkerCommand::LoadLesson { config: Box::new(config), script: lesson.script() });
    let never = ManualClock::default().now() + Duration::from_hours(1);
    while trainer.is_running() {
        trainer.tick(never);
    }
    let _ = events(&mut trainer);
    trainer.handle(WorkerCommand::OpenSeeds { count: 10 });
    assert!(trainer.is_running(), "the seeds train at once");
    while trainer.is_running() {
        trainer.tick(never);
    }
    // A second later (the seeds' picture is rebuilt at most so often), the view as it is now.
    clock.advance(Duration::from_secs(1));
    trainer.handle(WorkerCommand::RequestSnapshot);
    trainer.tick(never);
    let view = trainer.take_new_snapshot().expect("a view was published");
    let seeds_step = view.seeds().map(|seeds| seeds.step);
    assert_eq!((view.step, seeds_step), (3000, Some(3000)), "the seeds stop where the run waits");
    let runs = run_lesson(lesson, 1..=10, 2).expect("it runs");
    let collapsed =
        relu_lab::train::lessons::summarize(&runs, relu_lab::train::figures::Figure::Collapsed, Phase::Preset)
            .expect("a count")
            .range_text();
    let summary = view.seeds().map(|seeds| seeds.summary.join(" ")).unwrap_or_default();
    assert!(summary.starts_with(&format!("{collapsed} networks collapsed")), "{collapsed} in {summary}");
    // Closed before its seeds arrive, the view leaves the run paused where it waited.
    trainer.handle(WorkerCommand::CloseSeeds);
    trainer.handle(WorkerCommand::SetSpeed(Speed::StepsPerSecond(10.0)));
    trainer.handle(WorkerCommand::OpenSeeds { count: 2 });
    trainer.tick(clock.now());
    assert!(trainer.is_running(), "one round made, the seeds are on their way");
    trainer.handle(WorkerCommand::CloseSeeds);
    assert!(!trainer.is_running(), "the run waits at its beat");
}
