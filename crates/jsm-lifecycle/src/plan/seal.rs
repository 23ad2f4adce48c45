//! The plan's content hash: sha256 of its canonical JSON with the hash field empty, so a plan edited after it
//! was made (or approved) is caught.

use sha2::{Digest, Sha256};

use super::Plan;
use crate::error::{Error, Result};

impl Plan {
    /// The hash of the plan's content as it is now.
    pub fn content_hash(&self) -> Result<String> {
        let mut unsealed = self.clone();
        unsealed.hash = String::new();
        let value = serde_json::to_value(&unsealed).map_err(Error::encode)?;
        let canonical = jsm_store::canonical_json(&value);
        Ok(hex(&Sha256::digest(canonical.as_bytes())))
    }

    /// Sets `hash` from the content.
    pub fn seal(mut self) -> Result<Self> {
        self.hash = self.content_hash()?;
        Ok(self)
    }

    /// Checks that `hash` matches the content; a mismatch means the plan was edited.
    pub fn check_seal(&self) -> Result<()> {
        let actual = self.content_hash()?;
        if actual == self.hash {
            Ok(())
        } else {
            Err(Error::HashMismatch {
                plan_id: self.id.clone(),
                recorded: self.hash.clone(),
                actual,
            })
        }
    }

    /// Parses a plan file, naming the JSON path of what does not fit, and checks its version and hash.
    pub fn from_json(text: &str, origin: &str) -> Result<Self> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let plan: Plan = serde_path_to_error::deserialize(de).map_err(|e| Error::BadPlanFile {
            origin: origin.to_string(),
            detail: format!("at {}: {}", e.path(), e.inner()),
        })?;
        if plan.version != super::PLAN_VERSION {
            return Err(Error::BadPlanFile {
                origin: origin.to_string(),
                detail: format!(
                    "version {} is not supported (this jsmctl reads version {})",
                    plan.version,
                    super::PLAN_VERSION
                ),
            });
        }
        plan.check_seal()?;
        Ok(plan)
    }

    /// The plan as pretty JSON with stable key order, as written to plan files.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(Error::encode)
    }
}

/// Lower-case hex of bytes.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
