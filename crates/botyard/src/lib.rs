//! The botyard server assembled: configuration in, a listening server out. The binary
//! (`main.rs`) parses the command line and calls [`server::run`]; the integration tests call
//! [`server::start`] to run the same server on an ephemeral port.

pub mod archive;
pub mod chat;
pub mod logging;
pub mod server;
