//! `chuangcheng bench …`: speed measured and printed as a table. Never part of the tests:
//! speed is the benchmark's job, correctness the tests'.

mod ceiling;
mod child;
mod client;
pub mod crash;
mod locate;
mod run;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::config::Config;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: Option<BenchCommand>,
    #[command(flatten)]
    run: run::RunArgs,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Point-in-grid lookups per second on the in-memory R-tree, on one core and on all.
    Locate {
        /// How many grids to generate (a jittered lattice over a city-sized area).
        #[arg(long, default_value_t = 100_000)]
        grids: usize,
        /// Seconds to run each measurement.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
    /// A ceiling server the benchmark starts as a child process.
    #[command(hide = true)]
    Ceiling {
        #[arg(value_enum)]
        kind: ceiling::Kind,
        /// Where the intake ceiling keeps its scratch database.
        #[arg(long, default_value = "bench-scratch")]
        scratch: PathBuf,
    },
}

pub async fn run(args: BenchArgs, config: Config) -> anyhow::Result<()> {
    match args.command {
        None => run::run(args.run, config).await,
        Some(BenchCommand::Locate { grids, seconds }) => {
            let f = tokio::task::spawn_blocking(move || {
                let bar = indicatif::ProgressBar::new_spinner();
                bar.set_message(format!("locate: {grids} grids"));
                bar.enable_steady_tick(std::time::Duration::from_millis(120));
                let f = locate::measure(grids.max(1), seconds.max(0.1));
                bar.finish_and_clear();
                f
            })
            .await?;
            locate::print(&f);
            Ok(())
        }
        Some(BenchCommand::Ceiling { kind, scratch }) => {
            let listen: SocketAddr = config.listen;
            ceiling::serve(kind, listen, &scratch).await
        }
    }
}
