//! The error every evaluation returns: an AWS error name (a stable [`ErrorKind`]) and the cause
//! text Step Functions writes, so the engine can put both straight into the history.

/// The Step Functions error names an evaluation can raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `States.Runtime`: a path found nothing, a value had the wrong type, ... (not retriable).
    Runtime,
    /// `States.IntrinsicFailure`: an intrinsic function was given arguments it cannot use.
    IntrinsicFailure,
    /// `States.QueryEvaluationError`: a JSONata expression failed or returned an unusable value.
    QueryEvaluationError,
    /// `States.DataLimitExceeded`: a payload is larger than 256 KiB.
    DataLimitExceeded,
}

impl ErrorKind {
    /// The error name as Step Functions writes it (`States.Runtime`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Runtime => "States.Runtime",
            ErrorKind::IntrinsicFailure => "States.IntrinsicFailure",
            ErrorKind::QueryEvaluationError => "States.QueryEvaluationError",
            ErrorKind::DataLimitExceeded => "States.DataLimitExceeded",
        }
    }
}

/// A failed evaluation.
///
/// `cause` is the text AWS writes *after* its state prefix; most AWS causes read
/// `An error occurred while executing the state 'S' (entered at the event id #N). <cause>`, and
/// only the engine knows `S` and `N`: use [`EvalError::cause_in_state`] to build that text.
/// [`EvalError::prefixed`] says whether AWS adds the prefix for this error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {}", .kind.name(), .cause)]
pub struct EvalError {
    /// The error name.
    pub kind: ErrorKind,
    /// What went wrong, in AWS's words.
    pub cause: String,
    /// The field that failed, as AWS names it in `evaluationFailedEventDetails.location`
    /// (`Assign/result`, `Output`, `Items`, ...). Set for JSONata evaluations, whose failures
    /// AWS records with an `EvaluationFailed` event.
    pub location: Option<String>,
    /// Whether AWS puts the "error occurred while executing the state" prefix before the cause.
    pub prefixed: bool,
}

impl EvalError {
    /// A `States.Runtime` error.
    pub fn runtime(cause: impl Into<String>) -> EvalError {
        EvalError::new(ErrorKind::Runtime, cause)
    }

    /// A `States.IntrinsicFailure` error.
    pub fn intrinsic(cause: impl Into<String>) -> EvalError {
        EvalError::new(ErrorKind::IntrinsicFailure, cause)
    }

    /// A `States.QueryEvaluationError` error.
    pub fn query(cause: impl Into<String>) -> EvalError {
        EvalError::new(ErrorKind::QueryEvaluationError, cause)
    }

    /// An error of any kind, with the state prefix and no location.
    pub fn new(kind: ErrorKind, cause: impl Into<String>) -> EvalError {
        EvalError {
            kind,
            cause: cause.into(),
            location: None,
            prefixed: true,
        }
    }

    /// The same error with `location` set.
    pub fn at(mut self, location: impl Into<String>) -> EvalError {
        self.location = Some(location.into());
        self
    }

    /// The same error without the state prefix.
    pub fn unprefixed(mut self) -> EvalError {
        self.prefixed = false;
        self
    }

    /// The error name (`States.Runtime`, ...), as the history and `ErrorEquals` use it.
    pub fn error(&self) -> &'static str {
        self.kind.name()
    }

    /// The cause as AWS writes it for a state named `state` entered at history event
    /// `entered_event_id`.
    pub fn cause_in_state(&self, state: &str, entered_event_id: u64) -> String {
        if self.prefixed {
            format!(
                "An error occurred while executing the state '{state}' (entered at the event id #{entered_event_id}). {}",
                self.cause
            )
        } else {
            self.cause.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_names_state_and_event() {
        let e = EvalError::runtime("Wait state delay is too long.");
        assert_eq!(e.error(), "States.Runtime");
        assert_eq!(
            e.cause_in_state("W", 2),
            "An error occurred while executing the state 'W' (entered at the event id #2). Wait state delay is too long."
        );
        assert_eq!(e.clone().unprefixed().cause_in_state("W", 2), e.cause);
    }
}
