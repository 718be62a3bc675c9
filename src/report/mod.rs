//! Report documents: blocks of headings, text, commands, tables and
//! figures, rendered as Markdown (figures beside it) or as one
//! self-contained HTML page (figures inlined).

mod concat;
mod document;
mod error;
mod escape;
mod figures;
mod html;
mod markdown;
mod outline;
mod pipe_table;
mod png;

pub use concat::concat;
pub use document::{Block, Document};
pub use error::ReportError;
pub use figures::copy_figures;
pub use html::to_html;
pub use markdown::to_markdown;
