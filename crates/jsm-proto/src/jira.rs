//! Jira platform REST v3 types for users, groups, application roles and server info.

mod group;
mod role;
mod user;

pub use group::{FoundGroup, FoundGroups, Group, GroupDetails, GroupName, NewGroup, PagedUsers};
pub use role::{ApplicationRole, ServerInfo};
pub use user::{AccountType, AddToGroup, AvatarUrls, NewUser, SimpleList, User, UserDetails};
