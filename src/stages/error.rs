//! How a stage fails, and whose fault it is. Stage kinds return the errors
//! of the modules they call; the conversions below are the one place that
//! turns them into a [`StageError`], and [`StageError::blame`] the one place
//! that decides between the user's mistake (exit 2) and a failure (exit 1).

use std::path::PathBuf;

use crate::data::error::{LoadError, ParamError as DataParamError};
use crate::metrics::MetricError;
use crate::ot::trainer::TrainError;
use crate::plot::PlotError;
use crate::report::ReportError;
use crate::table::TableError;
use crate::tensor_file::TensorFileError;

#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// An input file is unusable (bad format, truncated): the user must fix
    /// the data.
    #[error("{}: {message}", path.display())]
    BadInput { path: PathBuf, message: String },
    /// The stage's params do not fit its inputs as they turned out (a net
    /// that cannot take the data's shape): a mistake in the pipeline, found
    /// only once the inputs exist.
    #[error("{0}")]
    Misfit(String),
    /// The run is stopping (Ctrl-C, a signal, the time limit); the message
    /// says where the stage stopped and whether it resumes from there.
    #[error("{message}")]
    Stopped {
        why: crate::stop::Why,
        message: String,
    },
    /// An output, the log or the work area could not be written.
    #[error("{}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A tensor file could not be written.
    #[error(transparent)]
    TensorWrite(TensorFileError),
    /// A `command` stage's command could not start, or failed.
    #[error("{0}")]
    Command(String),
    /// The device the run asked for cannot be used here.
    #[error("{0}")]
    Device(String),
    /// A training diverged past its guard, or its checkpoint could not be
    /// written or read back.
    #[error(transparent)]
    Train(TrainError),
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(transparent)]
    Plot(#[from] PlotError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Metric(#[from] MetricError),
    /// A training's checkpoint could not be read back.
    #[error("{0}")]
    Checkpoint(String),
    /// The threads a training asked for could not be made.
    #[error("thread pool: {0}")]
    ThreadPool(#[from] rayon::ThreadPoolBuildError),
    /// The stage panicked: a bug in nrun.
    #[error("stage panicked: {0}")]
    Panicked(String),
    /// An input bound in a way this kind cannot read (several cells
    /// where it reads one, a path where it reads a stage): a mistake in
    /// the pipeline that validation does not catch yet.
    #[error("input `{name}` {problem}")]
    Unbound { name: String, problem: &'static str },
}

/// Whose fault a failed stage is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blame {
    /// A file the user gave or a command made is unusable; the message
    /// names it. Exit 2.
    Data,
    /// The pipeline asks for something its inputs cannot give; the message
    /// is located at the stage. Exit 2.
    Pipeline,
    /// The run was stopped; the stage resumes.
    Stopped,
    /// nrun, the machine or the training failed. Exit 1.
    Failure,
}

impl StageError {
    pub fn bad_input(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        StageError::BadInput {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Writing `path` failed.
    pub fn write(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| StageError::Write { path, source }
    }

    pub fn blame(&self) -> Blame {
        match self {
            StageError::BadInput { .. } => Blame::Data,
            StageError::Misfit(_) | StageError::Unbound { .. } => Blame::Pipeline,
            StageError::Stopped { .. } => Blame::Stopped,
            // Samples a training made unusable are its outcome, not a
            // mistake in the pipeline.
            StageError::Metric(MetricError::NonFinite { .. })
            | StageError::Metric(MetricError::NotPositiveDefinite { .. }) => Blame::Failure,
            StageError::Metric(_) => Blame::Pipeline,
            // Metric rows are a metric stage's or a command's files.
            StageError::Table(
                TableError::Io { .. }
                | TableError::Csv { .. }
                | TableError::MissingColumn { .. }
                | TableError::DuplicateColumn { .. }
                | TableError::BadValue { .. },
            ) => Blame::Data,
            StageError::Table(
                TableError::NoRows { .. }
                | TableError::UnknownParam { .. }
                | TableError::MissingKey { .. }
                | TableError::Unaveraged { .. }
                | TableError::DuplicateRun { .. }
                | TableError::BaselineVaries { .. }
                | TableError::DuplicateKey { .. },
            ) => Blame::Pipeline,
            StageError::Write { .. }
            | StageError::TensorWrite(_)
            | StageError::Command(_)
            | StageError::Device(_)
            | StageError::ThreadPool(_)
            | StageError::Train(_)
            | StageError::Plot(_)
            | StageError::Report(_)
            | StageError::Checkpoint(_)
            | StageError::Panicked(_) => Blame::Failure,
        }
    }
}

/// An unusable tensor file is the data's fault; a failed write is a
/// failure.
impl From<TensorFileError> for StageError {
    fn from(e: TensorFileError) -> Self {
        match e {
            TensorFileError::Bad { path, message } => StageError::BadInput { path, message },
            e @ TensorFileError::Write { .. } => StageError::TensorWrite(e),
        }
    }
}

/// A file the loaders cannot read is the user's to fix, naming the file.
impl From<LoadError> for StageError {
    fn from(e: LoadError) -> Self {
        let text = e.to_string();
        match e.path() {
            Some(path) => {
                let prefix = format!("{}: ", path.display());
                let message = text.strip_prefix(&prefix).unwrap_or(&text);
                StageError::bad_input(path, message)
            }
            None => StageError::Misfit(text),
        }
    }
}

/// A data operation that cannot take the items it was given (an image op
/// on points) is the pipeline's mistake.
impl From<DataParamError> for StageError {
    fn from(e: DataParamError) -> Self {
        StageError::Misfit(e.to_string())
    }
}

/// Nets that cannot take the data are the pipeline's mistake; the rest
/// (divergence, checkpoints) is a failed training.
impl From<TrainError> for StageError {
    fn from(e: TrainError) -> Self {
        match e {
            TrainError::Config(message) => StageError::Misfit(message),
            e => StageError::Train(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_is_blamed_for_files_and_the_pipeline_nrun_for_the_rest() {
        let io = || std::io::Error::other("disk full");
        let cases = [
            (StageError::bad_input("a.idx", "truncated"), Blame::Data),
            (
                LoadError::EmptyFolder {
                    path: "faces".into(),
                }
                .into(),
                Blame::Data,
            ),
            (
                TableError::Csv {
                    path: "m.csv".into(),
                    source: csv::Error::from(io()),
                }
                .into(),
                Blame::Data,
            ),
            (
                TableError::NoRows {
                    metric: "psnr".into(),
                    available: vec!["ssim".into()],
                }
                .into(),
                Blame::Pipeline,
            ),
            (
                TrainError::Config("cnn_t needs images".into()).into(),
                Blame::Pipeline,
            ),
            (
                MetricError::ImageTooSmall {
                    height: 4,
                    width: 4,
                    window: 7,
                }
                .into(),
                Blame::Pipeline,
            ),
            (
                MetricError::NonFinite { what: "samples" }.into(),
                Blame::Failure,
            ),
            (
                StageError::Unbound {
                    name: "x".into(),
                    problem: "is a path, not a stage",
                },
                Blame::Pipeline,
            ),
            (
                TrainError::Diverged {
                    step: 3,
                    reason: "NaN".into(),
                    retries: 2,
                }
                .into(),
                Blame::Failure,
            ),
            (StageError::write("out/x")(io()), Blame::Failure),
            (StageError::Command("exit code 3".into()), Blame::Failure),
        ];
        for (error, blame) in cases {
            assert_eq!(error.blame(), blame, "{error}");
        }
    }

    #[test]
    fn a_load_error_names_its_file_once() {
        let e: StageError = LoadError::BadDims {
            path: "imgs.idx".into(),
            what: "zero rows".into(),
        }
        .into();
        assert_eq!(e.to_string(), "imgs.idx: bad dimensions: zero rows");
    }
}
