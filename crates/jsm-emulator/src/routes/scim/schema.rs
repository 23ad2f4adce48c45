//! The SCIM schemas the directory serves (RFC 7643 §7, with Atlassian's subset of attributes): one table of
//! attribute definitions drives `/Schemas`, input validation and PATCH path resolution.

use serde_json::{Value, json};

use super::filter::AttrPath;

/// Core user schema URN.
pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Core group schema URN.
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// Enterprise user extension URN.
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Atlassian's extension URN (read-only `atlassianAccountId`).
pub const ATLASSIAN: &str = "urn:scim:schemas:extension:atlassian-external:1.0";

/// SCIM attribute types used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Boolean,
    Complex,
    Reference,
}

/// RFC 7643 mutability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
}

/// One attribute definition.
#[derive(Debug, Clone, Copy)]
pub struct Attr {
    pub name: &'static str,
    pub kind: Kind,
    pub multi: bool,
    pub required: bool,
    pub mutability: Mutability,
    pub case_exact: bool,
    pub unique: bool,
    pub canonical: &'static [&'static str],
    pub refs: &'static [&'static str],
    pub sub: &'static [Attr],
    pub description: &'static str,
}

impl Attr {
    const fn string(name: &'static str, description: &'static str) -> Self {
        Self {
            name,
            kind: Kind::String,
            multi: false,
            required: false,
            mutability: Mutability::ReadWrite,
            case_exact: false,
            unique: false,
            canonical: &[],
            refs: &[],
            sub: &[],
            description,
        }
    }

    const fn boolean(name: &'static str, description: &'static str) -> Self {
        Self {
            kind: Kind::Boolean,
            ..Self::string(name, description)
        }
    }

    const fn reference(name: &'static str, refs: &'static [&'static str]) -> Self {
        Self {
            kind: Kind::Reference,
            refs,
            mutability: Mutability::Immutable,
            ..Self::string(name, "The URI of the referenced resource.")
        }
    }

    const fn complex(name: &'static str, sub: &'static [Attr], description: &'static str) -> Self {
        Self {
            kind: Kind::Complex,
            sub,
            ..Self::string(name, description)
        }
    }

    const fn multi(mut self) -> Self {
        self.multi = true;
        self
    }

    const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    const fn mutability(mut self, m: Mutability) -> Self {
        self.mutability = m;
        self
    }

    const fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    const fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical = values;
        self
    }

    /// The sub-attribute with this name, ignoring case.
    pub fn sub_attr(&self, name: &str) -> Option<&'static Attr> {
        self.sub.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }

    fn to_json(self) -> Value {
        let mut v = json!({
            "name": self.name,
            "type": match self.kind {
                Kind::String => "string",
                Kind::Boolean => "boolean",
                Kind::Complex => "complex",
                Kind::Reference => "reference",
            },
            "multiValued": self.multi,
            "description": self.description,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": match self.mutability {
                Mutability::ReadOnly => "readOnly",
                Mutability::ReadWrite => "readWrite",
                Mutability::Immutable => "immutable",
            },
            "returned": "default",
            "uniqueness": if self.unique { "server" } else { "none" },
        });
        if !self.canonical.is_empty() {
            v["canonicalValues"] = json!(self.canonical);
        }
        if !self.refs.is_empty() {
            v["referenceTypes"] = json!(self.refs);
        }
        if !self.sub.is_empty() {
            v["subAttributes"] = Value::Array(self.sub.iter().map(|a| a.to_json()).collect());
        }
        v
    }
}

const NAME_PARTS: &[Attr] = &[
    Attr::string("formatted", "The full name, formatted for display."),
    Attr::string("familyName", "The family name."),
    Attr::string("givenName", "The given name."),
    Attr::string("middleName", "The middle names."),
    Attr::string("honorificPrefix", "The honorific prefix."),
    Attr::string("honorificSuffix", "The honorific suffix."),
];

const EMAIL_PARTS: &[Attr] = &[
    Attr::string("value", "Email address.").required(),
    Attr::string("type", "Type of email address.").canonical(&["work", "home", "other"]),
    Attr::boolean("primary", "Whether this is the primary address."),
];

const PHONE_PARTS: &[Attr] = &[
    Attr::string("value", "Phone number.").required(),
    Attr::string("type", "Type of phone number.")
        .canonical(&["work", "home", "mobile", "fax", "pager", "other"]),
    Attr::boolean("primary", "Whether this is the primary number."),
];

const USER_GROUP_PARTS: &[Attr] = &[
    Attr::string("value", "The id of the group.").mutability(Mutability::ReadOnly),
    Attr::reference("$ref", &["Group"]).mutability(Mutability::ReadOnly),
    Attr::string("display", "The group's name.").mutability(Mutability::ReadOnly),
    Attr::string("type", "Direct membership.")
        .canonical(&["direct"])
        .mutability(Mutability::ReadOnly),
];

/// Attributes of the core user schema.
pub const USER_ATTRS: &[Attr] = &[
    Attr::string(
        "userName",
        "Unique identifier of the user, usually the email address.",
    )
    .required()
    .unique(),
    Attr::complex("name", NAME_PARTS, "The components of the user's name."),
    Attr::string("displayName", "Name shown for the user."),
    Attr::string("nickName", "Casual name of the user."),
    Attr::string("title", "Job title."),
    Attr::string("preferredLanguage", "Preferred language, e.g. en-US."),
    Attr::string("department", "Department (Atlassian reads it here too)."),
    Attr::string(
        "organization",
        "Organization (Atlassian reads it here too).",
    ),
    Attr::string("timezone", "Time zone, e.g. America/Los_Angeles."),
    Attr::boolean(
        "active",
        "Whether the account is active; false deactivates it.",
    ),
    Attr::complex("emails", EMAIL_PARTS, "Email addresses; one is primary.")
        .multi()
        .required(),
    Attr::complex("phoneNumbers", PHONE_PARTS, "Phone numbers.").multi(),
    Attr::complex("groups", USER_GROUP_PARTS, "Groups the user belongs to.")
        .multi()
        .mutability(Mutability::ReadOnly),
];

/// Attributes of the enterprise extension Atlassian reads.
pub const ENTERPRISE_ATTRS: &[Attr] = &[
    Attr::string("organization", "Organization the user belongs to."),
    Attr::string("department", "Department the user belongs to."),
];

/// Attributes of Atlassian's extension.
pub const ATLASSIAN_ATTRS: &[Attr] =
    &[
        Attr::string("atlassianAccountId", "The linked Atlassian account.")
            .mutability(Mutability::ReadOnly),
    ];

const MEMBER_PARTS: &[Attr] = &[
    Attr::string("value", "The SCIM id of the member.").mutability(Mutability::Immutable),
    Attr::reference("$ref", &["User"]),
    Attr::string("type", "The type of the member.")
        .canonical(&["User"])
        .mutability(Mutability::Immutable),
    Attr::string(
        "display",
        "Name shown for the member (echoed as sent, else its userName).",
    ),
];

/// Attributes of the core group schema; groups cannot be renamed (Atlassian: delete and create again).
pub const GROUP_ATTRS: &[Attr] = &[
    Attr::string("displayName", "Name of the group; cannot be changed.")
        .required()
        .unique()
        .mutability(Mutability::Immutable),
    Attr::complex("members", MEMBER_PARTS, "Members of the group.").multi(),
];

/// `externalId`, a common attribute of every resource.
pub const EXTERNAL_ID: Attr = Attr {
    case_exact: true,
    ..Attr::string(
        "externalId",
        "Identifier of the resource in the provisioning client.",
    )
};

/// The resource a request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    User,
    Group,
}

/// Where a path points.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// An attribute: stored under `key`, inside the extension object `ext` when set.
    Attr {
        ext: Option<&'static str>,
        attr: &'static Attr,
    },
    /// A whole extension object.
    Extension(&'static str, &'static [Attr]),
}

/// Extensions of a resource: URN and attributes.
pub fn extensions(resource: Resource) -> &'static [(&'static str, &'static [Attr])] {
    match resource {
        Resource::User => &[(ENTERPRISE, ENTERPRISE_ATTRS), (ATLASSIAN, ATLASSIAN_ATTRS)],
        Resource::Group => &[],
    }
}

/// Core attributes of a resource.
pub fn core(resource: Resource) -> &'static [Attr] {
    match resource {
        Resource::User => USER_ATTRS,
        Resource::Group => GROUP_ATTRS,
    }
}

fn find(attrs: &'static [Attr], name: &str) -> Option<&'static Attr> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

/// Resolves a path (ignoring case) to its attribute, and the sub-attribute it names, if any.
pub fn resolve(
    resource: Resource,
    path: &AttrPath,
) -> Result<(Target, Option<&'static Attr>), String> {
    let unknown = || format!("'{}' is not an attribute of {resource:?}", path.short());
    if let Some(urn) = &path.urn {
        let full = format!("{urn}:{}", path.name);
        if let Some((ext, attrs)) = extensions(resource)
            .iter()
            .find(|(u, _)| u.eq_ignore_ascii_case(&full))
        {
            if path.sub.is_some() {
                return Err(unknown());
            }
            return Ok((Target::Extension(ext, attrs), None));
        }
        let core_urn = match resource {
            Resource::User => USER,
            Resource::Group => GROUP,
        };
        if !urn.eq_ignore_ascii_case(core_urn) {
            let (ext, attrs) = extensions(resource)
                .iter()
                .find(|(u, _)| u.eq_ignore_ascii_case(urn))
                .ok_or_else(|| format!("unknown schema {urn}"))?;
            let attr = find(attrs, &path.name).ok_or_else(unknown)?;
            return with_sub(
                Target::Attr {
                    ext: Some(ext),
                    attr,
                },
                attr,
                path,
                unknown,
            );
        }
    }
    let attr = if path.name.eq_ignore_ascii_case("externalId") {
        &EXTERNAL_ID
    } else {
        find(core(resource), &path.name).ok_or_else(unknown)?
    };
    with_sub(Target::Attr { ext: None, attr }, attr, path, unknown)
}

fn with_sub(
    target: Target,
    attr: &'static Attr,
    path: &AttrPath,
    unknown: impl Fn() -> String,
) -> Result<(Target, Option<&'static Attr>), String> {
    match &path.sub {
        None => Ok((target, None)),
        Some(sub) => Ok((target, Some(attr.sub_attr(sub).ok_or_else(unknown)?))),
    }
}

fn schema_doc(base: &str, id: &str, name: &str, description: &str, attrs: &[Attr]) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": id,
        "name": name,
        "description": description,
        "attributes": attrs.iter().map(|a| a.to_json()).collect::<Vec<_>>(),
        "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{id}") },
    })
}

/// Every schema document, keyed by URN.
pub fn schemas(base: &str) -> Vec<(&'static str, Value)> {
    vec![
        (
            USER,
            schema_doc(base, USER, "User", "User Account", USER_ATTRS),
        ),
        (
            GROUP,
            schema_doc(base, GROUP, "Group", "Group", GROUP_ATTRS),
        ),
        (
            ENTERPRISE,
            schema_doc(
                base,
                ENTERPRISE,
                "EnterpriseUser",
                "Enterprise User",
                ENTERPRISE_ATTRS,
            ),
        ),
        (
            ATLASSIAN,
            schema_doc(
                base,
                ATLASSIAN,
                "AtlassianExternal",
                "Atlassian account link",
                ATLASSIAN_ATTRS,
            ),
        ),
    ]
}

/// The two resource types, keyed by id.
pub fn resource_types(base: &str) -> Vec<(&'static str, Value)> {
    vec![
        (
            "User",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
                "id": "User",
                "name": "User",
                "endpoint": "/Users",
                "description": "User Account",
                "schema": USER,
                // Atlassian's extension is on every user and described at /Schemas, but not declared here: its
                // URN ends in a version ("…:1.0"), which RFC 7644's attrPath grammar cannot address as a
                // whole, and generic clients that walk extension paths break on it.
                "schemaExtensions": [{ "schema": ENTERPRISE, "required": false }],
                "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User") },
            }),
        ),
        (
            "Group",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
                "id": "Group",
                "name": "Group",
                "endpoint": "/Groups",
                "description": "Group",
                "schema": GROUP,
                "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group") },
            }),
        ),
    ]
}

/// What the directory supports (RFC 7644 §5).
pub fn service_provider_config(base: &str, max_results: u64) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://developer.atlassian.com/cloud/admin/user-provisioning/rest/intro/",
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": max_results },
        "changePassword": { "supported": false },
        "sort": { "supported": false },
        "etag": { "supported": false },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "The directory's API key, sent as 'Authorization: Bearer <key>'.",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": { "resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig") },
    })
}
