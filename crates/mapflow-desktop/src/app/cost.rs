//! What a run's cost is made of: the model's blocks and the imagery, each a price per km²
//! times the area, plus whatever the server adds, so the lines on screen sum to its number.

use super::form::{ProcessingForm, SourceKind};
use super::guards;
use crate::api::{Provider, WorkflowDef};
use rust_i18n::t;

/// One line of the breakdown: what it is, how it was reckoned, and the credits.
#[derive(Debug, Clone, PartialEq)]
pub struct CostLine {
    pub label: String,
    /// "5 × 10.77 km²", or empty for the server's own part.
    pub detail: String,
    pub credits: f64,
}

/// The parts of `total` (the server's estimate) for the form over `area_km2`: the model's
/// required and enabled optional blocks, the imagery's price at the zoom, and, when those do
/// not reach the server's number, the rest as rounding (under one credit) or the server's
/// own charge. The lines always sum to `total`.
pub fn breakdown(
    form: &ProcessingForm,
    models: &[WorkflowDef],
    providers: &[Provider],
    search_providers: &[Provider],
    area_km2: f64,
    total: f64,
) -> Vec<CostLine> {
    let mut lines = Vec::new();
    let area = rust_i18n::t!("common.km2", n = format!("{area_km2:.2}")).into_owned();
    if let Some(model) = form.model(models) {
        for b in model.blocks.iter().filter(|b| !b.optional || form.enabled_blocks.contains(&b.name)) {
            let label = if b.display_name.is_empty() { b.name.clone() } else { b.display_name.clone() };
            lines.push(CostLine {
                label,
                detail: t!("cost.block_line", price = price_text(b.price), area = area).into_owned(),
                credits: b.price * area_km2,
            });
        }
    }
    let imagery = match form.source {
        SourceKind::Provider => {
            providers.iter().find(|p| p.name == form.provider).map(|p| (p, Some(form.provider_zoom)))
        }
        SourceKind::Catalog => search_providers
            .iter()
            .chain(providers)
            .find(|p| p.name == form.catalog.provider)
            .map(|p| (p, form.catalog.zoom)),
        SourceKind::MyImagery | SourceKind::Custom => None,
    };
    if let Some((provider, zoom)) = imagery {
        let price = guards::provider_price(provider, zoom);
        let label = match zoom {
            Some(z) => t!("cost.imagery_line", provider = provider.label(), zoom = z),
            None => t!("cost.imagery_line_nozoom", provider = provider.label()),
        };
        lines.push(CostLine {
            label: label.into_owned(),
            detail: t!("cost.block_line", price = price_text(price), area = area).into_owned(),
            credits: price * area_km2,
        });
    }
    let rest = total - lines.iter().map(|l| l.credits).sum::<f64>();
    if rest.abs() >= 0.005 {
        let label = if (0.0..1.0).contains(&rest) { t!("cost.rounding") } else { t!("cost.other") };
        lines.push(CostLine { label: label.into_owned(), detail: String::new(), credits: rest });
    }
    lines
}

/// A price without needless decimals: `5`, `0.5`, `1.25`.
pub fn price_text(price: f64) -> String {
    if price.fract() == 0.0 { format!("{price:.0}") } else { format!("{price:.2}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Block, ProviderPrice, WorkflowDefId};

    #[test]
    fn lines_sum_to_the_total_with_rounding_named() {
        let model = WorkflowDef {
            id: WorkflowDefId("m".into()),
            name: "Buildings".into(),
            blocks: vec![
                Block { name: "Segmentation".into(), price: 5.0, ..Block::default() },
                Block { name: "Classification".into(), price: 2.0, optional: true, ..Block::default() },
                Block { name: "Heights".into(), price: 3.0, optional: true, ..Block::default() },
            ],
            ..WorkflowDef::default()
        };
        let provider = Provider {
            name: "Mapbox".into(),
            price: vec![ProviderPrice { zoom: 17, price_sq_km: 0.5 }, ProviderPrice { zoom: 18, price_sq_km: 1.0 }],
            ..Provider::default()
        };
        let mut form = ProcessingForm { provider: "Mapbox".into(), provider_zoom: 18, ..ProcessingForm::default() };
        form.model = Some(model.id.clone());
        form.enabled_blocks = ["Classification".to_owned(), "Heights".to_owned()].into();
        let lines = breakdown(&form, std::slice::from_ref(&model), std::slice::from_ref(&provider), &[], 10.77, 119.0);
        let labels: Vec<&str> = lines.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(
            labels,
            ["Segmentation", "Classification", "Heights", "Imagery: Mapbox, zoom 18", "Rounded up to whole credits"]
        );
        let sum: f64 = lines.iter().map(|l| l.credits).sum();
        assert!((sum - 119.0).abs() < 1e-9);
        assert!((lines[3].credits - 10.77).abs() < 1e-9);

        form.enabled_blocks.clear();
        let lines = breakdown(&form, &[model], &[provider], &[], 10.0, 80.0);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(lines[2].label, "Set by the server, not in the listed prices");
        assert!((lines[2].credits - 20.0).abs() < 1e-9);
    }
}
