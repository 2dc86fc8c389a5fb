//! The workbench's arrangement of panes: which panes exist, the default tiling, and the check
//! that a restored arrangement still holds every pane exactly once.

use egui_tiles::{Container, Linear, LinearDir, Tile, Tiles, Tree};
use serde::{Deserialize, Serialize};

/// One pane of the workbench. The map is the only one that cannot be closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Pane {
    Map,
    Projects,
    Layers,
    NewProcessing,
    Catalog,
    Imagery,
    Processings,
    CatalogResults,
    Details,
    Identify,
    Attributes,
    History,
    /// Planned searches (search templates) of the open project.
    Templates,
}

impl Pane {
    /// Every pane, in the order the View menu lists them.
    pub const ALL: [Pane; 13] = [
        Pane::Map,
        Pane::Projects,
        Pane::Layers,
        Pane::NewProcessing,
        Pane::Catalog,
        Pane::Imagery,
        Pane::Processings,
        Pane::CatalogResults,
        Pane::Details,
        Pane::Identify,
        Pane::Attributes,
        Pane::History,
        Pane::Templates,
    ];

    /// The translation key of the pane's title.
    pub fn title_key(self) -> &'static str {
        match self {
            Pane::Map => "panes.map",
            Pane::Projects => "panes.projects",
            Pane::Layers => "panes.layers",
            Pane::NewProcessing => "panes.new_processing",
            Pane::Catalog => "panes.catalog",
            Pane::Imagery => "panes.imagery",
            Pane::Processings => "panes.processings",
            Pane::CatalogResults => "panes.catalog_results",
            Pane::Details => "panes.details",
            Pane::Identify => "panes.identify",
            Pane::Attributes => "panes.attributes",
            Pane::History => "panes.history",
            Pane::Templates => "panes.templates",
        }
    }
}

/// The id egui keeps the tree's interaction state under.
const TREE_ID: &str = "workbench";

/// The default arrangement, map-first at any window size:
///
/// ```text
/// ┌ Projects ┐┌──────── Map ────────┐┌ New processing | Catalog | My imagery ┐
/// │          ││                     ││                                       │
/// ├ Layers ──┤├ Processings | Planned | Scenes | Attributes | History ┤├ Details | Feature ┤
/// └──────────┘└─────────────────────┘└───────────────────────────────────────┘
/// ```
pub fn default_layout() -> Tree<Pane> {
    let mut tiles = Tiles::default();
    let pane = |tiles: &mut Tiles<Pane>, p| tiles.insert_pane(p);

    let projects = pane(&mut tiles, Pane::Projects);
    let layers = pane(&mut tiles, Pane::Layers);
    let left = vertical(&mut tiles, &[(projects, 1.0), (layers, 1.0)]);

    let map = pane(&mut tiles, Pane::Map);
    let processings = pane(&mut tiles, Pane::Processings);
    let scenes = pane(&mut tiles, Pane::CatalogResults);
    let attributes = pane(&mut tiles, Pane::Attributes);
    let history = pane(&mut tiles, Pane::History);
    let templates = pane(&mut tiles, Pane::Templates);
    let bottom = tiles.insert_tab_tile(vec![processings, templates, scenes, attributes, history]);
    let centre = vertical(&mut tiles, &[(map, 2.3), (bottom, 1.0)]);

    let form = pane(&mut tiles, Pane::NewProcessing);
    let catalog = pane(&mut tiles, Pane::Catalog);
    let imagery = pane(&mut tiles, Pane::Imagery);
    let forms = tiles.insert_tab_tile(vec![form, catalog, imagery]);
    let details = pane(&mut tiles, Pane::Details);
    let identify = pane(&mut tiles, Pane::Identify);
    let info = tiles.insert_tab_tile(vec![details, identify]);
    let right = vertical(&mut tiles, &[(forms, 1.7), (info, 1.0)]);

    let mut root = Linear::new(LinearDir::Horizontal, vec![left, centre, right]);
    root.shares.set_share(left, 1.1);
    root.shares.set_share(centre, 2.35);
    root.shares.set_share(right, 1.35);
    let root = tiles.insert_container(Container::Linear(root));
    Tree::new(egui::Id::unique(TREE_ID), root, tiles)
}

fn vertical(tiles: &mut Tiles<Pane>, children: &[(egui_tiles::TileId, f32)]) -> egui_tiles::TileId {
    let mut linear = Linear::new(LinearDir::Vertical, children.iter().map(|(id, _)| *id).collect());
    for (id, share) in children {
        linear.shares.set_share(*id, *share);
    }
    tiles.insert_container(Container::Linear(linear))
}

/// A restored arrangement if it still holds every pane exactly once (an older version may
/// lack a pane added since), else the default one.
pub fn restore(saved: Option<Tree<Pane>>) -> Tree<Pane> {
    match saved {
        Some(tree) if is_complete(&tree) => tree,
        _ => default_layout(),
    }
}

/// Whether every pane appears exactly once and the tree has a root.
pub fn is_complete(tree: &Tree<Pane>) -> bool {
    if tree.root().is_none() {
        return false;
    }
    let panes: Vec<Pane> = tree
        .tiles
        .tiles()
        .filter_map(|t| match t {
            Tile::Pane(p) => Some(*p),
            Tile::Container(_) => None,
        })
        .collect();
    Pane::ALL.iter().all(|p| panes.iter().filter(|q| *q == p).count() == 1) && panes.len() == Pane::ALL.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_layout_holds_every_pane_once() {
        assert!(is_complete(&default_layout()));
    }

    #[test]
    fn an_incomplete_saved_layout_is_replaced_by_the_default() {
        let mut tree = default_layout();
        let identify = tree.tiles.find_pane(&Pane::Identify).unwrap();
        tree.remove_recursively(identify);
        assert!(!is_complete(&tree));
        let restored = restore(Some(tree));
        assert!(restored.tiles.find_pane(&Pane::Identify).is_some());
        assert!(restore(None).tiles.find_pane(&Pane::Map).is_some());
    }

    #[test]
    fn the_layout_survives_serde() {
        let tree = default_layout();
        let json = serde_json::to_string(&tree).unwrap();
        let back: Tree<Pane> = serde_json::from_str(&json).unwrap();
        assert!(is_complete(&back));
    }
}
