//! The plots tell the truth: numbered annotations that never overlap each other or the legend
//! (with their text on hover), a step axis with at least three labelled round marks, a colour
//! scale for the output map, clipped histogram mass said out loud, and a histogram that keeps
//! its bars in presentation mode at 1280 × 720. Headless, with egui_kittest.

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui::{Rect, pos2, vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use egui_plot::{PlotBounds, PlotTransform};
use relu_lab::app::output_view::output_ui;
use relu_lab::app::plots;
use relu_lab::app::plots::annotations::{badge_layout, badge_layout_for};
use relu_lab::app::plots::step_axis::{MIN_STEP_MARKS, label_points, step_mark_label, step_marks};
use relu_lab::app::shared::{Intent, ViewSettings};
use relu_lab::app::theme;
use relu_lab::train::command::Annotation;
use relu_lab::train::{History, HistoryPoint, RunConfig, Session, Snapshot, Snapshotter};

use crate::support::*;

/// Runs `config` for `steps` steps with a history point every 10 steps, and annotates the
/// history at `annotated` steps ("learning rate 0.03 → 3" and so on).
fn run(config: RunConfig, steps: u64, annotated: &[u64]) -> (Snapshot, History) {
    let mut session = Session::new(config).expect("valid config");
    let mut snapshotter = Snapshotter::new(16);
    let mut history = History::default();
    for step in 0..steps {
        session.step();
        if step % 10 == 0 {
            let evaluation = session.evaluate();
            snapshotter.track(&session);
            history.push(HistoryPoint::from_evaluation(&evaluation));
        }
    }
    for (index, &step) in annotated.iter().enumerate() {
        history.annotate(Annotation { step, text: format!("learning rate 0.03 → {}", index + 3) });
    }
    let evaluation = session.evaluate();
    (snapshotter.snapshot(&session, &evaluation), history)
}

/// A harness of `width × height` that draws `draw` with the app's fonts and styles.
fn ui_harness(
    width: f32,
    height: f32,
    settings: &ViewSettings,
    mut draw: impl FnMut(&mut egui::Ui, &ViewSettings) + 'static,
) -> Harness<'static> {
    let style = settings.clone();
    let settings = settings.clone();
    Harness::builder()
        .with_size(vec2(width, height))
        .with_context_setup(move |ctx| {
            theme::install_fonts(ctx);
            theme::apply(ctx, &style, None);
        })
        .build_ui(move |ui| draw(ui, &settings))
}

/// The rects of every node whose label contains "Annotation".
fn badge_rects(harness: &Harness<'_>) -> Vec<Rect> {
    harness.query_all_by_label_contains("Annotation").map(|node| node.rect()).collect()
}

fn assert_apart(rects: &[Rect]) {
    for (i, a) in rects.iter().enumerate() {
        for b in &rects[i + 1..] {
            assert!(!a.intersects(*b), "{a:?} and {b:?} overlap");
        }
    }
}

#[test]
fn annotation_numbers_never_overlap_and_stay_inside_the_frame() {
    // Evenly spread, clustered, all on one step, and scattered (a small LCG).
    let mut scattered = Vec::new();
    let mut state = 12_345_u64;
    for _ in 0..60 {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        scattered.push((state >> 33) % 10_000);
    }
    scattered.sort_unstable();
    let patterns: Vec<Vec<u64>> = vec![
        (0..12).map(|i| i * 800).collect(),
        (0..25).map(|i| 4_000 + i * 7).collect(),
        vec![5_000; 9],
        scattered,
        vec![0, 10_000],
    ];
    for frame_size in [vec2(280.0, 70.0), vec2(320.0, 160.0), vec2(900.0, 300.0), vec2(60.0, 200.0)] {
        let frame = Rect::from_min_size(pos2(40.0, 30.0), frame_size);
        let transform = PlotTransform::new(frame, PlotBounds::from_min_max([-200.0, 0.0], [10_200.0, 1.0]), false);
        for font_size in [10.0, 12.0, 16.0, 20.0] {
            for steps in &patterns {
                let badges = badge_layout_for(steps, &transform, font_size);
                let rects: Vec<Rect> = badges.iter().map(|badge| badge.rect).collect();
                assert_apart(&rects);
                for rect in &rects {
                    assert!(frame.contains_rect(*rect), "{rect:?} leaves {frame:?}");
                }
                let mut covered: Vec<usize> = badges.iter().flat_map(|badge| badge.indices.clone()).collect();
                covered.sort_unstable();
                let before = covered.len();
                covered.dedup();
                assert_eq!(covered.len(), before, "no annotation is in two numbers");
                if frame_size.x >= 280.0 {
                    assert_eq!(covered.len(), steps.len(), "every annotation is numbered");
                }
            }
        }
    }
}

#[test]
fn a_number_sits_on_its_line() {
    let frame = Rect::from_min_size(pos2(0.0, 0.0), vec2(400.0, 120.0));
    let badges = badge_layout(&[100, 300], |step| step as f32, frame, 12.0);
    assert_eq!(badges.len(), 2);
    assert_eq!(badges[0].text(), "1");
    assert!((badges[0].rect.center().x - 100.0).abs() < 0.01);
    assert!((badges[1].rect.center().x - 300.0).abs() < 0.01);
    assert_eq!(badges[0].rect.top(), badges[1].rect.top(), "far apart, both in the first row");
}

/// The loss plot of a run annotated at steps 100, 105, 110 and 300.
fn loss_harness(settings: &ViewSettings) -> Harness<'static> {
    let (_, history) = run(RunConfig::default(), 400, &[100, 105, 110, 300]);
    ui_harness(600.0, 420.0, settings, move |ui, settings| plots::loss_plot::ui(ui, &history, settings))
}

#[test]
fn the_loss_legend_sits_above_the_plot_clear_of_the_numbers() {
    for settings in [ViewSettings::default(), ViewSettings { presentation: true, ..ViewSettings::default() }] {
        let mut harness = loss_harness(&settings);
        harness.run();
        let legend = harness.get_by_label_contains("—\u{a0}test").rect();
        let badges = badge_rects(&harness);
        assert!(!badges.is_empty(), "the annotations are numbered");
        assert_apart(&badges);
        for badge in &badges {
            assert!(!badge.intersects(legend), "number {badge:?} overlaps the legend {legend:?}");
            assert!(badge.top() > legend.bottom(), "the legend is above the plot");
        }
        harness.get_by_label("Annotation 4");
    }
}

#[test]
fn hovering_near_an_annotation_line_shows_what_changed() {
    let mut harness = loss_harness(&ViewSettings::default());
    harness.run();
    let badge = harness.get_by_label("Annotation 4").rect();
    assert!(harness.query_by_label_contains("4: learning rate").is_none(), "no tooltip before hovering");
    // Near the line, well below the number.
    harness.hover_at(pos2(badge.center().x + 2.0, badge.bottom() + 60.0));
    harness.run();
    harness.get_by_role_and_label(Role::Label, "4: learning rate 0.03 → 6 (step 300)");
    assert!(harness.query_by_label_contains("1: learning rate").is_none(), "only the line under the pointer");
}

#[test]
fn every_time_plot_numbers_its_annotations() {
    let (snapshot, history) = run(preset("high-learning-rate"), 300, &[50, 250]);
    let settings = ViewSettings::default();
    let mut harness = ui_harness(700.0, 1600.0, &settings, move |ui, settings| {
        plots::loss_plot::ui(ui, &history, settings);
        plots::states_plot::ui(ui, &history, settings);
        plots::gradient_plot::ui(ui, &history, settings);
        let _ = plots::neuron_time_chart::ui(ui, &history, Some(&snapshot), None, settings);
    });
    harness.run();
    assert_eq!(harness.query_all_by_label("Annotation 1").count(), 4);
    assert_eq!(harness.query_all_by_label("Annotation 2").count(), 4);
    let legends: Vec<Rect> = harness.query_all_by_label_contains("your\u{a0}changes").map(|node| node.rect()).collect();
    assert_eq!(legends.len(), 3, "loss, states and gradient plots say what the lines are");
    for legend in legends {
        assert!(badge_rects(&harness).iter().all(|badge| !badge.intersects(legend)));
    }
}

#[test]
fn the_step_axis_always_labels_at_least_three_round_steps() {
    let ranges = [
        (-400.0, 8_400.0),
        (0.0, 1.0),
        (-0.05, 3.0),
        (0.0, 7.0),
        (0.0, 73.0),
        (-10.0, 999.0),
        (0.0, 8_000.0),
        (-50.0, 12_000.0),
        (10_000.0, 12_000.0),
        (0.0, 100_000.0),
        (99_000.0, 101_000.0),
        (0.0, 3_300_000.0),
        (5.0, 6.0),
    ];
    for (low, high) in ranges {
        for width in [150.0, 260.0, 400.0, 900.0, 1600.0] {
            for font_size in [15.0, 20.0] {
                let label = f64::from(label_points(font_size));
                let points_per_step = width / (high - low);
                let marks = step_marks(low, high, points_per_step, label);
                let context = format!("{low}..{high} over {width} points");
                assert!(marks.len() >= MIN_STEP_MARKS, "{context}: {marks:?}");
                let step = marks[0].step_size;
                let mantissa = step / 10_f64.powf(step.log10().floor());
                assert!([1.0, 2.0, 5.0, 10.0].iter().any(|m| (mantissa - m).abs() < 1e-6), "{context}: step {step}");
                for pair in marks.windows(2) {
                    assert!(((pair[1].value - pair[0].value) - step).abs() < step * 1e-6, "{context}: evenly spaced");
                }
                assert!(marks.iter().all(|m| m.value >= low.max(0.0) - 1e-9 && m.value <= high), "{context}");
                let labels: Vec<String> = marks.iter().map(|&mark| step_mark_label(mark)).collect();
                assert!(labels.iter().all(|l| !l.is_empty()), "{context}: {labels:?}");
                assert!(labels.windows(2).all(|w| w[0] != w[1]), "{context}: labels repeat: {labels:?}");
                if width >= 3.0 * 2.5 * label {
                    assert!(step * points_per_step >= label, "{context}: labels {labels:?} would touch");
                }
            }
        }
    }
}

#[test]
fn the_classification_map_has_a_colour_scale_and_the_regression_view_none() {
    let settings = ViewSettings::default();
    let (plane, _) = run(RunConfig::default(), 20, &[]);
    assert!(plane.grid.is_plane);
    let mut harness = ui_harness(420.0, 520.0, &settings, move |ui, settings| output_ui(ui, &plane, settings));
    harness.run();
    let bar = harness.get_by_label_contains("Colour scale P(class 1)").rect();
    let legend = harness.get_by_label_contains("class\u{a0}0").rect();
    assert!(bar.top() > legend.bottom() + 100.0, "the scale is under the map, not beside the legend");
    assert!(bar.bottom() <= 520.0, "and inside the window");

    let (line, _) = run(preset("deep-narrow-he"), 20, &[]);
    assert!(!line.grid.is_plane);
    let mut harness = ui_harness(420.0, 520.0, &settings, move |ui, settings| output_ui(ui, &line, settings));
    harness.run();
    assert!(harness.query_by_label_contains("Colour scale").is_none());
    harness.get_by_label_contains("—\u{a0}network");
}

/// The activation curve for layer 1 of `snapshot`, in `width × height`.
fn curve_harness(snapshot: Snapshot, settings: &ViewSettings, width: f32, height: f32) -> Harness<'static> {
    ui_harness(width, height, settings, move |ui, settings| plots::activation_curve::ui(ui, &snapshot, None, settings))
}

#[test]
fn clipped_histogram_mass_is_marked_at_its_edge() {
    let (mut snapshot, _) = run(RunConfig::default(), 20, &[]);
    let range = snapshot.layers[0].histogram_range;
    let mut harness = curve_harness(snapshot.clone(), &ViewSettings::default(), 420.0, 360.0);
    harness.run();
    assert!(harness.query_by_label_contains("below −").is_none(), "nothing clipped, nothing said");
    assert!(harness.query_by_label_contains("above").is_none());

    let histogram = &mut snapshot.layers[0].histogram;
    histogram.below = 37;
    histogram.above = 41;
    let mut harness = curve_harness(snapshot, &ViewSettings::default(), 420.0, 360.0);
    harness.run();
    let plot = harness.get_by_label("Pre-activation histogram").rect();
    let below = harness.get_by_label(&format!("◀ 37 below −{range}")).rect();
    let above = harness.get_by_label(&format!("41 above {range} ▶")).rect();
    assert!(plot.contains_rect(below) && plot.contains_rect(above), "on the histogram");
    assert!(below.center().x < plot.center().x && above.center().x > plot.center().x, "each at its edge");
}

#[test]
fn the_histogram_keeps_its_bars_when_a_presentation_column_is_short() {
    let (snapshot, _) = run(RunConfig::default(), 20, &[]);
    let settings = ViewSettings { presentation: true, ..ViewSettings::default() };
    let mut harness = curve_harness(snapshot, &settings, 420.0, 200.0);
    harness.run();
    let histogram = harness.get_by_label("Pre-activation histogram").rect();
    let curve = harness.get_by_label("Activation curve plot").rect();
    assert!(histogram.height() >= 60.0, "bars get {} points", histogram.height());
    assert!(curve.bottom() <= histogram.top(), "the plots do not overlap");
}

/// Runs frames of the whole app until it has a snapshot, failing after 60 s.
fn wait_for_snapshot(harness: &mut AppHarness) {
    let deadline = Instant::now() + Duration::from_mins(1);
    while harness.state().snapshot().is_none() {
        assert!(Instant::now() < deadline, "no snapshot");
        harness.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    harness.run_steps(4);
}

#[test]
fn in_presentation_at_1280_by_720_the_activation_plots_stay_legible() {
    let mut harness = app_harness();
    if !harness.state().settings().presentation {
        harness.state_mut().apply(Intent::TogglePresentation);
    }
    // Lesson 7 (ELU and GELU) opens with the activation curve as its key plot.
    harness.state_mut().apply(Intent::LoadLesson(6));
    wait_for_snapshot(&mut harness);
    assert!(harness.state().settings().presentation);
    let histogram = harness.get_by_label("Pre-activation histogram").rect();
    let curve = harness.get_by_label("Activation curve plot").rect();
    assert!(histogram.height() >= 60.0, "bars get {} points", histogram.height());
    assert!(curve.bottom() <= histogram.top(), "the plots do not overlap");
    assert!(curve.height() >= 30.0, "the curve shrank to {} points", curve.height());
    // The z axis under it (a row of ticks, then its label after a quarter row) fits in the window.
    let font = egui::TextStyle::Body.resolve(&harness.ctx.global_style());
    let row = harness.ctx.fonts_mut(|fonts| fonts.row_height(&font));
    assert!(histogram.bottom() + 2.25 * row <= 720.0, "histogram ends at {}, rows of {row}", histogram.bottom());
}
