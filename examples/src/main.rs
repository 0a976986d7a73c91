//! `mizan`: the developer CLI for the Mizan engine.

mod basket;
mod demo;
mod eval;
mod files;
mod inspect;
mod measure;
mod pack;
mod progress;
mod shop;
mod synth_log;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Mizan developer tools.
#[derive(Parser)]
#[command(name = "mizan", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Walk through consent, recording, recommendations, inspect, export and erasure on the embedded shop.
    Demo {
        /// Where to write one shopper's debug snapshots and inspector pages
        /// (default: a `mizan-inspector` directory in the system's temporary directory).
        #[arg(long)]
        report_dir: Option<PathBuf>,
    },
    /// Measure recommendation quality on a dataset (see examples/movielens/).
    Eval(eval::EvalArgs),
    /// Measure how well lists predict the next basket (repeat purchases): on a
    /// purchase log, or on seeded simulated grocery households.
    EvalBasket(basket::BasketArgs),
    /// Catalogue pack tools.
    #[command(subcommand)]
    Pack(PackCommand),
    /// Render a debug snapshot (`debugSnapshot()` on a device) as one self-contained
    /// HTML page, or what changed between two snapshots.
    Inspect {
        /// The snapshot, or an earlier and a later one to compare.
        #[arg(required = true, num_args = 1..=2)]
        snapshots: Vec<PathBuf>,
        /// Where to write the page.
        #[arg(long)]
        html: PathBuf,
    },
}

// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum PackCommand {
    /// Learn a pack from a catalogue and an interaction log (or build it from what
    /// `pack learn` or the Spark job learned, with --learned), and sign it.
    Build(pack::BuildArgs),
    /// Learn neighbours, transitions, popularity and trend into files, in the
    /// layout the Spark job writes, for `pack build --learned` to sign.
    Learn(pack::LearnOnlyArgs),
    /// Generate an Ed25519 signing key (PKCS#8) and its raw public key.
    Keygen {
        /// Where to write the private key; keep it off devices.
        #[arg(long)]
        out: PathBuf,
        /// Where to write the raw 32-byte public key that engines trust.
        #[arg(long)]
        public_key_out: PathBuf,
    },
    /// Write the embedded shop's signed pack and its public key (for binding tests and samples).
    Demo {
        /// Where to write the signed pack.
        #[arg(long)]
        out: PathBuf,
        /// Where to write the raw 32-byte Ed25519 public key.
        #[arg(long)]
        public_key_out: PathBuf,
    },
    /// Write a synthetic pack of any size, signed with the demo key (for benchmarks at scale).
    Synth {
        /// Items in the catalogue.
        #[arg(long)]
        items: u32,
        /// Hidden dimensions of a sequence network to include (0 = none).
        #[arg(long, default_value_t = 0)]
        network_dim: usize,
        /// Dimensions of item embeddings to include (0 = none).
        #[arg(long, default_value_t = 0)]
        embedding_dim: usize,
        /// Where to write the signed pack.
        #[arg(long)]
        out: PathBuf,
        /// Where to write the raw 32-byte public key.
        #[arg(long)]
        public_key_out: PathBuf,
    },
    /// Write a synthetic catalogue and interaction log with a long tail (`catalog.csv`,
    /// `interactions.csv`), for measuring the packer and the Spark job at scale.
    SynthLog {
        /// Items in the catalogue.
        #[arg(long)]
        items: u32,
        /// Interactions per item, on average.
        #[arg(long, default_value_t = 100)]
        per_item: u32,
        /// Seed of the generator.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Directory to write into.
        #[arg(long)]
        out: PathBuf,
    },
    /// Measure what a pack costs a phone: bytes per item by section, load time, and
    /// the memory of an engine with it loaded and a history recorded.
    Measure {
        /// The signed pack.
        pack: PathBuf,
        /// The raw public key.
        #[arg(long)]
        public_key: PathBuf,
        /// Views recorded before measuring memory.
        #[arg(long, default_value_t = 5_000)]
        history: u32,
    },
    /// Verify a signed pack against a raw 32-byte public key file and describe it.
    Verify {
        /// The signed pack.
        pack: PathBuf,
        /// The raw public key.
        #[arg(long)]
        public_key: PathBuf,
    },
}

fn main() -> ExitCode {
    let result: Result<(), Box<dyn std::error::Error>> = match Cli::parse().command {
        Command::Demo { report_dir } => demo::run(report_dir),
        Command::Inspect { snapshots, html } => inspect::run(&snapshots, &html),
        Command::Eval(args) => eval::run(&args),
        Command::EvalBasket(args) => basket::run(&args),
        Command::Pack(PackCommand::Build(args)) => pack::build(&args),
        Command::Pack(PackCommand::Learn(args)) => pack::learn(&args),
        Command::Pack(PackCommand::Keygen { out, public_key_out }) => pack::keygen(&out, &public_key_out),
        Command::Pack(PackCommand::Demo { out, public_key_out }) => {
            let (bytes, key) = pack::demo_pack(&shop::Shop::new());
            crate::files::write(&out, &bytes)
                .and_then(|_| crate::files::write(&public_key_out, &key))
                .map(|_| println!("wrote {} ({} bytes) and {}", out.display(), bytes.len(), public_key_out.display()))
                .map_err(Into::into)
        }
        Command::Pack(PackCommand::SynthLog { items, per_item, seed, out }) => synth_log::synth_log(items, per_item, seed, &out),
        Command::Pack(PackCommand::Synth { items, network_dim, embedding_dim, out, public_key_out }) => {
            measure::synth(items, network_dim, embedding_dim, &out, &public_key_out)
        }
        Command::Pack(PackCommand::Measure { pack, public_key, history }) => measure::measure(&pack, &public_key, history),
        Command::Pack(PackCommand::Verify { pack, public_key }) => (|| {
            let description = pack::describe(&crate::files::read(pack)?, &crate::files::read(public_key)?)?;
            println!("OK {description}");
            Ok(())
        })(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
