//! The domain vocabulary: roles, groups and their states, interface status,
//! software versions and configuration spaces. Every room uses these words; the
//! codec ([`crate::wire`]) gives each its one-byte code.

use core::fmt;
/// Declares a C-like enum with its one-byte wire code and the name the appliance prints.
macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $code:expr => $text:expr),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
        pub enum $name { $($(#[$vm])* $var = $code),+ }
        impl $name {
            /// Every value, in code order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            /// The one-byte wire code.
            pub const fn code(self) -> u8 { self as u8 }
            /// The value for a wire code, if there is one.
            pub const fn from_code(code: u8) -> Option<$name> {
                match code { $($code => Some($name::$var),)+ _ => None }
            }
            /// The name the appliance prints.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$var => $text),+ }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}
pub(crate) use code_enum;

code_enum!(
    /// A unit's failover role (`failover lan unit primary|secondary`).
    Role {
        Primary = 1 => "Primary",
        Secondary = 2 => "Secondary",
    }
);

impl Role {
    /// The other unit's role.
    pub const fn peer(self) -> Role {
        match self {
            Role::Primary => Role::Secondary,
            Role::Secondary => Role::Primary,
        }
    }
    /// Lower-case name, as used in configuration and scenario files.
    pub const fn as_lower(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Secondary => "secondary",
        }
    }
}

code_enum!(
    /// A failover group: there are exactly two.
    Group {
        One = 1 => "1",
        Two = 2 => "2",
    }
);

impl Group {
    /// Index into per-group arrays.
    pub const fn index(self) -> usize {
        self as usize - 1
    }
    /// The group stored at `index` of a per-group array.
    pub const fn from_index(index: usize) -> Group {
        match index {
            0 => Group::One,
            _ => Group::Two,
        }
    }
}

code_enum!(
    /// The state of one failover group on one unit, with the appliance's names.
    GroupState {
        Disabled = 1 => "Disabled",
        Negotiation = 2 => "Negotiation",
        JustActive = 3 => "Just Active",
        ActiveDrain = 4 => "Active Drain",
        ActiveApplyingConfig = 5 => "Active Applying Config",
        ActiveConfigApplied = 6 => "Active Config Applied",
        Active = 7 => "Active",
        ColdStandby = 8 => "Cold Standby",
        SyncConfig = 9 => "Sync Config",
        SyncFileSystem = 10 => "Sync File System",
        BulkSync = 11 => "Bulk Sync",
        StandbyReady = 12 => "Standby Ready",
        Failed = 13 => "Failed",
    }
);

impl GroupState {
    /// From Just Active to Active: the group passes traffic on this unit.
    pub const fn is_active(self) -> bool {
        matches!(
            self,
            GroupState::JustActive
                | GroupState::ActiveDrain
                | GroupState::ActiveApplyingConfig
                | GroupState::ActiveConfigApplied
                | GroupState::Active
        )
    }
    /// On the standby path (Cold Standby to Standby Ready).
    pub const fn is_standby(self) -> bool {
        matches!(
            self,
            GroupState::ColdStandby
                | GroupState::SyncConfig
                | GroupState::SyncFileSystem
                | GroupState::BulkSync
                | GroupState::StandbyReady
        )
    }
    /// Parses the appliance's name (as printed by `show failover`), ignoring case.
    pub fn parse(name: &str) -> Option<GroupState> {
        GroupState::ALL.iter().copied().find(|s| s.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

code_enum!(
    /// The status of a monitored interface (`show failover interface`).
    InterfaceStatus {
        Normal = 1 => "Normal",
        Testing = 2 => "Testing",
        LinkDown = 3 => "Link Down",
        NoLink = 4 => "No Link",
        Failed = 5 => "Failed",
        Unknown = 6 => "Unknown",
    }
);

impl InterfaceStatus {
    /// Counts against the interface policy.
    pub const fn is_failed(self) -> bool {
        matches!(self, InterfaceStatus::Failed | InterfaceStatus::LinkDown | InterfaceStatus::NoLink)
    }
}

/// A software version `major.minor(patch)`, e.g. `7.2(4)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SoftwareVersion {
    pub major: u8,
    pub minor: u8,
    pub patch: u16,
}

impl SoftwareVersion {
    /// Parses `major.minor(patch)`.
    pub fn parse(text: &str) -> Option<SoftwareVersion> {
        let (major, rest) = text.trim().split_once('.')?;
        let (minor, rest) = rest.split_once('(')?;
        let patch = rest.strip_suffix(')')?;
        Some(SoftwareVersion { major: major.parse().ok()?, minor: minor.parse().ok()?, patch: patch.parse().ok()? })
    }
}

impl fmt::Display for SoftwareVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}({})", self.major, self.minor, self.patch)
    }
}

/// Where a configuration command applies: the system space or one context.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Space {
    System,
    Context(String),
}

impl fmt::Display for Space {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Space::System => f.write_str("system"),
            Space::Context(name) => f.write_str(name),
        }
    }
}

/// Index of a data interface in [`crate::UnitConfig::interfaces`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IfaceId(pub u16);
