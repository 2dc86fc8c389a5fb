//! A remote value in the four states every server-backed value goes through.

use crate::api::ApiError;

/// Not requested, pending (keeping the previous value), ready, or failed (with the error,
/// keeping the previous value). A failure is shown where the value would be. `E` is the
/// API's error for server values, a sentence for what is made locally too (a result read
/// from a file, a decoded preview).
///
/// The state is private: it changes only through the transitions below, called from
/// `AppState::apply` and the methods that send the request, so a value can never be, say,
/// "ready" while its request is still out.
#[derive(Debug, Clone)]
pub struct Remote<T, E = ApiError> {
    state: State<T, E>,
}

#[derive(Debug, Clone)]
enum State<T, E> {
    NotRequested,
    Pending { previous: Option<T> },
    Ready(T),
    Failed { error: E, previous: Option<T> },
}

impl<T, E> Default for Remote<T, E> {
    fn default() -> Self {
        Self { state: State::NotRequested }
    }
}

impl<T, E> Remote<T, E> {
    /// A value known without asking (a test's, a bench's, or one read from disk).
    pub fn ready(value: T) -> Self {
        Self { state: State::Ready(value) }
    }

    /// Asked for, nothing known yet.
    pub fn pending() -> Self {
        Self { state: State::Pending { previous: None } }
    }

    /// The newest value there is, even while a refresh is pending or after it failed.
    pub fn value(&self) -> Option<&T> {
        match &self.state {
            State::NotRequested => None,
            State::Pending { previous } | State::Failed { previous, .. } => previous.as_ref(),
            State::Ready(v) => Some(v),
        }
    }

    pub fn value_mut(&mut self) -> Option<&mut T> {
        match &mut self.state {
            State::NotRequested => None,
            State::Pending { previous } | State::Failed { previous, .. } => previous.as_mut(),
            State::Ready(v) => Some(v),
        }
    }

    /// Whether it was ever asked for (since the last [`Self::reset`]).
    pub fn is_requested(&self) -> bool {
        !matches!(self.state, State::NotRequested)
    }

    pub fn is_pending(&self) -> bool {
        matches!(self.state, State::Pending { .. })
    }

    pub fn error(&self) -> Option<&E> {
        match &self.state {
            State::Failed { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Marks a request as sent, keeping the current value.
    pub fn start(&mut self) {
        let previous = self.take_value();
        self.state = State::Pending { previous };
    }

    /// Applies a response: the new value, or the error over the kept value.
    pub fn finish(&mut self, result: Result<T, E>) {
        self.state = match result {
            Ok(v) => State::Ready(v),
            Err(error) => State::Failed { error, previous: self.take_value() },
        };
    }

    /// Applies a failure shown over `shown` (a copy saved earlier) in place of the kept value.
    pub fn fail_showing(&mut self, error: E, shown: T) {
        self.state = State::Failed { error, previous: Some(shown) };
    }

    /// Forgets the value and any request: not requested again (another project, another
    /// session). An answer still coming is the caller's to drop.
    pub fn reset(&mut self) {
        self.state = State::NotRequested;
    }

    fn take_value(&mut self) -> Option<T> {
        match std::mem::replace(&mut self.state, State::NotRequested) {
            State::NotRequested => None,
            State::Pending { previous } | State::Failed { previous, .. } => previous,
            State::Ready(v) => Some(v),
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
        r.fail_showing(ApiError::new(ErrorKind::Timeout), 7);
        assert_eq!((r.value(), r.is_pending(), r.error().is_some()), (Some(&7), false, true));
        r.reset();
        assert!(!r.is_requested() && r.value().is_none() && r.error().is_none());
    }
}
