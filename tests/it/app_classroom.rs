//! The classroom screen, tried as a teacher and a student would (headless, through AccessKit
//! and the shapes egui paints): a divergence the banner can rescue and the plots tell truly,
//! tiles that grow when presenting with every readout in view, text that is never stretched,
//! a step counter in every mode, feedback for undo and for a lesson that would end a fork, and
//! a phone-sized window that still runs lessons 1 and 2 with its fork.

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui::epaint::Shape;
use egui::{Rect, vec2};
use egui_kittest::kittest::Queryable as _;
use relu_lab::app::plots::broken_series;
use relu_lab::app::shared::Intent;
use relu_lab::app::top_bar::RunStatus;
use relu_lab::app::{AppOptions, ReluLabApp};
use relu_lab::nn::{Activation, ActivationKind};
use relu_lab::train::remedy::{CLIP_NORM, Remedy, remedy_for};
use relu_lab::train::{History, HistoryPoint, ModeView, SessionCommand, Speed, Target, WorkerCommand};

use crate::support::*;

/// The app at `width × height`, as a first launch opens it.
fn harness_at(width: f32, height: f32) -> AppHarness {
    app_harness_with(vec2(width, height), |ctx| ReluLabApp::new(None, None, ctx))
}

/// Opens lesson `number` (from 1) at full speed and waits until it has trained `steps` steps.
fn open_lesson(harness: &mut AppHarness, number: usize, steps: u64) {
    wait_for_training(harness);
    harness.state_mut().apply(Intent::LoadLesson(number - 1));
    harness.state_mut().apply(Intent::Trainer(WorkerCommand::SetSpeed(Speed::Max)));
    let title = harness.state().lessons()[number - 1].title.clone();
    wait_until(harness, "the lesson trains", |app| {
        app.snapshot().is_some_and(|s| s.step() >= steps && app.settings().lesson == number - 1)
            && app.lessons()[app.settings().lesson].title == title
    });
}

/// Opens lesson `number`'s network and settings as a plain run, without its script (whose
/// beats would pause and fork it), and trains it to `steps`.
fn open_lesson_unscripted(harness: &mut AppHarness, number: usize, steps: u64) {
    open_lesson(harness, number, 1);
    let config = harness.state().lessons()[number - 1].config().expect("the lesson's preset");
    harness.state_mut().apply(Intent::Trainer(WorkerCommand::Load(Box::new(config))));
    harness.state_mut().apply(Intent::Trainer(WorkerCommand::Resume));
    wait_until(harness, "the run trains without the script", |app| {
        app.view().is_some_and(|view| view.lesson.is_none() && view.step >= steps)
    });
}

/// Applies the open lesson's "try it" (lesson 2 forks: B takes rate 0.03 and Leaky ReLU) as
/// its button does, and waits for what it makes.
fn try_it(harness: &mut AppHarness) {
    let app = harness.state();
    let try_it = app.lessons()[app.settings().lesson].try_it.clone().expect("the lesson has a try it");
    for command in try_it.worker_commands() {
        harness.state_mut().apply(Intent::Trainer(command));
    }
    harness.state_mut().apply(Intent::Trainer(WorkerCommand::Resume));
    wait_until(harness, "the lesson's comparison runs", |app| {
        app.view().is_some_and(|view| matches!(view.mode, ModeView::Compare { .. })) && app.history_b().is_some()
    });
    harness.run_steps(4);
}

/// Pauses the run, so that the picture stays still while it is measured.
fn pause(harness: &mut AppHarness) {
    harness.state_mut().apply(Intent::Trainer(WorkerCommand::Pause));
    wait_until(harness, "paused", |app| *app.status() == RunStatus::Paused);
    harness.run_steps(4);
}

/// Switches presentation mode on or off and lets the layout settle.
fn present(harness: &mut AppHarness, is_on: bool) {
    if harness.state().settings().presentation != is_on {
        harness.state_mut().apply(Intent::TogglePresentation);
    }
    harness.run_steps(6);
}

/// The median side of the hidden tiles on screen (each tile's button carries its rect).
fn tile_side(harness: &AppHarness) -> f32 {
    let mut sides: Vec<f32> = harness.query_all_by_label_contains(" neuron ").map(|node| node.rect().width()).collect();
    assert!(!sides.is_empty(), "tiles are on screen");
    sides.sort_by(f32::total_cmp);
    sides[sides.len() / 2]
}

#[test]
fn after_a_prelu_switch_at_rate_3_the_banner_rescues_the_run_and_a_change_while_diverged_keeps_it() {
    let mut harness = app_harness();
    open_lesson_unscripted(&mut harness, 2, 300);
    let prelu = Activation::Prelu { initial_slope: 0.25 };
    harness
        .state_mut()
        .apply(Intent::Trainer(WorkerCommand::Session(SessionCommand::SetActivation { activation: prelu })));
    wait_until(&mut harness, "the run diverged", |app| matches!(app.status(), RunStatus::Diverged { .. }));
    let RunStatus::Diverged { step: diverged_at, .. } = harness.state().status().clone() else { unreachable!() };
    harness.run_steps(4);
    let counter = harness.state().view().map(|view| view.step);
    assert_eq!(counter, Some(diverged_at), "the step counter stops where the run stopped");
    // The banner offers the remedy measured for PReLU, with its reason, in figures from the code.
    let remedy = Remedy::ClipGradient { max_norm: CLIP_NORM };
    let config = harness.state().snapshot().expect("a snapshot").config.clone();
    assert_eq!(remedy_for(&config), remedy);
    assert!(harness.query_by_label_contains(&remedy.reason(ActivationKind::Prelu)).is_some(), "the reason is said");

    // A change made while diverged keeps the banner: the weights are still the ones that overflowed.
    let elu = Activation::Elu { alpha: 1.0 };
    harness
        .state_mut()
        .apply(Intent::Trainer(WorkerCommand::Session(SessionCommand::SetActivation { activation: elu })));
    wait_until(&mut harness, "ELU is in place", |app| {
        app.snapshot().is_some_and(|s| s.config.network.activation == ActivationKind::Elu)
    });
    harness.run_steps(4);
    assert!(matches!(harness.state().status(), RunStatus::Diverged { .. }), "still diverged");
    assert!(harness.query_by_label_contains("You changed the run after it diverged").is_some(), "and says why");
    let veils = harness.query_all_by_label_contains("these are the weights that overflowed").count();
    assert_eq!(veils, 2, "the network and its output are veiled");

    // Go back: to the checkpoint before the divergence (the switch to PReLU), clipped at 10.
    harness.get_by_role_and_label(Role::Button, "Go back before the divergence").click();
    wait_until(&mut harness, "it trains on, clipped", |app| {
        *app.status() == RunStatus::Running
            && app.snapshot().is_some_and(|s| {
                s.config.training.clip_gradient_norm == Some(CLIP_NORM) && s.step() > diverged_at + 1000
            })
    });
    let app = harness.state();
    let snapshot = app.snapshot().expect("a snapshot");
    assert_eq!(snapshot.config.network.activation, ActivationKind::Prelu, "back before the change to ELU");
    assert!(snapshot.evaluation.train_loss.is_finite());
    let back: Vec<&str> =
        app.history().annotations.iter().map(|a| a.text.as_str()).filter(|t| t.starts_with("went back")).collect();
    let went_to: u64 = back
        .first()
        .and_then(|text| text.split_whitespace().nth(4))
        .and_then(|step| step.parse().ok())
        .expect("the history says where it went back to");
    assert!(went_to < diverged_at, "went back to {went_to}, before the divergence at {diverged_at}");
}

#[test]
fn a_loss_that_stops_being_a_number_is_a_gap_with_a_mark_never_a_value() {
    let point = |step: u64, loss: f64| HistoryPoint { step, train_loss: loss, ..HistoryPoint::default() };
    let mut history = History::default();
    for (step, loss) in [(0, 0.7), (20, 0.5), (40, f64::NAN), (60, f64::INFINITY), (80, 0.4)] {
        history.push(point(step, loss));
    }
    let log = broken_series(&history, |p| Some(relu_lab::app::plots::log10_floored(p.train_loss)));
    assert_eq!(log.parts.len(), 2, "a gap where the loss is not a number: {log:?}");
    let steps: Vec<f64> = log.points().map(|p| p[0]).collect();
    assert_eq!(steps, [0.0, 20.0, 80.0], "the NaN and the infinity are drawn nowhere");
    assert_eq!(log.breaks, [(40.0, Some(0.5_f64.log10()))], "one mark, at the last value before the break");
    assert!(log.points().all(|p| p[1] > relu_lab::app::plots::LOG_FLOOR.log10()), "nothing at the floor");

    // In the app, a divergence's history point is plotted as such a gap.
    let mut harness = app_harness();
    open_lesson_unscripted(&mut harness, 2, 300);
    let prelu = Activation::Prelu { initial_slope: 0.25 };
    harness
        .state_mut()
        .apply(Intent::Trainer(WorkerCommand::Session(SessionCommand::SetActivation { activation: prelu })));
    wait_until(&mut harness, "the run diverged", |app| matches!(app.status(), RunStatus::Diverged { .. }));
    harness.run_steps(4);
    let history = harness.state().history();
    assert!(history.points.last().is_some_and(|p| !p.train_loss.is_finite()), "the last loss is not a number");
    let series = broken_series(history, |p| Some(relu_lab::app::plots::log10_floored(p.train_loss)));
    assert_eq!(series.breaks.len(), 1, "{:?}", series.breaks);
    assert!(series.points().all(|p| p[1].is_finite() && p[1] > relu_lab::app::plots::LOG_FLOOR.log10()));
}

#[test]
fn presenting_at_1280_by_720_the_tiles_are_half_again_as_large_and_no_readout_is_clipped() {
    let mut harness = app_harness();
    open_lesson(&mut harness, 2, 200);
    pause(&mut harness);
    let normal = tile_side(&harness);
    present(&mut harness, true);
    let presented = tile_side(&harness);
    assert!(presented >= normal * 1.5, "a run's tiles: {presented} presenting, {normal} normally");

    present(&mut harness, false);
    try_it(&mut harness);
    pause(&mut harness);
    let normal = tile_side(&harness);
    assert_readouts_in_view(&harness, "normal");
    present(&mut harness, true);
    let presented = tile_side(&harness);
    assert!(presented >= normal * 1.5, "forked tiles: {presented} presenting, {normal} normally");
    assert_readouts_in_view(&harness, "presenting");
    // The step counter is there, and large.
    let counter = harness.query_all_by_label_contains("step ").find(|node| label_of(node).starts_with("step "));
    let counter = counter.expect("a step counter").rect();
    assert!(counter.height() >= 30.0, "the counter is {} points high", counter.height());
}

/// Both branches' numbers and the fork's readout are whole, inside the window and clear of the
/// panels beside and below them.
fn assert_readouts_in_view(harness: &AppHarness, mode: &str) {
    let window = Rect::from_min_size(egui::Pos2::ZERO, vec2(1280.0, 720.0));
    let lesson = harness.state().lessons()[harness.state().settings().lesson].title.clone();
    let lesson_left = harness.get_by_label(&lesson).rect().left();
    let plots_top =
        harness.query_all_by_label_contains(", A and B").map(|node| node.rect().top()).fold(window.bottom(), f32::min);
    let readouts: Vec<Rect> = harness
        .query_all_by_label_contains("Train loss")
        .chain(harness.query_all_by_label_contains("Forked at step"))
        .map(|node| node.rect())
        .collect();
    assert_eq!(readouts.len(), 3, "{mode}: A's and B's numbers, and the fork's");
    for rect in readouts {
        assert!(window.contains_rect(rect), "{mode}: {rect:?} leaves the window");
        assert!(rect.right() <= lesson_left + 0.5, "{mode}: {rect:?} runs under the lesson at {lesson_left}");
        assert!(rect.bottom() <= plots_top + 0.5, "{mode}: {rect:?} runs under the plots at {plots_top}");
    }
}

/// Every text egui painted in the last frame, with how far its glyphs are spread beyond their
/// natural advance, at most.
fn widest_spread(harness: &AppHarness) -> (f32, String) {
    let mut worst = (0.0_f32, String::new());
    let mut shapes: Vec<&Shape> = harness.output().shapes.iter().map(|clipped| &clipped.shape).collect();
    while let Some(shape) = shapes.pop() {
        match shape {
            Shape::Vec(inner) => shapes.extend(inner.iter()),
            Shape::Text(text) => {
                for placed in &text.galley.rows {
                    for pair in placed.row.glyphs.windows(2) {
                        let spread = pair[1].pos.x - (pair[0].pos.x + pair[0].advance_width);
                        if spread > worst.0 {
                            worst = (spread, text.galley.job.text.clone());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    worst
}

#[test]
fn no_text_is_spread_letter_by_letter_in_any_mode() {
    let mut checked = Vec::new();
    let mut check = |harness: &AppHarness, what: &str| {
        let (spread, text) = widest_spread(harness);
        // Kerning and pixel rounding move a glyph by a point at most.
        assert!(spread <= 1.5, "{what}: {text:?} is spread by {spread} points");
        checked.push(what.to_owned());
    };
    for (width, height) in [(1280.0, 720.0), (390.0, 844.0)] {
        let mut harness = harness_at(width, height);
        open_lesson(&mut harness, 2, 200);
        try_it(&mut harness);
        for presentation in [false, true] {
            present(&mut harness, presentation);
            check(&harness, &format!("lesson 2 forked at {width}, presenting {presentation}"));
        }
        present(&mut harness, false);
        harness.state_mut().apply(Intent::ConfirmLesson(Some(7)));
        harness.state_mut().apply(Intent::Trainer(WorkerCommand::SetSpeed(Speed::Max)));
        wait_until(&mut harness, "lesson 8 runs", |app| {
            app.settings().lesson == 7 && app.snapshot().is_some_and(|s| s.step() > 50)
        });
        try_it(&mut harness);
        check(&harness, &format!("lesson 8 compared at {width}"));
        harness.state_mut().apply(Intent::ToggleSeeds);
        wait_until(&mut harness, "the seeds train", |app| {
            app.view().is_some_and(|view| view.seeds().is_some() && view.step > 20)
        });
        harness.run_steps(4);
        check(&harness, &format!("the seeds view at {width}"));
    }
    assert_eq!(checked.len(), 8);
}

#[test]
fn the_seeds_view_shows_its_own_step_in_every_mode() {
    let mut harness = app_harness();
    open_lesson(&mut harness, 2, 100);
    pause(&mut harness);
    let run_step = harness.state().view().map_or(0, |view| view.step);
    harness.state_mut().apply(Intent::ToggleSeeds);
    harness.state_mut().apply(Intent::Trainer(WorkerCommand::Resume));
    wait_until(&mut harness, "the seeds train past the run", |app| {
        app.view().is_some_and(|view| view.seeds().is_some() && view.step > run_step + 50)
    });
    for presentation in [false, true] {
        present(&mut harness, presentation);
        harness.state_mut().apply(Intent::Trainer(WorkerCommand::Pause));
        harness.run_steps(4);
        let step = harness.state().view().map_or(0, |view| view.step);
        let counter =
            harness.query_all_by_label_contains("step ").map(|node| label_of(&node)).find(|l| l.starts_with("step "));
        assert_eq!(counter, Some(format!("step {step}")), "presenting {presentation}: the bar counts the seeds' steps");
        let header = harness.query_all_by_label_contains(" seeds at once, at step ").map(|node| label_of(&node)).next();
        assert!(
            header.as_deref().is_some_and(|h| h.ends_with(&format!("at step {step}"))),
            "and the view says it: {header:?}"
        );
        harness.state_mut().apply(Intent::Trainer(WorkerCommand::Resume));
        harness.run_steps(2);
    }
}

#[test]
fn undo_says_what_it_undid_and_a_lesson_asks_before_it_ends_a_fork() {
    let mut harness = app_harness();
    open_lesson(&mut harness, 1, 20);
    harness
        .state_mut()
        .apply(Intent::Trainer(WorkerCommand::Session(SessionCommand::SetLearningRate { learning_rate: 0.3 })));
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    wait_until(&mut harness, "the undo is told", |app| app.notice().is_some_and(|n| n.contains("Undone:")));
    let notice = harness.state().notice().unwrap_or_default().to_owned();
    assert!(notice.contains("learning rate 0.3 → 0.03"), "{notice}");

    harness.state_mut().apply(Intent::Trainer(WorkerCommand::Fork { changes: Vec::new() }));
    wait_until(&mut harness, "forked", |app| app.view().is_some_and(|view| view.fork().is_some()));
    harness.key_press(egui::Key::Num3);
    harness.run_steps(3);
    assert!(harness.state().view().is_some_and(|view| view.fork().is_some()), "the fork is still there");
    harness.get_by_role_and_label(Role::Button, "Stay").click();
    harness.run_steps(3);
    assert_eq!(harness.state().settings().lesson, 0);
    assert!(harness.query_by_label("Open lesson 3").is_none(), "the question is gone");
    // Lesson 11 has a key too (the one right of 0).
    harness.key_press(egui::Key::Minus);
    harness.run_steps(3);
    harness.get_by_role_and_label(Role::Button, "Open lesson 11").click();
    wait_until(&mut harness, "lesson 11 is open", |app| {
        app.settings().lesson == 10 && app.view().is_some_and(|view| view.fork().is_none())
    });
}

/// A comparison whose A diverges: B trains on, and the readout shows no accuracy for A (its
/// outputs are NaN and predict nothing) beside B's.
#[test]
fn a_comparison_shows_no_accuracy_for_the_branch_that_diverged() {
    let mut harness = app_harness();
    open_lesson_unscripted(&mut harness, 2, 10);
    harness.state_mut().apply(Intent::Trainer(WorkerCommand::Fork { changes: Vec::new() }));
    wait_until(&mut harness, "forked", |app| app.view().is_some_and(|view| view.fork().is_some()));
    // PReLU at lesson 2's rate 3 diverges within a few steps (see the remedies' test).
    let prelu = SessionCommand::SetActivation { activation: Activation::Prelu { initial_slope: 0.25 } };
    harness.state_mut().apply(Intent::Trainer(WorkerCommand::OnBranch { target: Target::A, command: prelu }));
    wait_until_harness(&mut harness, "A diverges and B goes on", |harness| {
        harness
            .query_all_by_label_contains("test accuracy: A ")
            .map(|node| label_of(&node))
            .any(|text| text.starts_with("· test accuracy: A — vs B ") && text.ends_with('%'))
    });
}

/// In the seeds view a seed that diverged shows no accuracy on its card either.
#[test]
fn a_seed_that_diverged_shows_no_accuracy_on_its_card() {
    let mut harness = app_harness();
    open_lesson_unscripted(&mut harness, 2, 10);
    harness.state_mut().apply(Intent::Trainer(WorkerCommand::OpenSeeds { count: 10 }));
    wait_until(&mut harness, "the seeds view opens", |app| {
        app.view().is_some_and(|view| matches!(view.mode, ModeView::Seeds { .. }))
    });
    // PReLU at lesson 2's rate 3 diverges within a few steps, on every seed.
    let prelu = SessionCommand::SetActivation { activation: Activation::Prelu { initial_slope: 0.25 } };
    harness.state_mut().apply(Intent::Trainer(WorkerCommand::Session(prelu)));
    wait_until_harness(&mut harness, "seed 1 diverges", |harness| {
        harness
            .query_all_by_label_contains("Seed 1: ")
            .map(|node| label_of(&node))
            .any(|text| text.contains("dead · —"))
    });
}

/// An undo sent before the trainer has told the change it undoes is still told: the change's
/// own annotation arrives first and must not use up the undo's notice.
#[test]
fn an_undo_sent_right_after_a_change_is_told() {
    let mut harness = app_harness();
    open_lesson(&mut harness, 1, 20);
    let set_rate = SessionCommand::SetLearningRate { learning_rate: 0.3 };
    harness.state_mut().apply(Intent::Trainer(WorkerCommand::Session(set_rate)));
    harness.state_mut().apply(Intent::Trainer(WorkerCommand::Session(SessionCommand::Undo)));
    wait_until(&mut harness, "the undo is told", |app| app.notice().is_some_and(|n| n.contains("Undone:")));
    let notice = harness.state().notice().unwrap_or_default().to_owned();
    assert!(notice.contains("learning rate 0.3 → 0.03"), "{notice}");
}

#[test]
fn on_a_phone_lesson_1_and_lesson_2_with_its_fork_can_be_seen() {
    let mut harness = harness_at(390.0, 844.0);
    open_lesson(&mut harness, 1, 50);
    harness.run_steps(4);
    assert!(harness.query_by_label("☰ Menu").is_some(), "the top bar's rest is in a menu");
    let tiles: Vec<Rect> = harness.query_all_by_label_contains(" neuron ").map(|node| node.rect()).collect();
    assert!(!tiles.is_empty());
    for tile in &tiles {
        assert!(tile.left() >= 0.0 && tile.right() <= 390.0, "{tile:?} is on the screen");
        assert!(tile.width() >= 16.0, "a tile of {} points", tile.width());
    }
    // Plot titles are whole lines, not a letter per line.
    for title in ["Loss (log scale)", "Neurons per state, per layer"] {
        let rect = harness.get_by_label(title).rect();
        assert!(rect.height() < 40.0 && rect.width() > 80.0, "{title}: {rect:?}");
    }
    harness.state_mut().apply(Intent::LoadLesson(1));
    harness.state_mut().apply(Intent::Trainer(WorkerCommand::SetSpeed(Speed::Max)));
    wait_until(&mut harness, "lesson 2 trains", |app| {
        app.settings().lesson == 1 && app.snapshot().is_some_and(|s| s.step() > 50)
    });
    try_it(&mut harness);
    let tiles = harness.query_all_by_label_contains("Layer 1 neuron 1:").count();
    assert_eq!(tiles, 2, "A's network and B's, one under the other");
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        harness.step();
    }
    for tile in harness.query_all_by_label_contains(" neuron ").map(|node| node.rect()) {
        assert!(tile.left() >= 0.0 && tile.right() <= 390.0 && tile.width() >= 14.0, "{tile:?}");
    }
}

/// The app opened on `link`, its trainer on a thread, as `relu-lab --open LINK` starts it.
fn app_opened_on(link: &str) -> AppHarness {
    let options = AppOptions {
        config: None,
        link: Some(link.to_owned()),
        backend: relu_lab::train::worker::TrainerBackend::Thread,
        page: None,
        ..AppOptions::default()
    };
    app_harness_with(vec2(1280.0, 720.0), move |ctx| ReluLabApp::with_options(options, None, ctx))
}

/// A link to a lesson as it is (`relu-lab --open lesson=2`) plays the lesson's script, pausing
/// at the step its text is measured at; a link that changes the lesson does not, since the
/// text's figures were measured without the change (its notice says what changed).
#[test]
fn a_link_to_a_lesson_as_it_is_plays_its_script_and_a_changed_one_does_not() {
    let mut plain = app_opened_on("lesson=2");
    plain.state_mut().apply(Intent::Trainer(WorkerCommand::SetSpeed(Speed::Max)));
    wait_until(&mut plain, "the script pauses at its first measured beat", |app| {
        *app.status() == RunStatus::Paused && app.view().is_some_and(|view| view.step >= 3000)
    });
    let step = plain.state().view().map(|view| view.step);
    assert_eq!(step, Some(3000), "paused where the text is measured");
    assert!(plain.state().view().is_some_and(|view| view.lesson.is_some()), "the lesson plays on");

    let mut changed = app_opened_on("lesson=2&lr=1");
    changed.state_mut().apply(Intent::Trainer(WorkerCommand::SetSpeed(Speed::Max)));
    wait_until(&mut changed, "the changed run trains past the lesson's beat", |app| {
        app.view().is_some_and(|view| view.step > 3100)
    });
    assert!(changed.state().view().is_some_and(|view| view.lesson.is_none()), "no script plays");
}

/// Played to its end, lesson 2's card keeps the last beat's caption (the figures the text
/// states at step 6000, on this seed) and no longer offers the fork it has made.
#[test]
fn a_lesson_played_to_its_end_keeps_its_last_caption_and_offers_no_second_fork() {
    let mut harness = app_opened_on("lesson=2");
    harness.state_mut().apply(Intent::Trainer(WorkerCommand::SetSpeed(Speed::Max)));
    wait_until(&mut harness, "the first pause", |app| *app.status() == RunStatus::Paused);
    harness.run_steps(2);
    harness.get_by_role_and_label(Role::Button, "Next beat of the lesson").click_accesskit();
    wait_until(&mut harness, "the script's end", |app| {
        *app.status() == RunStatus::Paused && app.view().is_some_and(|view| view.step == 6000 && view.lesson.is_none())
    });
    harness.run_steps(4);
    let lesson = &harness.state().lessons()[1];
    let caption = lesson.beats.last().and_then(|beat| beat.caption.clone()).expect("the last beat has a caption");
    let label = lesson.try_it.as_ref().expect("lesson 2 has a try it").label.clone();
    assert!(harness.query_by_label(&caption).is_some(), "the card shows {caption:?}");
    assert!(harness.query_by_label_contains("played to its end").is_some());
    assert!(harness.query_by_label(&format!("▶ {label}")).is_none(), "the fork is not offered again");

    // Presenting at 1280×720, the caption and the card's button are still in view.
    present(&mut harness, true);
    harness.run_steps(4);
    let window = Rect::from_min_size(egui::Pos2::ZERO, vec2(1280.0, 720.0));
    for label in [caption.as_str(), "Reload this lesson"] {
        let rect = harness.get_by_label(label).rect();
        assert!(window.contains_rect(rect), "presenting, {label:?} at {rect:?} leaves the window");
    }
}

/// A comparison plots what its task has: lesson 8 fits |x| (a regression, with no accuracy), so
/// its comparison used to show an empty "Test accuracy, A and B" plot at 1920×1080; lesson 2
/// (a classification) keeps it.
#[test]
fn a_comparison_plots_test_accuracy_only_where_the_task_has_one() {
    for (lesson, has_accuracy) in [(8, false), (2, true)] {
        let mut harness = harness_at(1920.0, 1080.0);
        open_lesson_unscripted(&mut harness, lesson, 50);
        try_it(&mut harness);
        assert!(harness.query_by_label("Dead neurons, A and B").is_some(), "lesson {lesson} plots its comparison");
        assert_eq!(
            harness.query_by_label("Test accuracy, A and B").is_some(),
            has_accuracy,
            "lesson {lesson}: a test accuracy plot only where there is an accuracy"
        );
    }
}
