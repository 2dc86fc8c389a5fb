//! The client against the sandbox over loopback, and the wire fixtures both are checked against.
#![allow(clippy::unwrap_used)]

mod client_catalog;
mod client_projects;
mod client_roles;
mod client_templates;
mod wire_fixtures;
