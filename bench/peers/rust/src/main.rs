// SPDX-License-Identifier: Apache-2.0
// tokio peer of bench/rt: the runtime's workloads written against tokio, so ferrite::rt can
// be compared with the strongest runtime the issue names. Each workload reports wall-clock
// ns per operation; the 9 repetitions are interleaved (every workload once per repetition,
// round-robin) so that drift on this shared, noisy machine hits all of them alike. One
// untimed warm-up round goes first. Prints a table, or JSON with `--json`.
//
// Workloads (names mirror bench/rt):
//   spawn_join/current_thread   tokio::spawn(async move { v + 1 }).await inside block_on
//   spawn_join/multi_thread     the same from a task on a 2-worker multi_thread runtime
//   spawn_join/multi_thread_outside  the same from block_on's thread, outside the workers
//                               (spawns go through the injection queue and wake a worker)
//   chained_spawn/multi_thread  each task spawns the next, the last one signals (per link;
//                               chains of 100k links)
//   yield/current_thread        yield_now().await round trip
//   yield/multi_thread          the same from a task on the 2-worker runtime
//   ping_pong/multi_thread      two tasks, mpsc::channel(1) each way (per round trip); tokio
//                               places them, and keeps both on one worker (see ping_pong)
//   ping_pong/cross_thread      the same between two current_thread runtimes on two threads
//   timer/current_thread        sleep(1 s) registered by one poll, then dropped (per timer)
//   mutex/current_thread        tokio::sync::Mutex uncontended lock + unlock (per pair)
//   oneshot/current_thread      oneshot::channel(), send, recv (per round trip)

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Runtime};
use tokio::sync::{mpsc, oneshot, Mutex};

const REPETITIONS: usize = 9;

struct Runtimes {
    current: Runtime,
    multi: Runtime,
}

struct Workload {
    name: &'static str,
    /// Operations per repetition, chosen so that one repetition takes ~50-200 ms here.
    iterations: u64,
    /// Runs `iterations` operations and returns the time they took.
    run: fn(&Runtimes, u64) -> Duration,
}

/// Runs `body` as a task on the multi_thread runtime, so that what it measures happens on a
/// worker (as it would in a server), not on the thread that called block_on.
fn on_worker<F>(rts: &Runtimes, body: F) -> Duration
where
    F: Future<Output = Duration> + Send + 'static,
{
    rts.multi
        .block_on(async move { tokio::spawn(body).await.unwrap() })
}

async fn spawn_join(n: u64) -> Duration {
    let start = Instant::now();
    let mut v = 0u64;
    for _ in 0..n {
        v = tokio::spawn(async move { v + 1 }).await.unwrap();
    }
    let elapsed = start.elapsed();
    assert_eq!(v, n);
    elapsed
}

async fn yield_loop(n: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        tokio::task::yield_now().await;
    }
    start.elapsed()
}

/// Spawns the next link of the chain; the last link sends on `done`. The join handles are
/// dropped (detached): each task only spawns its successor.
fn chain_link(remaining: u64, done: oneshot::Sender<()>) {
    tokio::spawn(async move {
        if remaining == 0 {
            let _ = done.send(());
        } else {
            chain_link(remaining - 1, done);
        }
    });
}

/// Links per chain. A repetition runs `n / CHAIN_LINKS` chains one after the other (one
/// chain alone takes only ~10 ms here).
const CHAIN_LINKS: u64 = 100_000;

async fn chained_spawn(n: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..(n + CHAIN_LINKS - 1) / CHAIN_LINKS {
        let (tx, rx) = oneshot::channel();
        chain_link(CHAIN_LINKS - 1, tx);
        rx.await.unwrap();
    }
    start.elapsed()
}

/// The echo half of a ping-pong: answers every ping with ping + 1 until the pings stop.
async fn echo(mut ping_rx: mpsc::Receiver<u64>, pong_tx: mpsc::Sender<u64>) {
    while let Some(v) = ping_rx.recv().await {
        if pong_tx.send(v + 1).await.is_err() {
            break;
        }
    }
}

/// `n` round trips through the channels (the pinger's half), checked.
async fn ping(n: u64, ping_tx: &mpsc::Sender<u64>, pong_rx: &mut mpsc::Receiver<u64>) -> Duration {
    let start = Instant::now();
    let mut v = 0u64;
    for _ in 0..n {
        ping_tx.send(v).await.unwrap();
        v = pong_rx.recv().await.unwrap();
    }
    let elapsed = start.elapsed();
    assert_eq!(v, n);
    elapsed
}

/// Both tasks on the 2-worker runtime. tokio places them: in practice (checked once with
/// thread ids) the echo task lands in the pinger's LIFO slot and the pair runs on one worker,
/// moving to the other worker together a few times a repetition, so this is not a
/// cross-worker round trip.
async fn ping_pong(n: u64) -> Duration {
    let (ping_tx, ping_rx) = mpsc::channel::<u64>(1);
    let (pong_tx, mut pong_rx) = mpsc::channel::<u64>(1);
    let echo = tokio::spawn(echo(ping_rx, pong_tx));
    let elapsed = ping(n, &ping_tx, &mut pong_rx).await;
    drop(ping_tx);
    echo.await.unwrap();
    elapsed
}

/// A cross-thread round trip for certain: the pinger on the current_thread runtime, the echo
/// task on a second current_thread runtime on its own thread. Every message wakes a task of
/// the other runtime (and unparks its thread when it sleeps).
fn ping_pong_cross_thread(rts: &Runtimes, n: u64) -> Duration {
    let (ping_tx, ping_rx) = mpsc::channel::<u64>(1);
    let (pong_tx, mut pong_rx) = mpsc::channel::<u64>(1);
    let echo_thread = std::thread::spawn(move || {
        let rt = Builder::new_current_thread().build().unwrap();
        rt.block_on(echo(ping_rx, pong_tx));
    });
    let elapsed = rts.current.block_on(async {
        ping(1, &ping_tx, &mut pong_rx).await; // the echo thread is up
        ping(n, &ping_tx, &mut pong_rx).await
    });
    drop(ping_tx);
    echo_thread.join().unwrap();
    elapsed
}

/// Polls the pinned future once and reports whether it was pending (std::future::poll_fn
/// would do, but it is newer than Debian's rustc 1.63, the fallback toolchain).
struct PollOnce<'a, F>(Pin<&'a mut F>);

impl<F: Future> Future for PollOnce<'_, F> {
    type Output = bool;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        Poll::Ready(self.0.as_mut().poll(cx).is_pending())
    }
}

async fn timers(n: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        let sleep = tokio::time::sleep(Duration::from_secs(1));
        tokio::pin!(sleep);
        // One poll registers the timer with the driver; the drop at the end of this iteration
        // cancels (deregisters) it.
        let registered = PollOnce(sleep.as_mut()).await;
        assert!(registered);
    }
    start.elapsed()
}

async fn mutex(n: u64) -> Duration {
    let m = Mutex::new(0u64);
    let start = Instant::now();
    for _ in 0..n {
        let mut guard = m.lock().await;
        *guard += 1;
    }
    let elapsed = start.elapsed();
    assert_eq!(*m.lock().await, n);
    elapsed
}

async fn oneshot_round_trip(n: u64) -> Duration {
    let start = Instant::now();
    let mut v = 0u64;
    for _ in 0..n {
        let (tx, rx) = oneshot::channel::<u64>();
        tx.send(v + 1).unwrap();
        v = rx.await.unwrap();
    }
    let elapsed = start.elapsed();
    assert_eq!(v, n);
    elapsed
}

fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "spawn_join/current_thread",
            iterations: 500_000,
            run: |rts, n| rts.current.block_on(spawn_join(n)),
        },
        Workload {
            name: "spawn_join/multi_thread",
            iterations: 500_000,
            run: |rts, n| on_worker(rts, spawn_join(n)),
        },
        Workload {
            name: "spawn_join/multi_thread_outside",
            iterations: 20_000,
            run: |rts, n| rts.multi.block_on(spawn_join(n)),
        },
        Workload {
            name: "chained_spawn/multi_thread",
            iterations: 5 * CHAIN_LINKS,
            run: |rts, n| on_worker(rts, chained_spawn(n)),
        },
        Workload {
            name: "yield/current_thread",
            iterations: 1_000_000,
            run: |rts, n| rts.current.block_on(yield_loop(n)),
        },
        Workload {
            name: "yield/multi_thread",
            iterations: 1_000_000,
            run: |rts, n| on_worker(rts, yield_loop(n)),
        },
        Workload {
            name: "ping_pong/multi_thread",
            iterations: 300_000,
            run: |rts, n| on_worker(rts, ping_pong(n)),
        },
        Workload {
            name: "ping_pong/cross_thread",
            iterations: 50_000,
            run: ping_pong_cross_thread,
        },
        Workload {
            name: "timer/current_thread",
            iterations: 1_000_000,
            run: |rts, n| rts.current.block_on(timers(n)),
        },
        Workload {
            name: "mutex/current_thread",
            iterations: 2_000_000,
            run: |rts, n| rts.current.block_on(mutex(n)),
        },
        Workload {
            name: "oneshot/current_thread",
            iterations: 2_000_000,
            run: |rts, n| rts.current.block_on(oneshot_round_trip(n)),
        },
    ]
}

struct Summary {
    median: f64,
    min: f64,
    max: f64,
}

fn summarize(mut ns_per_op: Vec<f64>) -> Summary {
    ns_per_op.sort_by(|a, b| a.total_cmp(b));
    Summary {
        median: ns_per_op[ns_per_op.len() / 2],
        min: ns_per_op[0],
        max: ns_per_op[ns_per_op.len() - 1],
    }
}

fn main() {
    let mut json = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--json" => json = true,
            "-h" | "--help" => {
                println!("usage: ferrite-tokio-peer [--json]");
                return;
            }
            other => {
                eprintln!("ferrite-tokio-peer: unknown argument {other:?} (try --help)");
                std::process::exit(2);
            }
        }
    }

    let rts = Runtimes {
        current: Builder::new_current_thread().enable_time().build().unwrap(),
        multi: Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap(),
    };
    let list = workloads();

    // Warm-up round (untimed): spawns the workers, fills tokio's caches and the allocator's.
    for w in &list {
        (w.run)(&rts, w.iterations / 10);
    }
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(REPETITIONS); list.len()];
    for _ in 0..REPETITIONS {
        for (w, s) in list.iter().zip(samples.iter_mut()) {
            let elapsed = (w.run)(&rts, w.iterations);
            s.push(elapsed.as_nanos() as f64 / w.iterations as f64);
        }
    }
    let summaries: Vec<Summary> = samples.into_iter().map(summarize).collect();

    if json {
        let rows: Vec<String> = list
            .iter()
            .zip(&summaries)
            .map(|(w, s)| {
                format!(
                    "    {{\"name\": \"{}\", \"iterations\": {}, \"median_ns\": {:.1}, \
                     \"min_ns\": {:.1}, \"max_ns\": {:.1}}}",
                    w.name, w.iterations, s.median, s.min, s.max
                )
            })
            .collect();
        println!(
            "{{\n  \"peer\": \"tokio\",\n  \"multi_thread_workers\": 2,\n  \
             \"repetitions\": {REPETITIONS},\n  \"unit\": \"ns per operation (wall clock)\",\n  \
             \"workloads\": [\n{}\n  ]\n}}",
            rows.join(",\n")
        );
    } else {
        println!(
            "tokio peer: ns per operation (wall clock), {REPETITIONS} interleaved repetitions"
        );
        println!(
            "{:<32} {:>10} {:>10} {:>10} {:>10}",
            "workload", "iters", "median", "min", "max"
        );
        for (w, s) in list.iter().zip(&summaries) {
            println!(
                "{:<32} {:>10} {:>10.1} {:>10.1} {:>10.1}",
                w.name, w.iterations, s.median, s.min, s.max
            );
        }
    }
}
