//! The one error type of botyard. Every layer returns [`Error`]; each API dialect maps its
//! [`ErrorCode`] to its own status code and envelope. The `message` is what a client sees, the
//! `detail` is only logged.

use std::fmt;

/// What went wrong, as one table of codes shared by every dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The request body is not well-formed JSON.
    MalformedJson,
    /// The request body or parameters do not have the expected shape or values.
    InvalidPayload,
    /// A JSON schema given by the client is not a valid schema.
    InvalidJsonSchema,
    /// Data does not conform to the JSON schema it must follow.
    InvalidDataFormat,
    /// An identifier in the path or body is malformed.
    InvalidIdentifier,
    /// A query string parameter is malformed.
    InvalidQuery,
    /// No valid credential was presented.
    Unauthorized,
    /// The credential is valid but does not allow this.
    Forbidden,
    /// The workspace has used up its plan's quota.
    QuotaExceeded,
    /// The resource does not exist (or the caller may not know it exists).
    NotFound,
    /// The route exists but not for this HTTP method.
    MethodNotAllowed,
    /// A resource with the same unique name already exists.
    AlreadyExists,
    /// The resource is in a state that does not allow this operation now.
    Conflict,
    /// The request body is larger than the server accepts.
    PayloadTooLarge,
    /// A count or size limit of the resource would be exceeded.
    LimitExceeded,
    /// The request body has a content type the route does not accept.
    UnsupportedMediaType,
    /// Too many requests; retry later.
    RateLimited,
    /// A dependency (database, remote service) is not reachable.
    Unavailable,
    /// An operation took longer than it may.
    Timeout,
    /// A fault inside botyard; details are in the log only.
    Internal,
}

impl ErrorCode {
    /// The HTTP status most dialects use for this code.
    pub fn http_status(self) -> u16 {
        match self {
            Self::MalformedJson
            | Self::InvalidPayload
            | Self::InvalidJsonSchema
            | Self::InvalidDataFormat
            | Self::InvalidIdentifier
            | Self::InvalidQuery => 400,
            Self::Unauthorized => 401,
            Self::Forbidden | Self::QuotaExceeded => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::AlreadyExists | Self::Conflict => 409,
            Self::PayloadTooLarge | Self::LimitExceeded => 413,
            Self::UnsupportedMediaType => 415,
            Self::RateLimited => 429,
            Self::Internal => 500,
            Self::Unavailable => 503,
            Self::Timeout => 504,
        }
    }
}

/// A failure with a client-facing message and an optional log-only detail.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    pub detail: Option<String>,
    /// For [`ErrorCode::RateLimited`]: seconds until a retry may succeed.
    pub retry_after: Option<u64>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), detail: None, retry_after: None }
    }

    /// Adds a detail that is logged but never shown to the client.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidPayload, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    pub fn limit(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::LimitExceeded, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::AlreadyExists, message)
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(ErrorCode::RateLimited, "Too many requests, please retry later")
        }
    }

    /// An internal fault: the client sees a generic message, the log sees `detail`.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, "An internal error occurred").with_detail(detail)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}
