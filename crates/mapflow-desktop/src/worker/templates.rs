//! Planned searches (search templates) in the worker: one command and one event for every
//! template call, keyed by the template (or project) they are about.

use super::{Event, Worker};
use crate::api::{
    AoiFeature, AoisAdded, AoisDeleted, ApiError, Processing, ProjectId, Template, TemplateAoiInput, TemplateAoiUpdate,
    TemplateCreate, TemplateId, TemplateImagesPage, TemplateImagesQuery, TemplateRun, TemplateWithResults,
};

/// The largest page of found images the pane asks for.
pub const TEMPLATE_IMAGES_PAGE: i64 = 200;

/// A planned-search intent.
#[derive(Debug, Clone)]
pub enum TemplateCommand {
    /// The project's templates, short (the poll).
    List {
        project: ProjectId,
    },
    /// One template in full (its AOIs and their processings).
    Open {
        id: TemplateId,
    },
    /// The first page of what it found.
    Images {
        id: TemplateId,
    },
    Create {
        create: Box<TemplateCreate>,
    },
    Pause {
        id: TemplateId,
    },
    Resume {
        id: TemplateId,
    },
    Delete {
        id: TemplateId,
    },
    AddAoi {
        id: TemplateId,
        aoi: TemplateAoiInput,
    },
    RenameAoi {
        id: TemplateId,
        aoi: String,
        name: String,
    },
    DeleteAoi {
        id: TemplateId,
        aoi: String,
    },
    Seen {
        id: TemplateId,
        image: String,
    },
    SeenAll {
        id: TemplateId,
    },
    Run {
        id: TemplateId,
        run: Box<TemplateRun>,
    },
}

/// What a change to a template did, for the message and the reload after it.
#[derive(Debug, Clone)]
pub enum TemplateChange {
    Paused(TemplateWithResults),
    Resumed(TemplateWithResults),
    Deleted,
    AoiAdded(AoisAdded),
    AoiRenamed(Box<AoiFeature>),
    AoiDeleted(AoisDeleted),
    Seen(String),
    SeenAll,
    Started(Box<Processing>),
}

/// A planned-search answer.
#[derive(Debug, Clone)]
pub enum TemplateEvent {
    Listed {
        project: ProjectId,
        result: Result<Vec<Template>, ApiError>,
    },
    /// The template in full, and the processings started from it.
    Opened {
        id: TemplateId,
        result: Result<(TemplateWithResults, Vec<Processing>), ApiError>,
    },
    Images {
        id: TemplateId,
        result: Result<TemplateImagesPage, ApiError>,
    },
    Created {
        name: String,
        result: Result<TemplateWithResults, ApiError>,
    },
    Changed {
        id: TemplateId,
        result: Result<TemplateChange, ApiError>,
    },
}

impl Worker {
    pub(super) fn templates(&self, command: TemplateCommand) {
        use TemplateCommand as C;
        let changed = |id: TemplateId, result| Event::Templates(TemplateEvent::Changed { id, result });
        match command {
            C::List { project } => self.spawn_keyed(
                project,
                |c, p| async move { c.project_templates(&p).await },
                |project, result| Event::Templates(TemplateEvent::Listed { project, result }),
            ),
            C::Open { id } => self.spawn_keyed(
                id,
                |c, id| async move {
                    let (template, processings) = tokio::join!(c.template(&id), c.template_processings(&id));
                    Ok((template?, processings?))
                },
                |id, result| Event::Templates(TemplateEvent::Opened { id, result }),
            ),
            C::Images { id } => self.spawn_keyed(
                id,
                |c, id| async move { c.template_images(&id, &TemplateImagesQuery::page(TEMPLATE_IMAGES_PAGE, 0)).await },
                |id, result| Event::Templates(TemplateEvent::Images { id, result }),
            ),
            C::Create { create } => self.spawn_keyed(
                create.name.clone(),
                move |c, _| async move { c.create_template(&create).await },
                |name, result| Event::Templates(TemplateEvent::Created { name, result }),
            ),
            C::Pause { id } => self.spawn_keyed(
                id,
                |c, id| async move { c.pause_template(&id).await.map(TemplateChange::Paused) },
                changed,
            ),
            C::Resume { id } => self.spawn_keyed(
                id,
                |c, id| async move { c.resume_template(&id).await.map(TemplateChange::Resumed) },
                changed,
            ),
            C::Delete { id } => self.spawn_keyed(
                id,
                |c, id| async move { c.delete_template(&id).await.map(|()| TemplateChange::Deleted) },
                changed,
            ),
            C::AddAoi { id, aoi } => self.spawn_keyed(
                id,
                move |c, id| async move { c.add_template_aois(&id, &[aoi]).await.map(TemplateChange::AoiAdded) },
                changed,
            ),
            C::RenameAoi { id, aoi, name } => self.spawn_keyed(
                id,
                move |c, id| async move {
                    let update = TemplateAoiUpdate { name: Some(name), geometry: None };
                    c.update_template_aoi(&id, &aoi, &update).await.map(|f| TemplateChange::AoiRenamed(Box::new(f)))
                },
                changed,
            ),
            C::DeleteAoi { id, aoi } => self.spawn_keyed(
                id,
                move |c, id| async move { c.delete_template_aois(&id, &[aoi]).await.map(TemplateChange::AoiDeleted) },
                changed,
            ),
            C::Seen { id, image } => self.spawn_keyed(
                id,
                move |c, id| async move {
                    c.mark_template_image_seen(&id, &image).await.map(|()| TemplateChange::Seen(image))
                },
                changed,
            ),
            C::SeenAll { id } => self.spawn_keyed(
                id,
                |c, id| async move { c.mark_all_template_images_seen(&id).await.map(|()| TemplateChange::SeenAll) },
                changed,
            ),
            C::Run { id, run } => self.spawn_keyed(
                id,
                move |c, id| async move { c.run_template(&id, &run).await.map(|p| TemplateChange::Started(Box::new(p))) },
                changed,
            ),
        }
    }
}
