//! The sandbox's answers, its store, rasters and demo, over loopback HTTP.
#![allow(clippy::unwrap_used)]

mod sandbox_demo;
mod sandbox_processings;
mod sandbox_rasters;
mod sandbox_server;
mod sandbox_templates;
