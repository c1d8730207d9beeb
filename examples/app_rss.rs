use relu_lab::app::ReluLabApp;
use relu_lab::app::shared::Intent;
use relu_lab::train::{RunConfig, Speed, WorkerCommand};
use std::time::{Duration, Instant};

fn rss_mb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines().find(|l| l.starts_with("VmRSS")).unwrap().split_whitespace().nth(1).unwrap().parse::<u64>().unwrap()
        / 1024
}

fn main() {
    let layers: usize = std::env::args().nth(1).map_or(2, |s| s.parse().unwrap());
    let secs: u64 = std::env::args().nth(2).map_or(30, |s| s.parse().unwrap());
    let mut config = RunConfig::default();
    config.data.points = 2000;
    config.network.hidden_layers = vec![512; layers];
    let ctx = egui::Context::default();
    let started = Instant::now();
    let mut app = ReluLabApp::new(Some(config), None, &ctx);
    app.apply(Intent::Trainer(WorkerCommand::SetSpeed(Speed::Max)));
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1600.0, 900.0))),
        ..Default::default()
    };
    let mut frames = 0;
    let mut next = 1;
    let mut worst = Duration::ZERO;
    let mut first = None;
    while started.elapsed() < Duration::from_secs(secs) {
        let t = Instant::now();
        let output = ctx.run_ui(input(), |ui| {
            app.drain_trainer(ui.ctx());
            app.show(ui);
        });
        let prims = ctx.tessellate(output.shapes, output.pixels_per_point);
        let verts: usize = prims
            .iter()
            .map(|p| match &p.primitive {
                egui::epaint::Primitive::Mesh(m) => m.vertices.len(),
                _ => 0,
            })
            .sum();
        let took = t.elapsed();
        worst = worst.max(took);
        frames += 1;
        let step = app.view().map(|v| v.step).unwrap_or(0);
        if step > 0 && first.is_none() {
            first = Some(started.elapsed());
        }
        if started.elapsed().as_secs() >= next {
            println!(
                "t={}s rss={}MB frames={} last_frame={:?} verts={} step={}",
                next,
                rss_mb(),
                frames,
                took,
                verts,
                step
            );
            next = started.elapsed().as_secs() + 1;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    println!("first trained step drawn after {:?}; worst frame {:?}", first, worst);
}
