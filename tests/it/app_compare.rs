//! Fork, a change on B, Keep B, and the seeds view, driven through the app as a user would
//! (headless, through AccessKit): the buttons reach the trainer and the trainer shows it.

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable as _;
use relu_lab::app::ReluLabApp;
use relu_lab::train::{Snapshot, View};

use crate::support::*;

/// Runs frames until `condition` holds for the newest view, failing after [`TIMEOUT`].
fn wait_until(harness: &mut AppHarness, what: &str, condition: impl Fn(&ReluLabApp, &View) -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let app = harness.state();
        if app.view().is_some_and(|view| condition(app, view)) {
            break;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        harness.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    harness.step();
}

fn learning_rate(snapshot: &Snapshot) -> f64 {
    snapshot.config.training.learning_rate
}

#[test]
fn fork_change_b_and_keep_b() {
    let mut harness = app_harness();
    wait_until(&mut harness, "training has started", |_, view| view.step > 0);
    harness.get_by_role_and_label(Role::Button, "Fork").click();
    wait_until(&mut harness, "the run is forked", |app, view| view.branch_b().is_some() && app.history_b().is_some());
    assert!(harness.query_by_label_contains("Forked at step").is_some(), "the readout shows the fork");
    // After a fork the controls steer B.
    harness.get_by_role_and_label(Role::Slider, "Learning rate").set_value_accesskit(0.3);
    wait_until(&mut harness, "B trains at 0.3 while A stays at 0.03", |_, view| {
        view.branch_b().is_some_and(|b| learning_rate(b) == 0.3) && learning_rate(&view.run) == 0.03
    });
    let description = harness.state().view().and_then(|view| view.fork().cloned()).map(|fork| fork.description);
    assert!(description.is_some_and(|text| text.contains("learning rate 0.03 → 0.3")), "B's label says what changed");
    harness.get_by_role_and_label(Role::Button, "Keep B").click();
    wait_until(&mut harness, "B goes on as the run", |app, view| {
        view.fork().is_none() && app.history_b().is_none() && learning_rate(&view.run) == 0.3
    });
    let history = harness.state().history();
    assert!(
        history.annotations.iter().any(|annotation| annotation.text == "learning rate 0.03 → 0.3"),
        "the kept branch's history holds its change"
    );
}

#[test]
fn the_seeds_view_opens_a_seed_as_the_run() {
    let mut harness = app_harness();
    wait_until(&mut harness, "training has started", |_, view| view.step > 0);
    harness.get_by_role_and_label(Role::Button, "Seeds").click();
    wait_until(&mut harness, "ten seeds train", |_, view| {
        view.seeds().is_some_and(|seeds| seeds.lanes.len() == 10 && seeds.lanes[0].a.step() > 0)
    });
    let summary = harness.state().view().and_then(|view| view.seeds().cloned()).map(|seeds| seeds.summary.join(" "));
    assert!(summary.is_some_and(|text| text.contains("of 10 networks collapsed")), "a summary over the seeds");
    // The top bar counts the seeds' steps, not the waiting run's.
    wait_until(&mut harness, "the seeds have trained a while", |_, view| view.step > 40);
    let step = harness.state().view().map(|view| view.step).unwrap_or_default();
    // The bar's counter reads "step N" (the seeds view's header says it too, "… at step N").
    let shown = harness
        .query_all_by_label_contains("step ")
        .map(|node| {
            let node = egui_kittest::kittest::NodeT::accesskit_node(&node);
            node.label().filter(|label| !label.is_empty()).or_else(|| node.value()).unwrap_or_default()
        })
        .find(|label| label.starts_with("step "));
    let shown_step: u64 = shown.as_deref().and_then(|text| text.trim_start_matches("step ").parse().ok()).unwrap_or(0);
    assert!(
        shown_step >= step.saturating_sub(400) && shown_step > 40,
        "the bar shows {shown:?}, the seeds are at {step}"
    );
    harness.get_by_label_contains("Seed 4:").click();
    wait_until(&mut harness, "that seed is the run", |_, view| view.seeds().is_none() && view.run.config.seed == 4);
}
