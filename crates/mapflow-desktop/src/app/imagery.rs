//! My imagery: mosaics, the selected mosaic's images, storage, and the upload queue.

use super::remote::Remote;
use super::state::AppState;
use crate::api::{Memory, Mosaic, MosaicId, RasterImage};
use crate::worker::{Command, Event, UploadStatus};
use std::path::PathBuf;

/// What the My imagery panel shows.
#[derive(Default)]
pub struct ImageryState {
    pub mosaics: Remote<Vec<Mosaic>>,
    pub memory: Remote<Memory>,
    pub selected: Option<MosaicId>,
    pub images: Remote<Vec<RasterImage>>,
    /// The files of the current upload queue, in order, with what became of each.
    pub uploads: Vec<(PathBuf, UploadStatus)>,
    pub uploading: bool,
}

impl ImageryState {
    pub fn mosaic(&self, id: &MosaicId) -> Option<&Mosaic> {
        self.mosaics.value().and_then(|m| m.iter().find(|x| &x.id == id))
    }
}

impl AppState {
    /// Reloads the mosaics and the storage figures.
    pub fn reload_imagery(&mut self) -> Vec<Command> {
        self.imagery.mosaics.start();
        self.imagery.memory.start();
        let mut cmds = vec![Command::LoadMosaics, Command::LoadMemory];
        if let Some(id) = self.imagery.selected.clone() {
            self.imagery.images.start();
            cmds.push(Command::LoadMosaicImages { id });
        }
        cmds
    }

    /// Selects a mosaic and loads its images.
    pub fn select_mosaic(&mut self, id: MosaicId) -> Command {
        self.imagery.selected = Some(id.clone());
        self.imagery.images.reset();
        self.imagery.images.start();
        Command::LoadMosaicImages { id }
    }

    pub(super) fn apply_imagery_event(&mut self, event: Event) {
        use rust_i18n::t;
        match event {
            Event::Mosaics(result) => {
                if let (Ok(list), Some(sel)) = (&result, &self.imagery.selected)
                    && !list.iter().any(|m| &m.id == sel)
                {
                    self.imagery.selected = None;
                    self.imagery.images.reset();
                }
                self.imagery.mosaics.finish(result);
            }
            Event::Memory(result) => self.imagery.memory.finish(result),
            Event::MosaicImages { id, result } => {
                if self.imagery.selected.as_ref() == Some(&id) {
                    self.imagery.images.finish(result);
                }
            }
            Event::ImageryChanged { change, result } => {
                use crate::worker::ImageryChange as C;
                match result {
                    Ok(()) => self.notify(match change {
                        C::MosaicCreated(name) => t!("imagery.mosaic_created", name = name),
                        C::MosaicUpdated(name) => t!("imagery.mosaic_updated", name = name),
                        C::MosaicsDeleted(n) => t!("imagery.mosaics_deleted", n = n),
                        C::ImageRenamed(name) => t!("imagery.image_renamed", name = name),
                        C::ImageDeleted => t!("imagery.image_deleted"),
                    }),
                    Err(e) => self.notify_error(super::messages::error_text(&e)),
                }
                let cmds = self.reload_imagery();
                self.follow_up.extend(cmds);
            }
            Event::Upload { path, status } => match self.imagery.uploads.iter_mut().find(|(p, _)| *p == path) {
                Some((_, s)) => *s = status,
                None => self.imagery.uploads.push((path, status)),
            },
            Event::UploadsFinished => {
                self.imagery.uploading = false;
                let done = self.imagery.uploads.iter().filter(|(_, s)| *s == UploadStatus::Done).count();
                self.notify(t!("imagery.uploads_done", done = done, total = self.imagery.uploads.len()));
                // A new mosaic made by the upload becomes the selected one.
                let cmds = self.reload_imagery();
                self.follow_up.extend(cmds);
            }
            Event::UploadFilesPicked { target, paths } => {
                if paths.is_empty() {
                    self.imagery.uploading = false;
                } else {
                    self.follow_up.push(Command::Upload { target, paths: Some(paths) });
                }
            }
            Event::ImageDownloaded { result } => match result {
                Ok((path, _)) => self.notify(t!("imagery.downloaded", path = path.display().to_string())),
                Err(e) => self.notify_error(t!("imagery.download_failed", reason = e)),
            },
            other => tracing::error!("event not handled here: {other:?}"),
        }
    }
}
