//! A remote value in the four states every server-backed value goes through.

use crate::api::ApiError;

/// Not requested, pending (keeping the previous value), ready, or failed (with the error,
/// keeping the previous value). A failure is shown where the value would be.
#[derive(Debug, Clone, Default)]
pub enum Remote<T> {
    #[default]
    NotRequested,
    Pending {
        previous: Option<T>,
    },
    Ready(T),
    Failed {
        error: ApiError,
        previous: Option<T>,
    },
}

impl<T> Remote<T> {
    /// The newest value there is, even while a refresh is pending or after it failed.
    pub fn value(&self) -> Option<&T> {
        match self {
            Self::NotRequested => None,
            Self::Pending { previous } | Self::Failed { previous, .. } => previous.as_ref(),
            Self::Ready(v) => Some(v),
        }
    }

    pub fn value_mut(&mut self) -> Option<&mut T> {
        match self {
            Self::NotRequested => None,
            Self::Pending { previous } | Self::Failed { previous, .. } => previous.as_mut(),
            Self::Ready(v) => Some(v),
        }
    }

    pub fn is_pending(&self) -> bool {
        matches!(self, Self::Pending { .. })
    }

    pub fn error(&self) -> Option<&ApiError> {
        match self {
            Self::Failed { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Marks a request as sent, keeping the current value.
    pub fn start(&mut self) {
        let previous = self.take_value();
        *self = Self::Pending { previous };
    }

    /// Applies a response: the new value, or the error over the kept value.
    pub fn finish(&mut self, result: Result<T, ApiError>) {
        *self = match result {
            Ok(v) => Self::Ready(v),
            Err(error) => Self::Failed { error, previous: self.take_value() },
        };
    }

    fn take_value(&mut self) -> Option<T> {
        match std::mem::take(self) {
            Self::NotRequested => None,
            Self::Pending { previous } | Self::Failed { previous, .. } => previous,
            Self::Ready(v) => Some(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ErrorKind;

    #[test]
    fn keeps_previous_through_pending_and_failure() {
        let mut r: Remote<i32> = Remote::default();
        assert!(r.value().is_none());
        r.start();
        assert!(r.is_pending());
        r.finish(Ok(1));
        r.start();
        assert_eq!(r.value(), Some(&1));
        r.finish(Err(ApiError::new(ErrorKind::Timeout)));
        assert_eq!(r.value(), Some(&1));
        assert!(r.error().is_some());
        r.finish(Ok(2));
        assert_eq!(r.value(), Some(&2));
        assert!(r.error().is_none());
    }
}
