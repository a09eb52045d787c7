//! Built-in simple nodes, so pipelines can be built and tested without any
//! audio node.

mod calculator;
mod echo;
mod fault;
mod math;
mod passthrough;

pub use calculator::{CalculatorNode, CalculatorParams, Operation};
pub use echo::EchoNode;
pub use fault::{FaultInjectionNode, FaultParams};
pub use math::{AddNode, AddParams, MultiplyNode, MultiplyParams};
pub use passthrough::PassThroughNode;

use crate::params::NoParams;
use crate::registry::{NodeType, Registry};

impl Registry {
    /// A registry holding the built-in nodes (`PassThroughNode`, `Echo`, `CalculatorNode`,
    /// `MultiplyNode`, `AddNode`, `FaultInjectionNode`). Defined here, beside the nodes, so
    /// that the registry does not depend on them.
    pub fn with_builtins() -> Self {
        let mut registry = Self::new();
        register(&mut registry);
        registry
    }
}

/// Registers the built-in nodes.
pub fn register(registry: &mut Registry) {
    registry.register(
        NodeType::new::<NoParams>("PassThroughNode", "Hands every input on unchanged.")
            .alias("PassThrough")
            .native(|_: NoParams| Ok(Box::new(PassThroughNode))),
    );
    registry.register(
        NodeType::new::<MultiplyParams>(
            "MultiplyNode",
            "Multiplies numbers (or lists of numbers, or f32 audio) by a factor.",
        )
        .native(|p: MultiplyParams| Ok(Box::new(MultiplyNode::new(p)))),
    );
    registry.register(
        NodeType::new::<AddParams>("AddNode", "Adds a constant to numbers (or lists of numbers).")
            .native(|p: AddParams| Ok(Box::new(AddNode::new(p)))),
    );
    registry.register(
        NodeType::new::<NoParams>(
            "Echo",
            "Wraps every input as {\"input\": ..., \"counter\": n, \"node\": \"Echo\"} (n counts calls from 1); the older runtime's test node.",
        )
        .native(|_: NoParams| Ok(Box::new(EchoNode::default()))),
    );
    registry.register(
        NodeType::new::<CalculatorParams>(
            "CalculatorNode",
            "Adds, subtracts, multiplies or divides a number (or an object's numeric \"value\") by an operand; the older runtime's arithmetic node.",
        )
        .native(|p: CalculatorParams| Ok(Box::new(CalculatorNode::new(p)))),
    );
    registry.register(
        NodeType::new::<FaultParams>(
            "FaultInjectionNode",
            "A pass-through that fails, panics, sleeps or allocates on purpose, to rehearse failures.",
        )
        .native(|p: FaultParams| Ok(Box::new(FaultInjectionNode::new(p)))),
    );
}
