//! Rebuilds when a translation changes: the i18n macro embeds `locales/` at compile time.
fn main() {
    println!("cargo:rerun-if-changed=../../locales");
}
