//! A lesson is a script: the app's trainer plays it (each beat at its lesson step, pausing
//! where it pauses, going on when told), and what it shows at each measured beat is, bit for
//! bit, what `relu-lab lessons` measures for that seed.

use std::time::Duration;

use relu_lab::train::clock::{Clock, ManualClock};
use relu_lab::train::figures::Figures;
use relu_lab::train::lessons::{Phase, load_lessons, run_lesson};
use relu_lab::train::{Branch, Speed, Trainer, TrainerEvent, WorkerCommand};

/// Ticks until the trainer pauses; returns the events on the way.
fn run_until_paused(trainer: &mut Trainer) -> Vec<TrainerEvent> {
    let never = ManualClock::default().now() + Duration::from_hours(1);
    let mut events = Vec::new();
    while trainer.is_running() {
        trainer.tick(never);
        events.extend(std::iter::from_fn(|| trainer.next_event()));
    }
    events.extend(std::iter::from_fn(|| trainer.next_event()));
    events
}

/// The figures of the branch the lesson measures now (B once forked).
fn figures_now(trainer: &Trainer) -> Figures {
    let mut ensemble = trainer.ensemble().clone();
    let branch = if ensemble.is_forked() { Branch::B } else { Branch::A };
    Figures::measure(ensemble.first_mut().session_mut(branch).expect("the measured branch"))
}

#[test]
fn the_app_plays_each_lesson_to_the_figures_the_lessons_command_measures() {
    for lesson in load_lessons().expect("the lessons load") {
        let config = lesson.config().expect("a preset");
        let seed = config.seed;
        let measured = run_lesson(&lesson, seed..=seed, 1).expect("it runs").remove(0);
        let mut trainer = Trainer::new(config, Box::new(ManualClock::default())).expect("a valid config");
        trainer.handle(WorkerCommand::SetSpeed(Speed::Max));
        trainer.handle(WorkerCommand::PlayScript(lesson.script()));
        assert_eq!(Some(&figures_now(&trainer)), measured.phase(Phase::Start), "{}: at step 0", lesson.title);
        let mut compared = 1;
        let mut is_ended = false;
        while !is_ended {
            trainer.handle(WorkerCommand::Resume);
            let events = run_until_paused(&mut trainer);
            is_ended = events.contains(&TrainerEvent::ScriptEnded);
            assert!(
                events.iter().any(|event| matches!(event, TrainerEvent::Beat { .. } | TrainerEvent::Diverged(_))),
                "{}: it paused at no beat and did not diverge: {events:?}",
                lesson.title
            );
            let reached = events.iter().rev().find_map(|event| match event {
                TrainerEvent::Beat { index, .. } => Some(*index),
                _ => None,
            });
            let Some(beat) = reached.and_then(|index| lesson.beats.get(index)) else { continue };
            if !beat.pause {
                continue;
            }
            if let Some(phase) = beat.measure {
                let on_screen = figures_now(&trainer);
                let expected = measured.phase(phase).expect("measured");
                // Every figure (a diverged network's NaN loss is no figure, on either side).
                for figure in relu_lab::train::figures::Figure::ALL {
                    assert_eq!(
                        on_screen.value(figure),
                        expected.value(figure),
                        "{} at {}: {figure:?}",
                        lesson.title,
                        phase.key()
                    );
                }
                assert_eq!(on_screen.step, expected.step);
                compared += 1;
            }
        }
        let phases = lesson.beats.iter().filter(|beat| beat.measure.is_some()).count();
        assert_eq!(compared, phases, "{}: every measured beat was played and compared", lesson.title);
    }
}

#[test]
fn a_user_change_during_a_lesson_is_said_once_and_a_reset_ends_the_script() {
    let lesson = &load_lessons().expect("the lessons load")[1];
    let mut trainer =
        Trainer::new(lesson.config().expect("a preset"), Box::new(ManualClock::default())).expect("a valid config");
    trainer.handle(WorkerCommand::SetSpeed(Speed::Max));
    trainer.handle(WorkerCommand::PlayScript(lesson.script()));
    trainer.handle(WorkerCommand::Step(100));
    run_until_paused(&mut trainer);
    let rate = |rate| WorkerCommand::Session(relu_lab::train::SessionCommand::SetLearningRate { learning_rate: rate });
    trainer.handle(rate(1.0));
    trainer.handle(rate(2.0));
    let said: Vec<TrainerEvent> = std::iter::from_fn(|| trainer.next_event()).collect();
    let notices = said
        .iter()
        .filter(|event| matches!(event, TrainerEvent::Notice(text) if text.contains("the lesson goes on")))
        .count();
    assert_eq!(notices, 1, "{said:?}");
    trainer.handle(WorkerCommand::Session(relu_lab::train::SessionCommand::Reset { seed: None }));
    let said: Vec<TrainerEvent> = std::iter::from_fn(|| trainer.next_event()).collect();
    assert!(said.contains(&TrainerEvent::ScriptEnded), "{said:?}");
}
