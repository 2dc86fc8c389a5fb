//! My imagery: mosaics, images, storage, and the upload queue (checked locally first).

use super::{Event, Worker};
use crate::api::{ApiError, ErrorKind, MosaicId};
use std::path::PathBuf;
use std::time::Instant;

/// Where an upload goes: an existing mosaic, or a new one made with the first file.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadTarget {
    Mosaic(MosaicId),
    NewMosaic { name: String, tags: Vec<String> },
}

/// What happened to one file of the queue.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadStatus {
    Checking,
    Uploading {
        sent: u64,
        total: u64,
        bytes_per_sec: f64,
    },
    Done,
    /// Refused by the local check or the server; the message is in the user's language.
    Failed(String),
    Cancelled,
    /// Not sent because an earlier file stopped the queue.
    Skipped,
}

impl Worker {
    /// Uploads `paths` one by one. Each file is checked before a byte is sent; a 401, 403 or
    /// 404 stops the queue, other failures mark the file and go on.
    pub(super) fn upload_queue(&mut self, target: UploadTarget, paths: Vec<PathBuf>) {
        let Some(client) = self.client.clone() else { return };
        let sink = self.sink.clone();
        let cancel = tokio_util::sync::CancellationToken::new();
        self.upload_cancel = Some(cancel.clone());
        tokio::spawn(async move {
            let mut target = target;
            let mut stopped = false;
            for path in paths {
                let report = |status: UploadStatus| Event::Upload { path: path.clone(), status };
                if stopped || cancel.is_cancelled() {
                    sink.send(report(if cancel.is_cancelled() {
                        UploadStatus::Cancelled
                    } else {
                        UploadStatus::Skipped
                    }));
                    continue;
                }
                sink.send(report(UploadStatus::Checking));
                // The limits and the mosaic's images as they are now, for the local check.
                let memory = client.memory().await;
                let existing = match &target {
                    UploadTarget::Mosaic(id) => client.mosaic_images(id).await.unwrap_or_default(),
                    UploadTarget::NewMosaic { .. } => Vec::new(),
                };
                let checked = match memory {
                    Ok(memory) => {
                        let p = path.clone();
                        tokio::task::spawn_blocking(move || crate::imagery::check::check_upload(&p, &memory, &existing))
                            .await
                            .map_err(|e| e.to_string())
                            .and_then(|r| r.map_err(|e| e.message()))
                    }
                    Err(e) => Err(crate::messages::error_text(&e)),
                };
                if let Err(message) = checked {
                    sink.send(report(UploadStatus::Failed(message)));
                    continue;
                }
                let total = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                let started = Instant::now();
                let progress_sink = sink.clone();
                let progress_path = path.clone();
                let progress = move |sent: u64| {
                    let secs = started.elapsed().as_secs_f64().max(1e-3);
                    progress_sink.send(Event::Upload {
                        path: progress_path.clone(),
                        status: UploadStatus::Uploading { sent, total, bytes_per_sec: sent as f64 / secs },
                    });
                };
                let result = match &target {
                    UploadTarget::Mosaic(id) => client.upload_image(id, &path, progress, cancel.clone()).await,
                    UploadTarget::NewMosaic { name, tags } => {
                        client.create_mosaic_and_upload(name, tags, &path, progress, cancel.clone()).await
                    }
                };
                match result {
                    Ok(answer) => {
                        // Later files go into the mosaic the first one created.
                        if matches!(target, UploadTarget::NewMosaic { .. }) && !answer.mosaic_id.0.is_empty() {
                            target = UploadTarget::Mosaic(answer.mosaic_id.clone());
                        }
                        sink.send(report(UploadStatus::Done));
                    }
                    Err(crate::api::UploadError::Cancelled) => sink.send(report(UploadStatus::Cancelled)),
                    Err(crate::api::UploadError::Api(e)) => {
                        stopped = stops_queue(&e);
                        sink.send(report(UploadStatus::Failed(crate::messages::error_text(&e))));
                    }
                }
            }
            sink.send(Event::UploadsFinished);
        });
    }

    /// Streams an image's file to `path` (or one the user picks), from its download link.
    pub(super) fn download_image(&self, id: crate::api::ImageId, filename: String, path: Option<PathBuf>) {
        let Some(client) = self.client.clone() else { return };
        let (sink, dialogs) = (self.sink.clone(), self.dialogs.clone());
        tokio::spawn(async move {
            let link = match client.image_download(&id).await {
                Ok(link) => link,
                Err(e) => {
                    use crate::api::ImageDownloadError as D;
                    let reason = match &e {
                        D::NoAccess(_) => rust_i18n::t!("imagery.dl_no_access").into_owned(),
                        D::NotDownloadable(_) => rust_i18n::t!("imagery.dl_not_allowed").into_owned(),
                        D::NotReady(_) => rust_i18n::t!("imagery.dl_not_ready").into_owned(),
                        D::Api(api) => crate::messages::error_text(api),
                    };
                    return sink.send(Event::ImageDownloaded { result: Err(reason) });
                }
            };
            let filename = if link.filename.is_empty() { filename } else { link.filename.clone() };
            let purpose = super::files::FilePurpose::DownloadImage { id: id.clone(), filename };
            let Some(path) = dialogs.path(&sink, path, purpose).await else { return };
            let result = client
                .download_to(&link.download_url, &path)
                .await
                .map(|n| (path, n))
                .map_err(|e| crate::messages::error_text(&e));
            sink.send(Event::ImageDownloaded { result });
        });
    }
}

/// 401, 403 and 404 mean the next files would fail the same way.
fn stops_queue(e: &ApiError) -> bool {
    matches!(e.kind, ErrorKind::Unauthorized | ErrorKind::Forbidden | ErrorKind::NotFound)
        || matches!(e.status, Some(401 | 403 | 404))
}
