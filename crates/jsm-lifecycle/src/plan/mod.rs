//! Plans: the model, its content hash, the builder operations use, and the time estimate.

mod draft;
mod model;
mod rates;
mod seal;

pub use draft::{Draft, Stamp};
pub use model::*;
pub use rates::Rates;
