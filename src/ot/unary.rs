//! The autodiff side of nrun's one-tensor extension operations (ReLU,
//! pooling, the convolution weights' layout): run the inner backend's forward pass and, when autodiff tracks
//! the input, record a backward step that hands one tensor of the forward
//! pass and the output's gradient to the inner backend's gradient kernel.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend};

/// Which tensor of the forward pass the gradient kernel takes.
pub(super) enum Keep {
    Input,
    /// The output: the input is then let go before the forward pass, so a
    /// backend holding its only reference may compute in place.
    Output,
}

/// `forward(x)` on the inner backend `B`, differentiated by
/// `gradient(kept, output gradient)`.
pub(super) fn record<B: Backend, C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<B, C>>,
    forward: fn(FloatTensor<B>) -> FloatTensor<B>,
    keep: Keep,
    gradient: fn(FloatTensor<B>, FloatTensor<B>) -> FloatTensor<B>,
) -> FloatTensor<Autodiff<B, C>> {
    let input = x.primitive().clone();
    let step = UnaryBackward { gradient };
    match step.prepare::<C>([x.node()]).compute_bound().stateful() {
        OpsKind::Tracked(prep) => match keep {
            Keep::Input => prep.finish(input.clone(), forward(input)),
            Keep::Output => {
                drop(x);
                let output = forward(input);
                prep.finish(output.clone(), output)
            }
        },
        OpsKind::UnTracked(prep) => prep.finish(forward(input)),
    }
}

#[derive(Debug)]
struct UnaryBackward<B: Backend> {
    gradient: fn(FloatTensor<B>, FloatTensor<B>) -> FloatTensor<B>,
}

impl<B: Backend> Backward<B, 1> for UnaryBackward<B> {
    /// The kept tensor.
    type State = FloatTensor<B>;

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let grad = grads.consume::<B>(&ops.node);
        if let [Some(node)] = ops.parents {
            grads.register::<B>(node.id, (self.gradient)(ops.state, grad));
        }
    }
}
