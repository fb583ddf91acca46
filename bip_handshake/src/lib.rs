//! The BitTorrent handshake on tokio, and the trait discovery services feed peers into
//!
//! Work in progress.
