//! An interleaved timing harness: every row is timed in batches, the rows taking turns
//! (in a rotating order) round after round, all in one process. A load that comes and goes
//! then falls on every row alike, and a ratio is the median of the per-round ratios, not a
//! ratio of medians taken minutes apart.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// One timed row: a label and the work of one iteration.
pub struct Row<'a> {
    /// What the row times, as printed.
    pub label: String,
    work: Box<dyn FnMut() + 'a>,
    iterations: u64,
    /// Nanoseconds per iteration, one entry per round.
    samples: Vec<f64>,
}

impl<'a> Row<'a> {
    /// A row timing `work`, whose result is passed through `black_box`.
    pub fn new<T>(label: impl Into<String>, mut work: impl FnMut() -> T + 'a) -> Self {
        Row {
            label: label.into(),
            work: Box::new(move || {
                black_box(work());
            }),
            iterations: 1,
            samples: Vec::new(),
        }
    }

    fn batch(&mut self) -> Duration {
        let started = Instant::now();
        for _ in 0..self.iterations {
            (self.work)();
        }
        started.elapsed()
    }

    /// The median of the per-round times, in nanoseconds per iteration.
    #[must_use]
    pub fn median_ns(&self) -> f64 {
        median(self.samples.clone())
    }

    /// The median of the per-round ratios of this row's time to `base`'s.
    #[must_use]
    pub fn ratio_to(&self, base: &Row<'_>) -> f64 {
        median(self.samples.iter().zip(&base.samples).map(|(a, b)| a / b).collect())
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

/// Times every row for `rounds` rounds, each batch about `batch` long.
pub fn run(rows: &mut [Row<'_>], rounds: usize, batch: Duration) {
    // Warm up, then size each row's batch.
    for row in rows.iter_mut() {
        row.batch();
        loop {
            let took = row.batch();
            if took >= batch / 2 || row.iterations >= 1 << 40 {
                let per = took.as_secs_f64() / row.iterations as f64;
                row.iterations = ((batch.as_secs_f64() / per) as u64).max(1);
                break;
            }
            row.iterations *= 4;
        }
    }
    let n = rows.len();
    for round in 0..rounds {
        for k in 0..n {
            let row = &mut rows[(round + k) % n];
            let took = row.batch();
            row.samples.push(took.as_secs_f64() * 1e9 / row.iterations as f64);
        }
    }
}

/// A time for a table: nanoseconds or microseconds.
#[must_use]
pub fn show(ns: f64) -> String {
    if ns >= 1000.0 { format!("{:>8.2} µs", ns / 1000.0) } else { format!("{ns:>8.1} ns") }
}
