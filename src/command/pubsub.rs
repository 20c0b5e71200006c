//! Pub/sub commands: SUBSCRIBE and its kin, PUBLISH, PUBSUB introspection.

use bytes::Bytes;

use super::table::CommandSpec;
use super::Ctx;
use crate::error::{unknown_command, CommandResult};
use crate::protocol::Reply;

/// This family's rows of the command table (group `pubsub`).
pub static COMMANDS: &[CommandSpec] = &[];

#[derive(Debug)]
pub enum PubSubCommand {}

impl PubSubCommand {
    pub fn parse(_name: &str, args: &[Bytes]) -> CommandResult<Self> {
        Err(unknown_command(args))
    }

    pub fn execute(self, _ctx: &mut Ctx, _out: &mut Reply) -> CommandResult {
        match self {}
    }
}
