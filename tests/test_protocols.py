"""chainrule.protocols: what the library uses of a model, as Protocols a Model satisfies."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.callbacks import EarlyStopping, ModelCheckpoint, TerminateOnNaN
from chainrule.models import Sequential
from chainrule.nn import Dense
from chainrule.protocols import (
    CompiledModel,
    HasNamedParameters,
    SupportsPredict,
    SupportsSave,
    TrainableModel,
)


@pytest.mark.parametrize(
    "protocol", [CompiledModel, HasNamedParameters, SupportsPredict, SupportsSave, TrainableModel]
)
def test_a_model_and_a_sequential_satisfy_every_protocol(protocol):
    assert isinstance(Sequential([Dense(1, input_dim=2, seed=0)]), protocol)
    assert isinstance(cr.Model(Dense(1, input_dim=2, seed=0)), protocol)
    assert not isinstance(object(), protocol)


def test_a_plain_module_names_its_parameters_but_is_not_trainable():
    layer = Dense(1, input_dim=2, seed=0)
    assert isinstance(layer, HasNamedParameters)
    assert not isinstance(layer, TrainableModel) and not isinstance(layer, SupportsPredict)


@pytest.mark.parametrize(
    "callback, hook",
    [
        (EarlyStopping(restore_best_weights=True), lambda c: c.on_epoch_end(1, {"val_loss": 1.0})),
        (TerminateOnNaN(), lambda c: c.on_batch_end(0, {"loss": float("nan")})),
    ],
)
def test_a_hook_that_needs_the_model_before_set_model_says_so(callback, hook):
    with pytest.raises(RuntimeError, match="has no model: call set_model"):
        hook(callback)


class _WeightsOnly:
    """A TrainableModel without save(): ModelCheckpoint writes its state_dict as .npz."""

    stop_training = False

    def state_dict(self):
        return {"w": np.arange(3.0)}

    def load_state_dict(self, state):
        pass


def test_model_checkpoint_saves_the_state_of_a_model_without_save(tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "w.npz"))
    checkpoint.set_model(_WeightsOnly())
    checkpoint.on_epoch_end(0, {"loss": 1.0})
    with np.load(tmp_path / "w.npz") as saved:
        assert np.array_equal(saved["w"], np.arange(3.0))
