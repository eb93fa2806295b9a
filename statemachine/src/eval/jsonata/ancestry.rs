//! Parent (`%`) resolution while the tree is built: each `%` is a slot that walks back over
//! the steps of its path (and out into enclosing paths, predicates and blocks) until it reaches
//! the step whose context it names; that step then binds its context to the slot's label in
//! the tuple stream, and `%` reads the label.

use super::ast::{Builder, Kind, Node, SlotRef};
use super::JsonataError;

impl Builder {
    pub(super) fn resolve_ancestry(&mut self, path: &mut Node) -> Result<(), JsonataError> {
        let Kind::Path(steps) = &mut path.kind else {
            return Ok(());
        };
        let Some(last) = steps.last() else {
            return Ok(());
        };
        let mut seeking: Vec<SlotRef> = last.seeking_parent.clone();
        if let Kind::Parent(s) = &last.kind {
            seeking.push(s.clone());
        }
        let mut up = Vec::new();
        for slot in seeking {
            let mut index = steps.len() as isize - 2;
            while slot.borrow().level > 0 {
                if index < 0 {
                    up.push(slot.clone());
                    break;
                }
                let mut i = index as usize;
                index -= 1;
                // Contiguous steps that bind the focus are skipped together.
                while index >= 0
                    && steps[i].focus.is_some()
                    && steps[index as usize].focus.is_some()
                {
                    i = index as usize;
                    index -= 1;
                }
                self.seek_parent(&mut steps[i], slot.clone())?;
            }
        }
        path.seeking_parent.extend(up);
        Ok(())
    }

    pub(super) fn seek_parent(
        &mut self,
        node: &mut Node,
        slot: SlotRef,
    ) -> Result<(), JsonataError> {
        match &mut node.kind {
            Kind::Name(_) | Kind::Wildcard => {
                let level = {
                    let mut s = slot.borrow_mut();
                    s.level -= 1;
                    s.level
                };
                if level == 0 {
                    if let Some(existing) = &node.ancestor {
                        // Reuse the label already bound at this step.
                        let label = existing.borrow().label.clone();
                        let index = slot.borrow().index;
                        if let Some(s) = self.ancestry.get(index) {
                            s.borrow_mut().label = label;
                        }
                    }
                    node.ancestor = Some(slot);
                    node.tuple = true;
                }
            }
            Kind::Parent(_) => {
                slot.borrow_mut().level += 1;
            }
            Kind::Block(items) => {
                if let Some(last) = items.last_mut() {
                    node.tuple = true;
                    self.seek_parent(last, slot)?;
                }
            }
            Kind::Path(steps) => {
                node.tuple = true;
                let mut index = steps.len() as isize - 1;
                if index >= 0 {
                    self.seek_parent(&mut steps[index as usize], slot.clone())?;
                    index -= 1;
                }
                while slot.borrow().level > 0 && index >= 0 {
                    self.seek_parent(&mut steps[index as usize], slot.clone())?;
                    index -= 1;
                }
            }
            _ => {
                return Err(JsonataError::at(
                    "S0217",
                    node.pos,
                    "The object representing the 'parent' cannot be derived from this expression",
                ));
            }
        }
        Ok(())
    }
}
