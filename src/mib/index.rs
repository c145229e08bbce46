//! The precomputed lookup structures: every named node of the loaded MIBs,
//! a name map for `name -> OID` and an OID trie for `OID -> longest named
//! prefix`. Pure data; it must not parse MIB text or touch files.
use std::collections::HashMap;

/// What a named OID is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// An OBJECT IDENTIFIER / MODULE-IDENTITY / OBJECT-IDENTITY registration.
    Node,
    Scalar,
    Table,
    Row,
    Column,
    Notification,
    /// Conformance and everything else.
    Other,
}

/// The wire-level base type behind an object's SYNTAX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseSyntax {
    Integer32,
    Unsigned32,
    Counter32,
    Counter64,
    Gauge32,
    TimeTicks,
    IpAddress,
    OctetString,
    ObjectIdentifier,
    Bits,
    Opaque,
    Sequence,
    Unknown,
}

/// MAX-ACCESS of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    NotAccessible,
    AccessibleForNotify,
    ReadOnly,
    ReadWrite,
    ReadCreate,
    WriteOnly,
    Unknown,
}

/// How one index component is laid out in an instance suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexEncoding {
    /// One sub-identifier.
    Integer,
    /// Exactly `n` sub-identifiers, one per octet (e.g. MacAddress: 6).
    FixedOctets(usize),
    /// A length sub-identifier, then that many (octets or arcs).
    LengthPrefixed,
    /// The rest of the suffix (IMPLIED, last component only).
    Implied,
    /// Four sub-identifiers.
    IpAddress,
    Unknown,
}

/// One component of a row's INDEX clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPart {
    /// Name of the index object, e.g. `ifIndex`.
    pub name: String,
    pub base: BaseSyntax,
    pub encoding: IndexEncoding,
}

/// Metadata of an OBJECT-TYPE, enough to format values and decode indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// The SYNTAX type name as written (`Counter64`, `InterfaceIndex`,
    /// `DisplayString`, or `INTEGER` for an inline enumeration).
    pub type_name: String,
    pub base: BaseSyntax,
    pub access: Access,
    /// For rows, columns and tables: the effective INDEX (AUGMENTS followed).
    pub indexes: Vec<IndexPart>,
    /// Named numbers of an enumeration (`up(1)`), empty otherwise.
    pub enums: Vec<(i64, String)>,
    /// Named bits of a BITS syntax, empty otherwise.
    pub bits: Vec<(i64, String)>,
    pub display_hint: String,
    pub units: String,
}

/// One named OID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MibNode {
    pub module: String,
    pub name: String,
    pub oid: Vec<u32>,
    pub kind: NodeKind,
    /// Present for OBJECT-TYPE definitions.
    pub object: Option<ObjectMeta>,
}

impl MibNode {
    /// `MODULE::name`.
    pub fn qualified_name(&self) -> String {
        format!("{}::{}", self.module, self.name)
    }
}

/// Trie over OID arcs; each trie node may point at a [`MibNode`].
#[derive(Debug, Default, Clone)]
struct TrieNode {
    /// Sorted by arc, so lookups are a binary search.
    children: Vec<(u32, u32)>,
    entry: Option<u32>,
}

/// All named nodes with their lookup structures.
#[derive(Debug, Default, Clone)]
pub struct MibIndex {
    nodes: Vec<MibNode>,
    /// `name` -> indexes into `nodes` (several modules may define a name).
    by_name: HashMap<String, Vec<u32>>,
    /// `(module, name)` -> index into `nodes`, including names a module
    /// defines but does not own in the tree (e.g. SMIv1 duplicates).
    by_qualified: HashMap<(String, String), u32>,
    modules: HashMap<String, ()>,
    trie: Vec<TrieNode>,
}

impl MibIndex {
    pub fn new() -> Self {
        MibIndex {
            trie: vec![TrieNode::default()],
            ..Default::default()
        }
    }

    /// Adds the owner of an OID: it becomes the answer for that OID in the
    /// trie (the first owner added wins) and is findable by its name.
    pub fn insert_owner(&mut self, node: MibNode) {
        let key = (node.module.clone(), node.name.clone());
        if self.by_qualified.contains_key(&key) {
            return;
        }
        let id = self.nodes.len() as u32;
        let oid = node.oid.clone();
        self.modules.insert(node.module.clone(), ());
        self.by_name.entry(node.name.clone()).or_default().push(id);
        self.by_qualified.insert(key, id);
        self.nodes.push(node);
        let slot = self.trie_slot(&oid);
        if self.trie[slot].entry.is_none() {
            self.trie[slot].entry = Some(id);
        }
    }

    /// Adds a `(module, name)` that does not own its OID in the tree: it is
    /// findable by name but never the answer for an OID.
    pub fn insert_alias(&mut self, node: MibNode) {
        let key = (node.module.clone(), node.name.clone());
        if self.by_qualified.contains_key(&key) {
            return;
        }
        let id = self.nodes.len() as u32;
        self.modules.insert(node.module.clone(), ());
        self.by_name.entry(node.name.clone()).or_default().push(id);
        self.by_qualified.insert(key, id);
        self.nodes.push(node);
    }

    fn trie_slot(&mut self, oid: &[u32]) -> usize {
        let mut at = 0usize;
        for &arc in oid {
            let children = &self.trie[at].children;
            at = match children.binary_search_by_key(&arc, |c| c.0) {
                Ok(i) => children[i].1 as usize,
                Err(i) => {
                    let new = self.trie.len();
                    self.trie[at].children.insert(i, (arc, new as u32));
                    self.trie.push(TrieNode::default());
                    new
                }
            };
        }
        at
    }

    /// Records a module that may define no named OIDs (e.g. only TCs).
    pub fn add_module(&mut self, module: &str) {
        self.modules.insert(module.to_string(), ());
    }

    pub fn has_module(&self, module: &str) -> bool {
        self.modules.contains_key(module)
    }

    pub fn get_qualified(&self, module: &str, name: &str) -> Option<&MibNode> {
        self.by_qualified
            .get(&(module.to_string(), name.to_string()))
            .map(|&i| &self.nodes[i as usize])
    }

    /// Every node registered under `name` (one per defining module).
    pub fn get_by_name(&self, name: &str) -> impl Iterator<Item = &MibNode> {
        self.by_name
            .get(name)
            .into_iter()
            .flatten()
            .map(|&i| &self.nodes[i as usize])
    }

    /// The named node with the longest OID that is a prefix of `oid`, and the
    /// length of that prefix.
    pub fn longest_prefix(&self, oid: &[u32]) -> Option<(&MibNode, usize)> {
        let mut at = 0usize;
        let mut best = None;
        for (depth, &arc) in oid.iter().enumerate() {
            let children = &self.trie[at].children;
            match children.binary_search_by_key(&arc, |c| c.0) {
                Ok(i) => at = children[i].1 as usize,
                Err(_) => break,
            }
            if let Some(id) = self.trie[at].entry {
                best = Some((id, depth + 1));
            }
        }
        best.map(|(id, len)| (&self.nodes[id as usize], len))
    }

    /// Every node, owners and aliases, in insertion order.
    pub fn nodes(&self) -> &[MibNode] {
        &self.nodes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(module: &str, name: &str, oid: &[u32]) -> MibNode {
        MibNode {
            module: module.into(),
            name: name.into(),
            oid: oid.to_vec(),
            kind: NodeKind::Node,
            object: None,
        }
    }

    #[test]
    fn longest_prefix_picks_deepest_named_node() {
        let mut ix = MibIndex::new();
        ix.insert_owner(node("M", "a", &[1, 3]));
        ix.insert_owner(node("M", "b", &[1, 3, 6, 1]));
        let (n, len) = ix.longest_prefix(&[1, 3, 6, 1, 9, 9]).unwrap();
        assert_eq!((n.name.as_str(), len), ("b", 4));
        let (n, len) = ix.longest_prefix(&[1, 3, 6]).unwrap();
        assert_eq!((n.name.as_str(), len), ("a", 2));
        assert!(ix.longest_prefix(&[2, 3]).is_none());
    }

    #[test]
    fn first_owner_of_an_oid_wins_and_aliases_do_not_own() {
        let mut ix = MibIndex::new();
        ix.insert_owner(node("A", "x", &[1, 3]));
        ix.insert_owner(node("B", "y", &[1, 3]));
        ix.insert_alias(node("C", "z", &[1, 3]));
        assert_eq!(ix.longest_prefix(&[1, 3]).unwrap().0.name, "x");
        assert_eq!(ix.get_qualified("C", "z").unwrap().oid, vec![1, 3]);
        assert_eq!(ix.get_by_name("z").count(), 1);
    }
}
