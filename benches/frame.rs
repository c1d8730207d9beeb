//! The app's own work per frame (draining the trainer, laying out every panel, tessellating)
//! while a W2-size net (2-32-32-32-32-1, batch 64) trains at full speed on the worker thread.
//! Headless: a plain `egui::Context`, no window, no GPU; the snapshots are the worker's real ones.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use relu_lab::app::ReluLabApp;
use relu_lab::app::shared::Intent;
use relu_lab::train::{RunConfig, Speed, WorkerCommand, presets};

fn w2_config() -> RunConfig {
    let mut config = presets::find("healthy-relu").and_then(|p| p.config().ok()).unwrap_or_default();
    config.network.hidden_layers = vec![32; 4];
    config.training.batch_size = 64;
    config
}

fn raw_input(width: f32, height: f32) -> egui::RawInput {
    egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(width, height))),
        ..Default::default()
    }
}

fn frame_cost(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame");
    group.measurement_time(Duration::from_secs(6));
    for (name, width, height) in [("1280x720", 1280.0, 720.0), ("1920x1080", 1920.0, 1080.0)] {
        let ctx = egui::Context::default();
        let mut app = ReluLabApp::new(Some(w2_config()), None, &ctx);
        app.apply(Intent::Trainer(WorkerCommand::SetSpeed(Speed::Max)));
        // Let the worker publish its first snapshots.
        for _ in 0..50 {
            let _ = ctx.run_ui(raw_input(width, height), |ui| {
                app.drain_trainer(ui.ctx());
                app.show(ui);
            });
            std::thread::sleep(Duration::from_millis(10));
        }
        group.bench_function(format!("W2 at full speed, {name}: logic + ui + tessellate"), |b| {
            b.iter(|| {
                let output = ctx.run_ui(raw_input(width, height), |ui| {
                    app.drain_trainer(ui.ctx());
                    app.show(ui);
                });
                black_box(ctx.tessellate(output.shapes, output.pixels_per_point))
            });
        });
    }
    // The comparison screen: both branches live, side by side.
    let (width, height) = (1920.0, 1080.0);
    let ctx = egui::Context::default();
    let mut app = ReluLabApp::new(Some(w2_config()), None, &ctx);
    app.apply(Intent::Trainer(WorkerCommand::SetSpeed(Speed::Max)));
    app.apply(Intent::Trainer(WorkerCommand::Fork { changes: Vec::new() }));
    for _ in 0..50 {
        let _ = ctx.run_ui(raw_input(width, height), |ui| {
            app.drain_trainer(ui.ctx());
            app.show(ui);
        });
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(app.view().is_some_and(|view| view.branch_b().is_some()), "the A/B screen is on");
    group.bench_function("W2 forked, A and B at full speed, 1920x1080: logic + ui + tessellate", |b| {
        b.iter(|| {
            let output = ctx.run_ui(raw_input(width, height), |ui| {
                app.drain_trainer(ui.ctx());
                app.show(ui);
            });
            black_box(ctx.tessellate(output.shapes, output.pixels_per_point))
        });
    });
    group.finish();
}

criterion_group!(benches, frame_cost);
criterion_main!(benches);
