//! The review workflow and shared projects in `AppState`: what the open project's role
//! allows (and why not, in words), decisions and shares on their way, and their answers.

use super::state::AppState;
use crate::api::{ProcessingId, ProjectAction, ProjectId, ProjectRole};
use crate::worker::{Command, Event, MarkedFeatures};
use rust_i18n::t;

/// Decisions and shares on their way, and what failed, shown where they were asked for.
#[derive(Debug, Default)]
pub struct ReviewState {
    /// The processing whose acceptance or rejection is on its way.
    pub deciding: Option<ProcessingId>,
    /// Why the last decision failed (shown in the rejection dialog and the details).
    pub decision_error: Option<(ProcessingId, String)>,
    /// The project a share is on its way for.
    pub sharing: Option<ProjectId>,
    /// Why the last share failed, shown in the share form; or the last share that worked.
    pub share_outcome: Option<Result<String, String>>,
}

/// Whether a deadline `until` is close (within a day) or past, at `now`.
pub fn deadline_is_near(until: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> bool {
    until - now <= chrono::Duration::days(1)
}

/// A role in words.
pub fn role_word(role: ProjectRole) -> String {
    match role {
        ProjectRole::Readonly => t!("roles.readonly"),
        ProjectRole::Contributor => t!("roles.contributor"),
        ProjectRole::Maintainer => t!("roles.maintainer"),
        ProjectRole::Owner => t!("roles.owner"),
    }
    .into_owned()
}

impl AppState {
    /// Why the open project's role does not allow `action`, in the user's language; `None`
    /// when it does (or when no project is open: nothing to refuse yet).
    pub fn refusal(&self, action: ProjectAction) -> Option<String> {
        let project = self.open_project.value()?;
        if project.allows(action) {
            return None;
        }
        let role = role_word(project.my_role());
        Some(
            match action {
                ProjectAction::StartProcessing => t!("roles.cannot_start", role = role),
                ProjectAction::EditProcessing => t!("roles.cannot_edit", role = role),
                ProjectAction::ManageProject => t!("roles.cannot_manage", role = role),
            }
            .into_owned(),
        )
    }

    /// Accepts the results of `id`.
    pub fn accept(&mut self, id: ProcessingId) -> Command {
        self.review.deciding = Some(id.clone());
        self.review.decision_error = None;
        Command::AcceptProcessing { id }
    }

    /// Rejects the results of `id` with `comment` and the `marked` features.
    pub fn reject(&mut self, id: ProcessingId, comment: String, marked: MarkedFeatures) -> Command {
        self.review.deciding = Some(id.clone());
        self.review.decision_error = None;
        Command::RejectProcessing { id, comment, marked }
    }

    /// Shares the open project with `email` as `role`.
    pub fn share(&mut self, project: ProjectId, email: String, role: ProjectRole) -> Command {
        self.review.sharing = Some(project.clone());
        self.review.share_outcome = None;
        Command::ShareProject { project, email, role }
    }

    /// Applies the answers to decisions and shares.
    pub(super) fn apply_review_event(&mut self, event: Event) {
        match event {
            Event::ProcessingReviewed { id, accepted, result } => {
                let asked = self.review.deciding.as_ref() == Some(&id);
                if asked {
                    self.review.deciding = None;
                }
                let name = self.processing(&id).map(|p| p.name.clone()).unwrap_or_else(|| id.0.clone());
                match result {
                    Ok(()) => {
                        self.notify(if accepted {
                            t!("review.accepted", name = name)
                        } else {
                            t!("review.rejected", name = name)
                        });
                        if let Some(cmd) = self.watch_processings() {
                            self.follow_up.push(cmd);
                        }
                    }
                    Err(e) => {
                        if e.is_unauthorized() {
                            self.sign_in.open = true;
                        }
                        let text = super::messages::error_text(&e);
                        self.notify_error(t!("review.failed", name = name, reason = text.clone()));
                        if asked {
                            self.review.decision_error = Some((id, text));
                        }
                    }
                }
            }
            Event::ProjectShared { project, email, role, result } => {
                // A share for a project the user has since left still happened: say so, but
                // the form's outcome is the open project's only.
                let asked = self.review.sharing.as_ref() == Some(&project);
                if asked {
                    self.review.sharing = None;
                }
                match result {
                    Ok(()) => {
                        let text = t!("share.done", email = email, role = role_word(role)).into_owned();
                        self.notify(text.clone());
                        if asked {
                            self.review.share_outcome = Some(Ok(text));
                        }
                        if self.open_project_id() == Some(&project) {
                            let cmd = self.open_project_command(project);
                            self.follow_up.push(cmd);
                        }
                    }
                    Err(e) => {
                        let text = super::messages::error_text(&e);
                        if asked && self.open_project_id() == Some(&project) {
                            self.review.share_outcome = Some(Err(text));
                        } else {
                            self.notify_error(t!("share.failed", email = email, reason = text));
                        }
                    }
                }
            }
            other => tracing::error!("event not handled here: {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ApiError, ErrorKind, Project, ProjectUser};

    fn open(state: &mut AppState, role: &str) {
        let project = Project {
            id: ProjectId("p".into()),
            user: Some(ProjectUser { role: Some(role.into()), ..ProjectUser::default() }),
            ..Project::default()
        };
        state.open_project.finish(Ok(project));
    }

    #[test]
    fn a_readonly_project_refuses_starts_with_the_reason_and_an_owner_nothing() {
        let mut state = AppState::default();
        open(&mut state, "readonly");
        let why = state.refusal(ProjectAction::StartProcessing).unwrap();
        assert!(why.contains("read-only"), "{why}");
        open(&mut state, "owner");
        assert_eq!(state.refusal(ProjectAction::ManageProject), None);
    }

    #[test]
    fn a_failed_share_is_shown_in_the_form_and_a_late_one_as_a_notice() {
        let mut state = AppState::default();
        open(&mut state, "owner");
        let _ = state.share(ProjectId("p".into()), "a@b.c".into(), ProjectRole::Readonly);
        let refused = Err(ApiError::new(ErrorKind::Forbidden));
        state.apply(Event::ProjectShared {
            project: ProjectId("p".into()),
            email: "a@b.c".into(),
            role: ProjectRole::Readonly,
            result: refused.clone(),
        });
        assert!(matches!(state.review.share_outcome, Some(Err(_))));
        let notices = state.notices.len();
        // An answer for a share nobody waits for any more is not put in the form.
        state.review.share_outcome = None;
        state.apply(Event::ProjectShared {
            project: ProjectId("other".into()),
            email: "a@b.c".into(),
            role: ProjectRole::Readonly,
            result: refused,
        });
        assert!(state.review.share_outcome.is_none());
        assert_eq!(state.notices.len(), notices + 1);
    }
}
