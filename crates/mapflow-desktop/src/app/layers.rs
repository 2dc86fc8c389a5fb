//! The map's layers as one ordered list: which exist now, their order, visibility and opacity.
//!
//! walkers draws tile layers (imagery) under every vector overlay, so the list has two groups:
//! vector layers over imagery layers. Each group keeps the order the user gave it.

use super::state::AppState;
use crate::api::ProcessingId;
use std::collections::HashMap;

/// One layer of the map.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LayerKey {
    /// The AOI being drawn or imported.
    Aoi,
    /// The AOIs of processings the user asked to see.
    ProcessingAois,
    /// Footprints of the selected mosaic's images.
    ImageFootprints,
    /// Footprints of the catalog search results.
    CatalogFootprints,
    /// A processing's result.
    Result(ProcessingId),
    /// The chosen provider's preview tiles.
    ProviderPreview,
    /// The imagery a processing ran on.
    ResultImagery(ProcessingId),
    /// The preview of the catalog scene shown on the map.
    CatalogPreview,
}

impl LayerKey {
    /// Whether the layer is tiles (drawn under every vector layer).
    pub fn is_imagery(&self) -> bool {
        matches!(self, Self::ProviderPreview | Self::ResultImagery(_) | Self::CatalogPreview)
    }
}

/// Visibility and opacity of a layer that has no style of its own (results keep theirs in
/// [`crate::results::ResultStyle`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerProps {
    pub visible: bool,
    pub opacity: f32,
}

impl Default for LayerProps {
    fn default() -> Self {
        Self { visible: true, opacity: 1.0 }
    }
}

/// The layers in drawing order, topmost first: vector layers, then imagery.
#[derive(Debug, Default)]
pub struct LayerList {
    order: Vec<LayerKey>,
    props: HashMap<LayerKey, LayerProps>,
}

impl LayerList {
    /// Makes the list hold exactly `present`: layers that went away are dropped, new ones go
    /// on top of their group, the rest keep the order the user gave them.
    pub fn sync(&mut self, present: &[LayerKey]) {
        if self.order.len() == present.len() && self.order.iter().all(|k| present.contains(k)) {
            return;
        }
        self.order.retain(|k| present.contains(k));
        for key in present {
            if self.order.contains(key) {
                continue;
            }
            let at = if key.is_imagery() {
                self.order.iter().position(LayerKey::is_imagery).unwrap_or(self.order.len())
            } else {
                0
            };
            self.order.insert(at, key.clone());
        }
        self.props.retain(|k, _| present.contains(k));
    }

    /// Topmost first.
    pub fn order(&self) -> &[LayerKey] {
        &self.order
    }

    pub fn props(&self, key: &LayerKey) -> LayerProps {
        self.props.get(key).copied().unwrap_or_default()
    }

    pub fn props_mut(&mut self, key: &LayerKey) -> &mut LayerProps {
        self.props.entry(key.clone()).or_default()
    }

    /// Moves the layer at `from` to `to` (indices into [`Self::order`]); a move across the
    /// vector/imagery boundary stops at the edge of the layer's own group.
    pub fn move_layer(&mut self, from: usize, to: usize) {
        let Some(key) = self.order.get(from).cloned() else { return };
        let group: Vec<usize> =
            (0..self.order.len()).filter(|&i| self.order[i].is_imagery() == key.is_imagery()).collect();
        let (Some(&first), Some(&last)) = (group.first(), group.last()) else { return };
        let to = to.clamp(first, last);
        let key = self.order.remove(from);
        self.order.insert(to, key);
    }

    /// Vector layers bottom first, as they are drawn.
    pub fn vectors_bottom_up(&self) -> impl Iterator<Item = &LayerKey> {
        self.order.iter().rev().filter(|k| !k.is_imagery())
    }

    /// Imagery layers bottom first, as they are drawn.
    pub fn imagery_bottom_up(&self) -> impl Iterator<Item = &LayerKey> {
        self.order.iter().rev().filter(|k| k.is_imagery())
    }
}

impl AppState {
    /// The layers that exist now; `provider_preview` says whether the user asked for the
    /// provider's preview.
    pub fn present_layers(&self, provider_preview: bool) -> Vec<LayerKey> {
        let mut keys = vec![LayerKey::Aoi];
        if !self.processing_aois.is_empty() {
            keys.push(LayerKey::ProcessingAois);
        }
        if self.imagery.selected.is_some() {
            keys.push(LayerKey::ImageFootprints);
        }
        if self.catalog.results.value().is_some_and(|p| !p.images.is_empty()) {
            keys.push(LayerKey::CatalogFootprints);
        }
        for (id, view) in &self.results {
            keys.push(LayerKey::Result(id.clone()));
            if view.raster_url.is_some() {
                keys.push(LayerKey::ResultImagery(id.clone()));
            }
        }
        if provider_preview && self.settings.form.source == super::form::SourceKind::Provider {
            keys.push(LayerKey::ProviderPreview);
        }
        if self.catalog.on_map.is_some() {
            keys.push(LayerKey::CatalogPreview);
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(id: &str) -> LayerKey {
        LayerKey::Result(ProcessingId(id.to_owned()))
    }

    #[test]
    fn new_layers_go_on_top_of_their_group() {
        let mut list = LayerList::default();
        list.sync(&[LayerKey::Aoi, LayerKey::ProviderPreview]);
        assert_eq!(list.order(), &[LayerKey::Aoi, LayerKey::ProviderPreview]);
        list.sync(&[LayerKey::Aoi, LayerKey::ProviderPreview, result("a"), LayerKey::CatalogPreview]);
        assert_eq!(list.order(), &[result("a"), LayerKey::Aoi, LayerKey::CatalogPreview, LayerKey::ProviderPreview]);
    }

    #[test]
    fn moves_stay_within_the_group_and_removed_layers_go() {
        let mut list = LayerList::default();
        list.sync(&[LayerKey::Aoi, result("a"), LayerKey::ProviderPreview]);
        // [a, Aoi, ProviderPreview]: the AOI cannot sink under the imagery.
        list.move_layer(1, 2);
        assert_eq!(list.order(), &[result("a"), LayerKey::Aoi, LayerKey::ProviderPreview]);
        list.move_layer(1, 0);
        assert_eq!(list.order(), &[LayerKey::Aoi, result("a"), LayerKey::ProviderPreview]);
        list.props_mut(&result("a")).opacity = 0.5;
        list.sync(&[LayerKey::Aoi, LayerKey::ProviderPreview]);
        assert_eq!(list.order(), &[LayerKey::Aoi, LayerKey::ProviderPreview]);
        assert_eq!(list.props(&result("a")), LayerProps::default(), "a removed layer forgets its props");
        let bottom_up: Vec<_> = list.vectors_bottom_up().cloned().collect();
        assert_eq!(bottom_up, vec![LayerKey::Aoi]);
    }
}
