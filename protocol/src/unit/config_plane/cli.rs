//! The configuration plane's CLI: configuration and file commands typed on
//! this unit, the activation key and `write standby`.

use super::{ConfigFacts, ConfigPlane, join};
use crate::config::flash::FileCommand;
use crate::config::replication::{self, Classification, CommandKind};
use crate::planted::PlantedBug;
use crate::types::Space;
use crate::unit::effect::{Effect, Effects};
use crate::unit::{CommandError, Event};
use crate::wire::Control;

impl ConfigPlane {
    /// A configuration or file command typed in `space`: what the CLI
    /// prints (warnings included), or why it refused.
    pub(in crate::unit) fn handle_cli(
        &mut self,
        facts: &ConfigFacts,
        fx: &mut Effects,
        space: &Space,
        line: &str,
    ) -> Result<String, CommandError> {
        let refused = |m: String| Err(CommandError::Refused(m));
        if let Space::Context(name) = space {
            if !self.running.contexts().contains_key(name) {
                return refused(format!("no security context named {name:?}"));
            }
        }
        let kind = replication::command_kind(line);
        if kind == CommandKind::WriteStandby {
            return self.write_standby(facts, fx, space);
        }
        let sync = self.sync_progress();
        let authoritative = self.is_authoritative(&facts.groups, space)
            || (facts.planted(PlantedBug::ReplicateFromWrongUnit) && kind == CommandKind::Config);
        let class = match replication::admit(space, line, authoritative, sync.as_ref()) {
            Ok(c) => c,
            Err(refusal) => return refused(refusal.to_string()),
        };
        if kind == CommandKind::LocalAction
            && replication::canonical_words(line).first().map(String::as_str) == Some("activation-key")
        {
            return self.activation_key(facts, fx, line);
        }
        match kind {
            CommandKind::Empty | CommandKind::Exec | CommandKind::LocalAction => {
                refused(format!("{:?}: not a configuration or file command of this model", line.trim()))
            }
            CommandKind::WriteStandby => unreachable!("handled above"),
            CommandKind::File => {
                let text = self.file_command(fx, space, line)?;
                self.count_if_split(facts);
                let warning = match class {
                    Classification::Replicated if facts.peer_reachable => {
                        self.replicate_file_command(fx, space, line);
                        String::new()
                    }
                    Classification::Replicated => String::new(),
                    Classification::LocalOnly { warning, .. } => warning,
                    Classification::NotReplicated => String::new(),
                };
                Ok(join(text, warning))
            }
            CommandKind::LocalConfig | CommandKind::Config => {
                self.running_mut().apply(space, line).map_err(|e| CommandError::Refused(e.to_string()))?;
                self.count_if_split(facts);
                match class {
                    Classification::Replicated if !facts.peer_reachable => {
                        self.resync_needed = true;
                        Ok(String::new())
                    }
                    Classification::Replicated if facts.planted(PlantedBug::ReplicationLost) => Ok(String::new()),
                    Classification::Replicated => {
                        self.command_seq += 1;
                        let body = Control::CommandReplication {
                            space: space.clone(),
                            line: line.to_owned(),
                            command_seq: self.command_seq,
                        };
                        fx.push(Effect::Event(Event::CommandReplicated {
                            space: space.clone(),
                            line: line.to_owned(),
                        }));
                        self.outbox.push_back(body);
                        Ok(String::new())
                    }
                    Classification::LocalOnly { out_of_sync, warning } => {
                        if out_of_sync {
                            self.out_of_sync.insert(space.clone());
                        }
                        Ok(warning)
                    }
                    Classification::NotReplicated => Ok(String::new()),
                }
            }
        }
    }

    /// `activation-key 0x.. 0x.. 0x.. 0x..`: verified for this unit's serial
    /// number and stored in flash; the unit runs the new license at once. A
    /// mate refused before is paired again at its next boot or this unit's.
    fn activation_key(&mut self, facts: &ConfigFacts, fx: &mut Effects, line: &str) -> Result<String, CommandError> {
        let serial = facts.config.device().serial;
        let license = self
            .flash
            .install_activation_key(&serial, line)
            .map_err(|e| CommandError::Refused(format!("ERROR: {e}")))?;
        self.license = license;
        self.flash_written(fx);
        Ok(format!("Licensed features for this platform: {license}\nThe flash activation key has been modified."))
    }

    /// A command was applied while the peer is unreachable: counted for the heal discard.
    fn count_if_split(&mut self, facts: &ConfigFacts) {
        if !facts.peer_reachable {
            self.split_commands = self.split_commands.saturating_add(1);
        }
    }

    /// Runs a file command on this unit's flash.
    pub(super) fn file_command(&mut self, fx: &mut Effects, space: &Space, line: &str) -> Result<String, CommandError> {
        let refused = |m: String| CommandError::Refused(m);
        let Some(cmd) = FileCommand::parse(line).map_err(|e| refused(e.to_string()))? else {
            return Err(refused(format!("{:?}: not a file command", line.trim())));
        };
        self.flash.execute(&cmd, &self.running, space).map_err(|e| refused(e.to_string()))?;
        self.flash_written(fx);
        Ok(match cmd {
            FileCommand::WriteMemory { .. } | FileCommand::CopyRunningStartup => "[OK]".to_owned(),
            _ => String::new(),
        })
    }

    fn replicate_file_command(&mut self, fx: &mut Effects, space: &Space, line: &str) {
        let body = match FileCommand::parse(line) {
            Ok(Some(FileCommand::WriteMemory { all })) => Control::WriteMemory { space: space.clone(), all },
            Ok(Some(FileCommand::CopyRunningStartup)) => Control::WriteMemory { space: space.clone(), all: false },
            _ => {
                self.command_seq += 1;
                Control::CommandReplication {
                    space: space.clone(),
                    line: line.to_owned(),
                    command_seq: self.command_seq,
                }
            }
        };
        fx.push(Effect::Event(Event::CommandReplicated { space: space.clone(), line: line.to_owned() }));
        self.outbox.push_back(body);
    }

    fn flash_written(&self, fx: &mut Effects) {
        fx.push(Effect::Event(Event::FlashWritten { flash: Box::new(self.flash.clone()) }));
    }

    /// `write standby`: a full sync to the peer, of everything (system space)
    /// or of one context.
    fn write_standby(&mut self, facts: &ConfigFacts, fx: &mut Effects, space: &Space) -> Result<String, CommandError> {
        if !self.is_authoritative(&facts.groups, space) {
            return Err(CommandError::Refused(format!(
                "write standby: this unit is not active for the failover group of {}; enter it on the mate",
                match space {
                    Space::System => "the system space".to_owned(),
                    Space::Context(n) => format!("context {n}"),
                }
            )));
        }
        if let Some(s) = self.sync_progress() {
            return Err(CommandError::Refused(format!(
                "write standby: a full configuration synchronisation is already in progress ({s})"
            )));
        }
        if self.channel.peer_boot().is_none() || !facts.peer_reachable {
            return Err(CommandError::Refused("write standby: the mate is not reachable".into()));
        }
        let scope = match space {
            Space::System => None,
            Space::Context(_) => Some(space.clone()),
        };
        self.start_full_sync(facts, fx, scope);
        Ok(String::new())
    }
}
