use relu_lab::train::{RunConfig, Speed, TrainerHandle, WorkerCommand};
use std::time::{Duration, Instant};

fn rss_mb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines().find(|l| l.starts_with("VmRSS")).unwrap().split_whitespace().nth(1).unwrap().parse::<u64>().unwrap()
        / 1024
}

fn main() {
    let layers: usize = std::env::args().nth(1).map_or(2, |s| s.parse().unwrap());
    let secs: u64 = std::env::args().nth(2).map_or(30, |s| s.parse().unwrap());
    let ui_sleep: u64 = std::env::args().nth(3).map_or(16, |s| s.parse().unwrap());
    let mut config = RunConfig::default();
    config.data.points = 2000;
    config.network.hidden_layers = vec![512; layers];
    let started = Instant::now();
    let mut handle = TrainerHandle::spawn(config, Box::new(|| {})).unwrap();
    handle.send(WorkerCommand::SetSpeed(Speed::Max)).unwrap();
    let mut first = None;
    let mut events = 0u64;
    let mut views = 0u64;
    let mut last_step = 0;
    let mut next_print = 1;
    let mut last_ptr = 0usize;
    while started.elapsed() < Duration::from_secs(secs) {
        while handle.try_event().is_some() {
            events += 1;
        }
        if let Some(view) = handle.latest_view() {
            let p = std::sync::Arc::as_ptr(&view) as usize;
            if p != last_ptr {
                views += 1;
                last_ptr = p;
            }
            if view.step > 0 && first.is_none() {
                first = Some(started.elapsed());
            }
            last_step = view.step;
        }
        if started.elapsed().as_secs() >= next_print {
            println!("t={}s rss={}MB view_step={} views={} events={}", next_print, rss_mb(), last_step, views, events);
            next_print += 1;
        }
        std::thread::sleep(Duration::from_millis(ui_sleep));
    }
    println!("first trained step seen after {:?}", first);
}
