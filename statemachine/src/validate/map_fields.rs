//! Static checks of a Distributed Map's `ItemBatcher`: only in DISTRIBUTED mode, each limit
//! given once (as a value or a path), literal limits positive whole numbers with bytes at most
//! 256 KiB, paths only in JSONPath states and well formed.

use serde_json::Value;

use super::Validator;
use crate::asl::{MapState, QueryLanguage};
use crate::eval::item_batcher::MAX_BATCH_BYTES;

impl Validator {
    pub(super) fn item_batcher(&mut self, name: &str, m: &MapState, lang: QueryLanguage) {
        let Some(batcher) = &m.item_batcher else {
            return;
        };
        let mode = m
            .processor()
            .and_then(|p| p.processor_config.as_ref())
            .and_then(|c| c.mode.as_deref());
        if mode != Some("DISTRIBUTED") {
            self.error(
                name,
                Some("ItemBatcher"),
                "ItemBatcher is only valid in a Distributed Map: set \
                 ItemProcessor.ProcessorConfig.Mode to DISTRIBUTED or remove ItemBatcher"
                    .into(),
            );
        }
        let Value::Object(fields) = batcher else {
            self.error(
                name,
                Some("ItemBatcher"),
                "ItemBatcher must be an object".into(),
            );
            return;
        };
        for (field, max) in [
            ("MaxItemsPerBatch", None),
            ("MaxInputBytesPerBatch", Some(MAX_BATCH_BYTES)),
        ] {
            let path_field = format!("{field}Path");
            let at = |f: &str| format!("ItemBatcher.{f}");
            if fields.contains_key(field) && fields.contains_key(&path_field) {
                self.error(
                    name,
                    Some(&at(field)),
                    format!("set {field} or {path_field}, not both"),
                );
            }
            match fields.get(field) {
                Some(Value::String(s)) if lang == QueryLanguage::Jsonata && is_expression(s) => {}
                Some(v) => {
                    let n = v.as_u64().filter(|&n| n > 0);
                    match (n, max) {
                        (None, _) => self.error(
                            name,
                            Some(&at(field)),
                            format!("{field} must be a positive integer, not {v}"),
                        ),
                        (Some(n), Some(max)) if n > max as u64 => self.error(
                            name,
                            Some(&at(field)),
                            format!("{field} must be at most {max} (256 KiB), not {n}"),
                        ),
                        _ => {}
                    }
                }
                None => {}
            }
            match (fields.get(&path_field), lang) {
                (Some(_), QueryLanguage::Jsonata) => self.error(
                    name,
                    Some(&at(&path_field)),
                    format!(
                        "{path_field} is a JSONPath field; in JSONata set {field} to an expression"
                    ),
                ),
                (Some(Value::String(p)), QueryLanguage::JsonPath) => {
                    self.reference_path(name, &at(&path_field), p)
                }
                (Some(v), QueryLanguage::JsonPath) => self.error(
                    name,
                    Some(&at(&path_field)),
                    format!("{path_field} must be a string path, not {v}"),
                ),
                (None, _) => {}
            }
        }
    }
}

/// A JSONata `{% ... %}` string.
fn is_expression(s: &str) -> bool {
    let t = s.trim();
    t.starts_with("{%") && t.ends_with("%}")
}
