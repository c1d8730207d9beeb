//! Wide networks at full speed (issue: "any network stays live"): 2-512-512-1 and
//! 2-(512×8)-1 on 2000 points, the first lesson's settings otherwise.
//!
//! Criterion times, per network, one bare training step (`Session::step`, the CLI's loop) and
//! one step of the trainer at full speed with everything the app asks of it (history points,
//! snapshots at their share of the time, the tiles of the neurons on screen). Then, in the same
//! run, the app itself, headless (a plain `egui::Context`: logic, UI and tessellation every
//! 16 ms on this thread, the trainer on its own), for `WIDE_SECONDS` seconds (60 unless set):
//! when the first trained step is on screen, the steps per second against the bare rate, and
//! the process's resident memory every 10 s. Printed as a table at the end.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use relu_lab::app::ReluLabApp;
use relu_lab::app::shared::Intent;
use relu_lab::train::clock::SystemClock;
use relu_lab::train::{RunConfig, Session, Speed, Trainer, WorkerCommand, presets};

/// The networks: a name and the hidden layers.
const NETWORKS: [(&str, usize); 2] = [("2-512-512-1", 2), ("2-(512x8)-1", 8)];

/// Lesson 1's settings with 2000 points and `layers` hidden layers of 512, as
/// `relu-lab --open 'points=2000&layers=512,512'` opens it.
fn config(layers: usize) -> RunConfig {
    let mut config = presets::find("healthy-relu").and_then(|p| p.config().ok()).unwrap_or_default();
    config.data.points = 2000;
    config.network.hidden_layers = vec![512; layers];
    config
}

/// Runs `trainer` (as its thread does, 4 ms a tick, reading what it publishes) until it has
/// made `steps` more steps.
fn train_live(trainer: &mut Trainer, steps: u64) {
    let target = trainer.ensemble().step_count() + steps;
    while trainer.ensemble().step_count() < target {
        trainer.tick(web_time::Instant::now() + Duration::from_millis(4));
        while trainer.next_event().is_some() {}
        black_box(trainer.take_new_snapshot());
    }
}

fn steps(c: &mut Criterion) {
    for (name, layers) in NETWORKS {
        let mut group = c.benchmark_group(format!("wide {name}"));
        group.throughput(Throughput::Elements(1));
        group.sample_size(10);
        let mut bare = Session::new(config(layers)).expect("a valid config");
        group.bench_function("bare step", |b| b.iter(|| black_box(bare.step())));
        let mut trainer = Trainer::new(config(layers), Box::new(SystemClock)).expect("a valid config");
        train_live(&mut trainer, 1);
        group.bench_function("trainer step at full speed", |b| {
            b.iter_custom(|iterations| {
                let started = Instant::now();
                train_live(&mut trainer, iterations);
                started.elapsed()
            });
        });
        group.finish();
    }
}

/// The process's resident memory, in MB (Linux).
fn resident_megabytes() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kilobytes = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|value| value.parse::<f64>().ok());
    kilobytes.unwrap_or(f64::NAN) / 1024.0
}

/// Bare steps per second over `seconds`.
fn bare_rate(layers: usize, seconds: f64) -> f64 {
    let mut session = Session::new(config(layers)).expect("a valid config");
    let started = Instant::now();
    let mut steps = 0_u64;
    while started.elapsed().as_secs_f64() < seconds {
        black_box(session.step());
        steps += 1;
    }
    steps as f64 / started.elapsed().as_secs_f64()
}

/// What the headless app did with one network.
struct AppRun {
    first_trained_step: Option<Duration>,
    steps_per_second: f64,
    resident: Vec<(u64, f64)>,
}

/// The app, headless, at full speed for `seconds`: a frame every 16 ms.
fn app_run(layers: usize, seconds: u64) -> AppRun {
    let ctx = egui::Context::default();
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1600.0, 900.0))),
        ..Default::default()
    };
    let started = Instant::now();
    let mut app = ReluLabApp::new(Some(config(layers)), None, &ctx);
    app.apply(Intent::Trainer(WorkerCommand::SetSpeed(Speed::Max)));
    let mut first_trained_step = None;
    let mut resident = vec![(0, resident_megabytes())];
    let mut at_ten = None;
    while started.elapsed() < Duration::from_secs(seconds) {
        let frame = Instant::now();
        let output = ctx.run_ui(input(), |ui| {
            app.drain_trainer(ui.ctx());
            app.show(ui);
        });
        black_box(ctx.tessellate(output.shapes, output.pixels_per_point));
        let step = app.view().map_or(0, |view| view.step);
        if step > 0 && first_trained_step.is_none() {
            first_trained_step = Some(started.elapsed());
        }
        let second = started.elapsed().as_secs();
        if second >= 10 * (resident.len() as u64) {
            resident.push((second, resident_megabytes()));
        }
        if second >= 10 && at_ten.is_none() {
            at_ten = Some((Instant::now(), step));
        }
        std::thread::sleep(Duration::from_millis(16).saturating_sub(frame.elapsed()));
    }
    let step = app.view().map_or(0, |view| view.step);
    let steps_per_second = at_ten.map_or(f64::NAN, |(at, from)| (step - from) as f64 / at.elapsed().as_secs_f64());
    resident.push((started.elapsed().as_secs(), resident_megabytes()));
    AppRun { first_trained_step, steps_per_second, resident }
}

#[expect(clippy::print_stdout, reason = "the bench's own report")]
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    steps(&mut criterion);
    criterion.final_summary();
    let seconds = std::env::var("WIDE_SECONDS").ok().and_then(|text| text.parse().ok()).unwrap_or(60);
    println!("\nThe app, headless, at full speed for {seconds} s (same run):");
    for (name, layers) in NETWORKS {
        let bare = bare_rate(layers, 5.0);
        let run = app_run(layers, seconds);
        let first = run.first_trained_step.map_or("never".to_owned(), |at| format!("{:.0} ms", at.as_secs_f64() * 1e3));
        let memory: Vec<String> = run.resident.iter().map(|(at, mb)| format!("{at} s {mb:.0} MB")).collect();
        println!(
            "{name}: first trained step on screen after {first}; {:.0} steps/s after 10 s against {bare:.0} bare \
             ({:.2} of bare); resident memory: {}",
            run.steps_per_second,
            run.steps_per_second / bare,
            memory.join(", ")
        );
    }
}
