//! Group membership resolution shared by the directory sources: which groups, direct or nested, each user is in.

use std::collections::{BTreeMap, HashMap, HashSet};

/// One group as a directory lists it: its key (SCIM id, normalized DN), its name, and its members' keys.
pub(crate) struct GroupNode {
    pub key: String,
    pub name: String,
    pub members: Vec<String>,
}

/// Maps each member key that is not itself a group to the names of the groups it is in; with `nested`, a member
/// of a group inside group G is in G too. Cycles are cut; names come back sorted and without repeats.
pub(crate) fn resolve(groups: &[GroupNode], nested: bool) -> HashMap<String, Vec<String>> {
    let by_key: HashMap<&str, &GroupNode> = groups.iter().map(|g| (g.key.as_str(), g)).collect();
    let mut out: HashMap<String, BTreeMap<String, ()>> = HashMap::new();
    for group in groups {
        // Depth-first through nested groups, each group at most once per outer group.
        let mut stack = vec![group];
        let mut visited: HashSet<&str> = HashSet::new();
        while let Some(g) = stack.pop() {
            if !visited.insert(g.key.as_str()) {
                continue;
            }
            for member in &g.members {
                match by_key.get(member.as_str()) {
                    Some(inner) => {
                        if nested {
                            stack.push(inner);
                        }
                    }
                    None => {
                        out.entry(member.clone())
                            .or_default()
                            .insert(group.name.clone(), ());
                    }
                }
            }
        }
    }
    out.into_iter()
        .map(|(k, names)| (k, names.into_keys().collect()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(key: &str, members: &[&str]) -> GroupNode {
        GroupNode {
            key: key.into(),
            name: key.to_uppercase(),
            members: members.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn nested_groups_and_cycles() {
        let groups = vec![
            node("a", &["u1", "b"]),
            node("b", &["u2", "c"]),
            node("c", &["u3", "a"]),
        ];
        let flat = resolve(&groups, true);
        assert_eq!(flat["u1"], vec!["A", "B", "C"]);
        assert_eq!(flat["u3"], vec!["A", "B", "C"]);
        let direct = resolve(&groups, false);
        assert_eq!(direct["u1"], vec!["A"]);
        assert_eq!(direct["u2"], vec!["B"]);
        assert!(!direct.contains_key("b"));
    }
}
