//! COPKIT Workbench: an offline analyst workbench for investigations into organised crime and
//! terrorism.
//!
//! The headless core (`model`, `store`, `jobs`, `cli`) builds without any GUI crate; the
//! workbench window (`app`, `ui`) lives behind the default `gui` feature. See ARCHITECTURE.md.

pub mod analysis;
pub mod cli;
pub mod generate;
pub mod io;
pub mod jobs;
pub mod layout;
pub mod model;
pub mod report;
pub mod store;

#[cfg(feature = "gui")]
pub mod app;
#[cfg(feature = "gui")]
pub mod ui;
