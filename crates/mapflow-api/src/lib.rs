//! Typed, async Mapflow API client. No egui here, and it never creates a runtime.

pub mod catalog;
pub mod client;
pub mod error;
pub mod models;
pub mod processings;
pub mod rasters;
pub mod review;
pub mod secret;
pub mod templates;
pub mod token;

pub use catalog::*;
pub use client::{Client, ClientConfig, Reach, RetryPolicy};
pub use error::{ApiError, ErrorKind};
pub use models::*;
pub use processings::*;
pub use rasters::*;
pub use review::*;
pub use secret::Secret;
pub use templates::*;
pub use token::Token;
