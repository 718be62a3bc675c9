//! nrun: a declarative experiment-pipeline runner for Neural Optimal
//! Transport research. See ARCHITECTURE.md for the module map.

pub mod bundle;
pub mod cache;
pub mod canon;
pub mod claims;
pub mod cli;
pub mod cmd;
pub mod data;
pub mod device;
pub mod environment;
pub mod error;
pub mod exec;
pub mod fsutil;
pub mod graph;
pub mod grid;
pub mod heap;
pub mod loc;
pub mod metrics;
pub mod ot;
pub mod plan;
pub mod plot;
pub mod publish;
pub mod report;
pub mod results;
pub mod rng;
pub mod run_info;
pub mod samples;
pub mod show;
pub mod spec;
pub mod stages;
pub mod stats;
pub mod stop;
pub mod suggest;
pub mod table;
pub mod target;
pub mod tensor_file;
pub mod timeline;

use std::path::Path;
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use error::{Result, exit};

/// Parses `args` and runs the command; never panics on user error.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    stop::process_start();
    heap::keep_freed_memory();
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // `nrun shw p.yaml`: clap takes `shw` for a pipeline file, and
            // then the next word for a misplaced subcommand.
            let word = args.get(1).and_then(|a| a.to_str()).unwrap_or_default();
            // `nrun logs train`: the one word went to the pipeline.
            let given: Vec<&str> = args
                .iter()
                .skip(2)
                .filter_map(|a| a.to_str())
                .filter(|a| !a.starts_with('-'))
                .collect();
            let message = if e.kind() == clap::error::ErrorKind::MissingRequiredArgument
                && word == "logs"
                && let [only] = given[..]
                && cmd::pipeline_file(Some(Path::new(only))).is_err()
            {
                format!(
                    "`{only}` is not a pipeline: `nrun logs` takes the pipeline, then the instance (usage: nrun logs <PIPELINE> <INSTANCE>)"
                )
            } else if e.kind() == clap::error::ErrorKind::ArgumentConflict
                && !word.starts_with('-')
                && !cli::is_subcommand(word)
                && cmd::pipeline_file(Some(Path::new(word))).is_err()
            {
                format!(
                    "`{word}` is neither a subcommand nor a pipeline file{}",
                    cli::subcommand_hint(word)
                )
            } else {
                cli::one_line(&e)
            };
            cmd::warn(format!("error: {message}"));
            return ExitCode::from(exit::INVALID);
        }
        Err(e) => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::from(exit::OK);
        }
    };
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            cmd::warn(format!("error: {e}"));
            ExitCode::from(e.exit_code())
        }
    }
}

/// For the commands that only print (`nrun status p.yaml | head -1`): a
/// closed pipe on stdout ends nrun as it ends other Unix tools, by SIGPIPE,
/// where Rust, which ignores that signal, would panic in `println!`. A run
/// keeps ignoring it: a reader that leaves (`| tee log`, then Ctrl-C) must
/// not kill it before its trainings checkpoint; it writes through `say`.
fn end_quietly_on_closed_stdout() {
    // SAFETY: sets a signal's disposition to the default; no handler runs.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn dispatch(cli: Cli) -> Result<u8> {
    if matches!(
        cli.command,
        Some(
            Command::Status { .. }
                | Command::Dag { .. }
                | Command::Show(_)
                | Command::Logs { .. }
                | Command::List
                | Command::Export { .. }
                | Command::Gc { dry_run: true, .. }
        )
    ) {
        end_quietly_on_closed_stdout();
    }
    match cli.command {
        Some(Command::Run(args)) => cmd::run::run(&args),
        Some(Command::Status { pipeline, json }) => cmd::status::run(&pipeline, json),
        Some(Command::Dag { pipeline, format }) => cmd::dag::run(&pipeline, format),
        Some(Command::Show(args)) => cmd::show::run(&args),
        Some(Command::Logs {
            pipeline,
            instance,
            follow,
        }) => cmd::logs::run(&pipeline, &instance, follow),
        Some(Command::Gc { dry_run, cache }) => cmd::gc::run(dry_run, cache.as_deref()),
        Some(Command::List) => cmd::list::run(),
        Some(Command::Export { pipeline, max_size }) => cmd::export::run(&pipeline, max_size),
        Some(Command::Import { source, cache }) => cmd::import::run(&source, cache.as_deref()),
        Some(Command::ReproduceReport(args)) => cmd::reproduce::run(&args),
        Some(Command::Exec { cache, key }) => cmd::exec::run(&cache, &key),
        None => {
            let mut args = cli.run;
            if args.pipeline.pipeline.is_none() {
                if !Path::new("nrun.yaml").is_file() {
                    end_quietly_on_closed_stdout();
                    return cmd::list::run();
                }
                args.pipeline.pipeline = Some("nrun.yaml".into());
            }
            cmd::run::run(&args)
        }
    }
}
