//! Fork, a change on B, Keep B, and the seeds view, driven through the app as a user would
//! (headless, through AccessKit): the buttons reach the trainer and the trainer shows it.

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable as _;
use relu_lab::app::ReluLabApp;
use relu_lab::train::Snapshot;

use crate::support::*;

/// Runs frames until `condition` holds for the newest snapshot, failing after [`TIMEOUT`].
fn wait_until(harness: &mut AppHarness, what: &str, condition: impl Fn(&ReluLabApp, &Snapshot) -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let app = harness.state();
        if app.snapshot().is_some_and(|snapshot| condition(app, snapshot)) {
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
    wait_until(&mut harness, "training has started", |_, snapshot| snapshot.step() > 0);
    harness.get_by_role_and_label(Role::Button, "Fork").click();
    wait_until(&mut harness, "the run is forked", |app, snapshot| {
        snapshot.branch_b.is_some() && snapshot.fork.is_some() && app.history_b().is_some()
    });
    assert!(harness.query_by_label_contains("Forked at step").is_some(), "the readout shows the fork");
    // After a fork the controls steer B.
    harness.get_by_role_and_label(Role::Slider, "Learning rate").set_value_accesskit(0.3);
    wait_until(&mut harness, "B trains at 0.3 while A stays at 0.03", |_, snapshot| {
        snapshot.branch_b.as_ref().is_some_and(|b| learning_rate(b) == 0.3) && learning_rate(snapshot) == 0.03
    });
    let description = harness.state().snapshot().and_then(|s| s.fork.clone()).map(|fork| fork.description);
    assert!(description.is_some_and(|text| text.contains("learning rate 0.03 → 0.3")), "B's label says what changed");
    harness.get_by_role_and_label(Role::Button, "Keep B").click();
    wait_until(&mut harness, "B goes on as the run", |app, snapshot| {
        snapshot.fork.is_none() && app.history_b().is_none() && learning_rate(snapshot) == 0.3
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
    wait_until(&mut harness, "training has started", |_, snapshot| snapshot.step() > 0);
    harness.get_by_role_and_label(Role::Button, "Seeds").click();
    wait_until(&mut harness, "ten seeds train", |_, snapshot| {
        snapshot.seeds.as_ref().is_some_and(|seeds| seeds.lanes.len() == 10 && seeds.lanes[0].a.step() > 0)
    });
    let summary = harness.state().snapshot().and_then(|s| s.seeds.clone()).map(|seeds| seeds.summary.join(" "));
    assert!(summary.is_some_and(|text| text.contains("of 10 networks collapsed")), "a summary over the seeds");
    harness.get_by_label_contains("Seed 4:").click();
    wait_until(&mut harness, "that seed is the run", |_, snapshot| {
        snapshot.seeds.is_none() && snapshot.config.seed == 4
    });
}
