//! Catalog searches, and previews fetched concurrently, cached on disk and decoded here.

use super::{Event, Worker};
use crate::api::CatalogQuery;
use std::sync::Arc;

/// How many previews are fetched at once.
pub(super) const PREVIEW_PARALLELISM: usize = 6;

impl Worker {
    pub(super) fn search_catalog(&self, query: CatalogQuery) {
        self.spawn_keyed(
            query,
            |c, q| async move { c.catalog_search(&q).await },
            |q, result| Event::CatalogResults { query: Box::new(q), result },
        );
    }

    /// Fetches (or reads from the disk cache) and decodes a preview image.
    pub(super) fn fetch_preview(&self, url: String) {
        let (client, sink, permits) = (self.client.clone(), self.sink.clone(), self.preview_permits.clone());
        tokio::spawn(async move {
            let result = async {
                let _permit = permits.acquire().await.map_err(|e| e.to_string())?;
                let cache = preview_cache_path(&url);
                let bytes = match cache.as_ref().map(std::fs::read) {
                    Some(Ok(bytes)) => bytes,
                    _ => {
                        let client = client.ok_or_else(|| "not signed in".to_owned())?;
                        let bytes = client.fetch_preview(&url).await.map_err(|e| crate::messages::error_text(&e))?;
                        if let Some(path) = &cache {
                            // A cache that cannot be written only costs a refetch later.
                            if let Err(e) = write_cache(path, &bytes) {
                                tracing::debug!("preview cache {}: {e}", path.display());
                            }
                        }
                        bytes
                    }
                };
                tokio::task::spawn_blocking(move || decode(&bytes)).await.map_err(|e| e.to_string())?
            }
            .await;
            sink.send(Event::Preview { url, result });
        });
    }
}

fn decode(bytes: &[u8]) -> Result<Arc<egui::ColorImage>, String> {
    let img = image::load_from_memory(bytes).map_err(|e| e.to_string())?.to_rgba8();
    let size = [img.width() as usize, img.height() as usize];
    Ok(Arc::new(egui::ColorImage::from_rgba_unmultiplied(size, img.as_raw())))
}

fn preview_cache_path(url: &str) -> Option<std::path::PathBuf> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    url.hash(&mut h);
    crate::platform::project_dirs().map(|d| d.cache_dir().join("previews").join(format!("{:016x}", h.finish())))
}

fn write_cache(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    crate::platform::credentials::write_private(path, bytes)
}
