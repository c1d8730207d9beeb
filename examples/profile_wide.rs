use relu_lab::train::snapshot::DEFAULT_GRID_RESOLUTION;
use relu_lab::train::{RunConfig, Session, Snapshotter};
use std::time::Instant;

fn main() {
    let layers: usize = std::env::args().nth(1).map_or(2, |s| s.parse().unwrap());
    let mut config = RunConfig::default();
    config.data.points = 2000;
    config.network.hidden_layers = vec![512; layers];
    println!("batch {}", config.training.batch_size);
    let t = Instant::now();
    let mut session = Session::new(config).unwrap();
    println!("new {:?}", t.elapsed());
    let t = Instant::now();
    for _ in 0..100 {
        session.step();
    }
    println!("100 steps {:?}", t.elapsed());
    let mut snapshotter = Snapshotter::new(DEFAULT_GRID_RESOLUTION);
    for _ in 0..3 {
        let t = Instant::now();
        let evaluation = session.evaluate();
        let e = t.elapsed();
        let t = Instant::now();
        let s = snapshotter.snapshot(&session, &evaluation);
        println!("evaluate {:?} snapshot {:?} layers {}", e, t.elapsed(), s.layers.len());
    }
}
