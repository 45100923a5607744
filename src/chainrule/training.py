"""The Keras-like training API: ``compile``, ``fit``, ``evaluate``, ``predict``.

``fit`` is docs/math.md §3's reference loop: every epoch shuffles the training set, and for each
mini-batch runs the forward pass, the loss (plus the layers' weight penalties), backpropagation
and one optimiser step; after the epoch it measures the validation loss, and callbacks such as
``EarlyStopping(restore_best_weights=True)`` stop when that loss no longer falls and keep the best
weights. ``batch_size=None`` is full-batch gradient descent, ``batch_size=1`` online learning.

``Model(module)`` gives any Module this API; ``chainrule.models.Sequential`` is a Model.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import activations, data_path, losses, metrics, optim
from ._tensor import Tensor
from .callbacks import Callback, CallbackList, History, ProgressBar, TerminateOnNaN
from .dtypes import get_default_dtype
from .errors import ShapeError, TrainingInterrupted
from .grad_mode import no_grad
from .nn.module import Module
from .progress import format_logs

Arrays = tuple[np.ndarray, np.ndarray]


class Model(Module):
    """A module that can be compiled and trained: wraps ``module`` or subclasses define forward.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.nn import Dense
    >>> model = cr.Model(Dense(1, input_dim=2, seed=0))
    >>> model.compile(loss="mse", optimizer=cr.optim.SGD(lr=0.1))
    >>> x = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> history = model.fit(x, x.sum(axis=1, keepdims=True), epochs=200, verbose=0)
    >>> bool(history.history["loss"][-1] < 0.01 * history.history["loss"][0])
    True
    """

    def __init__(self, module: Module | None = None, name: str = "model") -> None:
        super().__init__()
        self.name = name
        self.module = module
        self.loss: losses.Loss | None = None
        self.optimizer: optim.Optimizer | None = None
        self.metrics: list[tuple[str, Callable[..., float]]] = []
        self.stop_training = False
        # Fitted on training data and stored with the model: fit, evaluate and predict apply
        # it to raw inputs, so prediction always uses the training scaling.
        self.preprocessing: Any = None
        self.metadata: dict[str, Any] = {}
        self.compiled_step: Any = None  # a chainrule.compiler.CompiledStep unless jit=False
        self.jit: bool | str = "auto"  # compile's jit: True, False or "auto"
        self.kernels = "numpy"  # or "numba": chainrule.fast's fused updates in compiled steps
        # Why fit trains eagerly although compiling was asked for (None: compiled, or not yet
        # tried, or jit=False).
        self.jit_fallback_reason: str | None = None

    def forward(self, x: Any) -> Tensor:
        if self.module is None:
            raise NotImplementedError("give Model a module, or subclass it and define forward()")
        return self.module(x)

    def build(self, input_shape: tuple[int, ...]) -> None:
        """Create lazily built parameters by running one sample of ``input_shape`` through."""
        if not self.parameters() or any(
            not getattr(m, "built", True) for _, m in self.named_modules()
        ):
            with no_grad():
                self.eval()
                self(np.zeros((2, *input_shape), dtype=get_default_dtype()))
                self.train()

    def health(self, x: Any, y: Any = None, **options: Any) -> Any:
        """Dead and saturated units of every Dense + activation on the raw inputs ``x`` (with
        targets ``y``, the gradient flow too): a ``chainrule.diagnostics.HealthReport`` with the
        same verdicts as ``fit``'s monitor (options go to ``health_report``)."""
        from .diagnostics import health_report  # a higher layer (tests/test_layering.py); on use

        if y is not None:
            x, y = self._pair(x, y, "x", "y")
        else:
            x = self._inputs(x)
        return health_report(self, x, y=y, **options)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to one ``.npz`` file (atomically; see ``chainrule.load``)."""
        from .serialization import save_model  # a higher layer (tests/test_layering.py); on use

        save_model(self, path)

    def export_onnx(self, path: str | os.PathLike[str], opset: int | None = None) -> Any:
        """Write the model (with its preprocessing) to ``path`` as ONNX, at the lowest opset it
        needs or at ``opset``: a ``chainrule.onnx_export.OnnxExport`` (needs the onnx extra)."""
        from .onnx_export import export_onnx  # a higher layer; imported on use

        return export_onnx(self, path, opset=opset)

    def gradcheck(self, x: Any, y: Any, **options: Any) -> Any:
        """Check the backpropagated gradients of the compiled loss (penalties included) against
        two-sided differences in float64 (docs/math.md §5): ``gradient_check.check_model``."""
        from .gradient_check import check_model  # a higher layer; imported on use

        x, y = self._pair(x, y, "x", "y", dtype=np.float64)  # checks run in float64
        return check_model(self, x, y, **options)

    def explain(self, x: Any, y: Any, **options: Any) -> Any:
        """Backpropagation on one example (or a few) with this model's numbers, every δ and
        gradient checked against the engine, and the optimiser's update: an
        ``chainrule.explain.Explanation`` (print it, or show it in a notebook)."""
        from .explain import explain  # a higher layer; imported on use

        if data_path.is_frame(x):
            x = self._inputs(x, dtype=np.float64)
        if isinstance(self.loss, CLASSIFICATION_LOSSES):  # class labels as the model's indices
            rows = np.asarray(x, dtype=np.float64)
            y = self._targets(rows.reshape(1, -1) if rows.ndim == 1 else rows, y)
        return explain(self, x, y, **options)  # one example may be a 1-D x

    def _repr_html_(self) -> str:
        """The summary as an HTML table (notebooks)."""
        from .notebook import model_html

        return model_html(self)

    def _data_dtype(self) -> np.dtype:
        """Inputs are converted to the parameters' dtype (the default dtype before building)."""
        parameters = self.parameters()
        return parameters[0].dtype if parameters else get_default_dtype()

    def _prepare(self, x: np.ndarray) -> np.ndarray:
        if self.preprocessing is None:
            return x
        return np.asarray(self.preprocessing.transform(x), dtype=x.dtype)

    # ------------------------------------------------------------------ the data path
    def _known(self, key: str) -> Any:
        return self.metadata.get(key) if isinstance(self.metadata, dict) else None

    def _remember(self, key: str, value: Any) -> None:
        if isinstance(self.metadata, dict) and self._known(key) is None:
            self.metadata[key] = value

    def _inputs(
        self, x: Any, name: str = "x", remember: bool = False, dtype: Any = None
    ) -> np.ndarray:
        """``x`` through ``chainrule.data_path``: a checked float array (the parameters'
        dtype unless ``dtype``), a DataFrame's columns matched to the model's feature names;
        with ``remember``, the first DataFrame's names become the model's."""
        array, names = data_path.features(
            x, dtype or self._data_dtype(), name, self._known("feature_names")
        )
        if remember and names is not None:
            self._remember("feature_names", names)
        return array

    def _targets(
        self, x: np.ndarray, y: Any, name: str = "y", remember: bool = False, dtype: Any = None
    ) -> np.ndarray:
        """``y`` through ``chainrule.data_path``: for a classification loss, labels become
        class indices (their distinct values, or the model's classes; one-hot rows for a
        sparse loss their arg-max), with ``remember`` the classes kept in
        ``metadata["classes"]``; other targets a checked float array (integers as they are)."""
        target_dtype = dtype or self._data_dtype()
        plain = data_path.plain(y)
        if not isinstance(self.loss, CLASSIFICATION_LOSSES):
            return _checked_target(plain, name, target_dtype)
        binary = isinstance(self.loss, losses.BinaryCrossentropy)
        if plain.ndim == 2 and plain.shape[1] > 1:  # one-hot rows, probabilities, multi-label
            sparse = isinstance(
                self.loss, (losses.SparseCategoricalCrossentropy, losses.NegativeLogLikelihood)
            )
            if data_path.is_one_hot(plain) and remember:
                self._remember("classes", list(range(plain.shape[1])))
            if sparse and data_path.is_one_hot(plain):
                return np.argmax(plain, axis=1)
            return _checked_target(plain, name, target_dtype)
        if binary and plain.dtype.kind == "f" and not np.all(plain == np.round(plain)):
            return _checked_target(plain, name, target_dtype)  # soft labels
        width = self._class_count(x, plain.reshape(len(plain)) if plain.ndim == 2 else plain)
        indices, classes = data_path.encode_labels(y, width, self._known("classes"), name)
        if remember:
            self._remember("classes", classes)
        return indices

    def _pair(
        self, x: Any, y: Any, x_name: str, y_name: str, remember: bool = False, dtype: Any = None
    ) -> Arrays:
        """Inputs and targets through the data path, with as many rows each; what
        ``remember`` would keep is kept only when both are usable."""
        unknown = [key for key in ("feature_names", "classes") if self._known(key) is None]
        try:
            x_array = self._inputs(x, x_name, remember, dtype)
            y_array = self._targets(x_array, y, y_name, remember, dtype)
            if len(x_array) != len(y_array):
                raise ShapeError(
                    f"{x_name} has {len(x_array)} samples but {y_name} has {len(y_array)}; "
                    "they must have the same number of rows"
                )
        except Exception:
            if remember and isinstance(self.metadata, dict):
                for key in unknown:
                    self.metadata.pop(key, None)
            raise
        return x_array, y_array

    def predict_classes(self, x: Any, batch_size: int | None = None) -> np.ndarray:
        """The predicted class of every row, as the labels ``fit`` was given (the model's
        ``metadata["classes"]``; class indices when it has none): the class c_k with
        k = arg maxᵢ ŷᵢ over the outputs, or for one sigmoid (logit) output k = 1 where
        p = σ(z) > 1/2, else 0. A model with no classification loss and no classes is
        refused."""
        classes = self._known("classes")
        if classes is None and not isinstance(self.loss, CLASSIFICATION_LOSSES):
            raise ValueError(
                "predict_classes needs a classification model (compiled with a "
                "cross-entropy or nll, or trained on class labels); use predict"
            )
        outputs = self.predict(x, batch_size)
        if outputs.ndim == 1 or outputs.shape[1] == 1:
            probability = self.predict_proba(x, batch_size).reshape(len(outputs))
            index = (probability > 0.5).astype(np.int64)
        else:
            index = outputs.argmax(axis=1)
        return data_path.decode_labels(index, classes)

    # ------------------------------------------------------------------ compile
    def compile(
        self,
        loss: Any = "mse",
        optimizer: Any = "sgd",
        metrics: Sequence[Any] | None = None,
        jit: bool | str = "auto",
        kernels: str = "numpy",
    ) -> None:
        """Choose the loss, the optimiser and the metrics (names or objects).

        A Keras-style optimiser (built without parameters) is bound to the model's parameters
        here, or at the start of ``fit`` if the model is built lazily.

        ``jit`` chooses how ``fit`` runs a training step. ``"auto"`` (the default): compiled
        where it can be (``chainrule.compiler``: the engine's graph of forward and backward
        traced once per batch shape into a static program of NumPy kernels over preallocated
        buffers; bit-identical parameters, only faster), eagerly otherwise, without a warning
        (``jit_fallback_reason`` then says why). ``True``: the same, with a one-time
        ``JitFallbackWarning`` when it must train eagerly. ``False``: always eagerly.

        ``kernels="numba"`` (the ``fast`` extra) makes the compiled step update the parameters
        with ``chainrule.fast``'s fused loops, bit-identical to the NumPy rules (``"numpy"``,
        the default), and computes a softmax cross-entropy from logits and its gradient with
        two kernels equal to the NumPy ones to rounding (``chainrule.fused_loss``); for a small
        Dense network (``chainrule.dense_step``: ReLU, tanh, sigmoid
        or no activation, at most 64 units wide and 256 rows, MSE or a cross-entropy from
        logits) it also runs forward and backward as one kernel, equal to the NumPy kernels to
        rounding (checked on the traced batch), not bit for bit.

        Args:
            loss: a loss name ("mse", "sparse_categorical_crossentropy", ...) or a ``Loss``
                (``losses.get("categorical_crossentropy", from_logits=True)``).
            optimizer: an optimiser name ("sgd", "adam", ...) or an ``Optimizer``, bound or
                not.
            metrics: metric names ("accuracy", ...) or functions (y_true, y_pred) → float,
                logged each epoch.
            jit: True, False or "auto" (see above).
            kernels: "numpy" or "numba" (see above).

        Raises:
            ValueError: an unknown loss, optimiser or metric name (with the close names), or
                a bad ``jit``/``kernels``.
            ImportError: ``kernels="numba"`` without Numba installed.
        """
        from .compiler import CompiledStep  # on use: `import chainrule` stays fast

        if jit not in (True, False, "auto"):
            raise ValueError(f"jit must be True, False or 'auto', not {jit!r}")
        if kernels not in ("numpy", "numba"):
            raise ValueError(f"kernels must be 'numpy' or 'numba', not {kernels!r}")
        if kernels == "numba":
            from .fast import load  # Numba only when asked for

            load()
        self.kernels = kernels
        self.loss = losses.get(loss)
        self.optimizer = optim.get(optimizer)
        self.metrics = [(_metric_key(m), _metric_function(m)) for m in (metrics or [])]
        self.jit = jit
        self.compiled_step = CompiledStep(self) if jit else None
        self.jit_fallback_reason = None
        if self.parameters() and not self.optimizer.params:
            self.optimizer.bind(self.parameters())

    def _require_compiled(self) -> tuple[losses.Loss, optim.Optimizer]:
        if self.loss is None or self.optimizer is None:
            raise RuntimeError("call compile(loss=..., optimizer=...) before fit/evaluate")
        return self.loss, self.optimizer

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        x: Any,
        y: Any,
        epochs: int = 1,
        batch_size: int | None = 32,
        validation_split: float = 0.0,
        validation_data: tuple[Any, ...] | None = None,
        shuffle: bool = True,
        callbacks: Sequence[Callback] | None = None,
        verbose: int = 1,
        seed: int | None = None,
        initial_epoch: int = 0,
        checkpoint: str | os.PathLike[str] | None = None,
        resume: bool = False,
        health: bool = True,
        sample_weight: Any = None,
        class_weight: Any = None,
    ) -> History:
        """Train for ``epochs`` epochs and return the per-epoch ``History``.

        ``x`` and ``y`` go through ``chainrule.data_path`` (as in ``evaluate``, ``predict``
        and the CLI): arrays, lists, Tensors or pandas DataFrames/Series; with a
        classification loss, labels are their distinct values (numbers or names; integer
        labels 0..K−1 of K classes stay indices), kept in ``metadata["classes"]`` and given
        back by ``predict_classes``; a DataFrame's column names are kept in
        ``metadata["feature_names"]`` and later DataFrames are matched to them by name.

        With ``checkpoint``, the model, the optimiser state and the training progress are saved
        there (atomically) after every epoch; ``resume=True`` continues from that file when it
        exists, and ends with the same model as an uninterrupted run. Ctrl-C finishes the
        current batch and raises ``TrainingInterrupted``; the checkpoint keeps the last
        completed epoch.

        ``resume=True`` without a checkpoint continues this model's last ``fit`` — in this
        process, or the one before ``save`` (a model file keeps the optimiser state, the next
        epoch, the generators and the history: ``continuation_state``) — from its next epoch
        with its shuffling generator and history, so ``epochs`` is the total, as with a
        checkpoint, and the result is bit-identical to one unbroken run (the callbacks start
        afresh; ``seed`` is ignored). Without ``resume``, a loaded model also keeps its
        optimiser state and generators, as a second ``fit`` in memory does.

        ``health=True`` (the default) watches the training with a
        ``chainrule.diagnostics.HealthMonitor``: it adds ``health/...`` entries to the epoch
        logs (dead and saturated units, gradient norms, update ratios) and warns with a
        ``TrainingHealthWarning`` when it sees a problem; it changes nothing in the training.
        ``health=False`` turns it off.

        ``sample_weight`` (one finite weight ≥ 0 per row) and ``class_weight`` (a dict {class
        index: weight}, or ``"balanced"``: n_samples / (n_classes · count(class)), scikit-learn's
        formula; classification losses only) weight each sample's loss, multiplied when both
        are given (Keras' contract): the batch loss is Σᵢ wᵢ·ℓᵢ / N with reduction "mean",
        divided by the batch size N and not by Σw (Keras' ``sum_over_batch_size``), so a
        batch's total weight matters; Σᵢ wᵢ·ℓᵢ with "sum" (see ``Loss.reduce``). Compiled and
        eager training give the same bits. ``validation_data=(x, y, w)`` weights the
        validation loss (class weights apply to the training data only). The class weights
        used are kept in ``metadata["class_weight"]`` (saved with the model) for
        ``evaluate(class_weight="saved")``.

        Args:
            x: the inputs, one row per sample (an array, list, Tensor or DataFrame).
            y: the targets: values, class labels (numbers or names) or one-hot rows.
            epochs: the epoch to stop after (the total, counting resumed epochs).
            batch_size: rows per step; None for one batch of everything.
            validation_split: the share of the rows (the last ones) held out for validation.
            validation_data: (x, y) or (x, y, sample_weight) to validate on instead.
            shuffle: shuffle the training rows every epoch.
            callbacks: ``Callback`` objects (EarlyStopping, ModelCheckpoint, ...).
            verbose: 0 silent, 1 a progress bar, 2 one line per epoch.
            seed: seeds the shuffling (default: the model's generator).
            initial_epoch: the epoch to start counting from.
            checkpoint: a file saved after every epoch (model, optimiser, progress).
            resume: continue from ``checkpoint``, or from this model's last fit (see above).
            health: watch the training health (see above).
            sample_weight: one weight ≥ 0 per row.
            class_weight: {class: weight} or "balanced".

        Returns:
            The ``History``: ``history.history["loss"]`` and the other logs per epoch.

        Raises:
            ValueError: bad data (shapes, NaN, labels the loss cannot take; one line naming
                the problem), bad settings, or a checkpoint that does not fit the model.
            DataError: labels, feature names or integers that cannot be used as given.
            TrainingInterrupted: Ctrl-C (after the current batch; the checkpoint is kept).
            RuntimeError: the model is not compiled.
        """
        _, optimizer = self._require_compiled()
        if isinstance(epochs, bool) or int(epochs) != epochs or epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
        if resume and checkpoint is None and self.__dict__.get("_fit_progress") is None:
            raise ValueError(
                "resume=True without a checkpoint path continues this model's last "
                "training (a fit, or a model file saved after one), and this model "
                "has none; give checkpoint=PATH, or drop resume=True"
            )
        x, y = self._pair(x, y, "x", "y", remember=True)
        w_val = None
        x_val: np.ndarray | None
        y_val: np.ndarray | None
        if validation_data is not None:
            if validation_split:
                raise ValueError("give validation_data or validation_split, not both")
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be (x, y) or (x, y, sample_weight)")
            x_val, y_val = self._pair(
                validation_data[0], validation_data[1], "validation x", "validation y"
            )
            if len(validation_data) == 3:
                w_val = self._sample_weights(
                    x_val,
                    y_val,
                    validation_data[2],
                    None,
                    "validation sample_weight",
                    remember=False,
                )
            x_val = self._prepare(x_val)
        else:
            x_val = y_val = None
        weights = self._sample_weights(x, y, sample_weight, class_weight, "sample_weight")
        if validation_split:
            x, y, x_val, y_val = _split_off_validation(x, y, validation_split)
            if weights is not None:
                weights, w_val = weights[: len(x)], weights[len(x) :]
            x_val = self._prepare(x_val)
        raw_sample = x  # the monitor's health_report applies the preprocessing itself
        x = self._prepare(x)
        self.build(x.shape[1:])
        if not optimizer.params:
            optimizer.bind(self.parameters())
        count = len(x)
        needs_closure = getattr(optimizer, "requires_closure", False)
        size = count if batch_size is None or needs_closure else _batch_size(batch_size)
        generator = np.random.default_rng(seed) if seed is not None else self._shuffling()
        history = History()
        user_callbacks = list(callbacks or [])
        stop_on_nan = any(isinstance(c, TerminateOnNaN) for c in user_callbacks)
        # History after the user's callbacks, so it records what they add to the logs; the
        # health monitor after the progress bar, so the epoch lines stay short.
        progress: list[Callback] = [ProgressBar(verbose)]
        if health:
            from .diagnostics import HealthMonitor, sample_rows  # a higher layer; on use

            progress.append(HealthMonitor(sample=sample_rows(raw_sample)))
        callback_list = CallbackList([*user_callbacks, *progress, history])
        callback_list.set_model(self)
        callback_list.set_params(
            {
                "epochs": epochs,
                "steps": -(-count // size),
                "batch_size": size,
                "samples": count,
                "validation_samples": 0 if x_val is None else len(x_val),
                "verbose": verbose,
            }
        )
        self.stop_training = False
        callback_list.on_train_begin({})
        if resume and checkpoint is None:
            initial_epoch, generator = self._continue_progress(history)
        elif resume and checkpoint is not None and os.path.exists(checkpoint):
            initial_epoch = self._resume_from(checkpoint, generator, history, user_callbacks)
        logs: dict[str, float] = {}
        with _StopOnInterrupt() as interrupt:
            for epoch in range(initial_epoch, epochs):
                optimizer.set_epoch(epoch)  # the optimiser's own schedule; callbacks may change it
                callback_list.on_epoch_begin(epoch, {})
                logs = self._run_epoch(
                    x, y, size, shuffle, generator, callback_list, stop_on_nan, interrupt, weights
                )
                if interrupt.requested:
                    raise TrainingInterrupted(_interrupted_message(epoch, checkpoint))
                if x_val is not None and y_val is not None:  # set together
                    validation = self._measure(x_val, y_val, size, w_val)
                    logs.update({f"val_{key}": value for key, value in validation.items()})
                logs["lr"] = float(optimizer.lr)
                callback_list.on_epoch_end(epoch, logs)
                object.__setattr__(
                    self,
                    "_fit_progress",
                    {"next_epoch": epoch + 1, "generator": generator, "history": history},
                )
                if checkpoint is not None:
                    self._save_checkpoint(checkpoint, epoch, generator, history, user_callbacks)
                if self.stop_training:
                    break
        callback_list.on_train_end(logs)
        return history

    def _shuffling(self) -> np.random.Generator:
        """The generator that shuffles when ``fit`` gets no ``seed``: seeded with the model's
        own ``seed`` (``Sequential(..., seed=0)``), so such a run is reproducible, and kept, so
        that successive ``fit`` calls continue it instead of repeating one order."""
        generator = self.__dict__.get("_shuffle_generator")
        if generator is None:
            generator = np.random.default_rng(getattr(self, "seed", None))
            object.__setattr__(self, "_shuffle_generator", generator)
        return generator

    # ------------------------------------------------------------------ continuation
    def _continue_progress(self, history: History) -> tuple[int, np.random.Generator]:
        """``fit(resume=True)`` without a checkpoint: the epoch after the last one completed
        (by a fit in this process, or by the fit before ``save``), its shuffling generator and
        its history, so the new fit goes on like one unbroken run."""
        progress = self.__dict__["_fit_progress"]
        recorded = progress["history"]
        history.history = {key: list(values) for key, values in recorded.history.items()}
        history.epoch = list(recorded.epoch)
        return int(progress["next_epoch"]), progress["generator"]

    def continuation_state(self) -> dict[str, Any] | None:
        """What a model file keeps so that ``load`` + ``fit`` continues exactly (None when
        the model is not compiled): the optimiser's state, the epoch after the last one
        completed, the generators' states (the model's own shuffling, the last fit's when
        it was seeded with ``fit(seed=)``, every Dropout's) and the last fit's history."""
        if self.optimizer is None or self.loss is None:
            return None
        own = self.__dict__.get("_shuffle_generator")
        progress = self.__dict__.get("_fit_progress")
        last = None if progress is None else progress["generator"]
        history = None if progress is None else progress["history"]
        return {
            "next_epoch": 0 if progress is None else int(progress["next_epoch"]),
            "optimizer": self.optimizer.state_dict(),
            "shuffle_generator": None if own is None else own.bit_generator.state,
            "fit_generator": None if last is None or last is own else last.bit_generator.state,
            "layer_generators": {
                name: layer_generator.bit_generator.state
                for name, layer_generator in _layer_generators(self).items()
            },
            "history": None
            if history is None
            else {"history": history.history, "epoch": history.epoch},
        }

    def restore_continuation(self, state: dict[str, Any]) -> None:
        """Set what ``continuation_state`` kept (checked by the model-file loader)."""
        _, optimizer = self._require_compiled()
        if not optimizer.params:
            optimizer.bind(self.parameters())
        optimizer.load_state_dict(state["optimizer"])
        layer_generators = _layer_generators(self)
        for name, generator_state in state["layer_generators"].items():
            layer_generators[name].bit_generator.state = generator_state
        own = None
        if state["shuffle_generator"] is not None:
            own = np.random.default_rng()
            own.bit_generator.state = state["shuffle_generator"]
            object.__setattr__(self, "_shuffle_generator", own)
        last = own
        if state["fit_generator"] is not None:
            last = np.random.default_rng()
            last.bit_generator.state = state["fit_generator"]
        if state["history"] is not None and last is not None:
            history = History()
            history.history = {k: list(v) for k, v in state["history"]["history"].items()}
            history.epoch = list(state["history"]["epoch"])
            object.__setattr__(
                self,
                "_fit_progress",
                {"next_epoch": int(state["next_epoch"]), "generator": last, "history": history},
            )

    def _run_epoch(
        self,
        x: np.ndarray,
        y: np.ndarray,
        size: int,
        shuffle: bool,
        generator: np.random.Generator,
        callback_list: CallbackList,
        stop_on_nan: bool,
        interrupt: _StopOnInterrupt,
        weights: np.ndarray | None = None,
    ) -> dict[str, float]:
        """One pass over the (shuffled) training set in mini-batches; the epoch's mean logs.

        Off the hot path: the batch hooks go only to callbacks that define them (the running
        logs are computed only for those), and a compiled step gets its shuffled batch
        gathered into arrays kept for the epoch (``np.take(out=)``), or a view of the rows
        when they are not shuffled, instead of a new copy per batch.
        """
        self.train()
        count = len(x)
        order = generator.permutation(count) if shuffle else None
        begin = _batch_listeners(callback_list, "on_batch_begin")
        end = _batch_listeners(callback_list, "on_batch_end")
        gather = _BatchGather(x, y, weights, size)
        totals: dict[str, float] = {}
        seen = 0
        for batch, start in enumerate(range(0, count, size)):
            for callback in begin:
                callback.on_batch_begin(batch, {})
            compiled = self.compiled_step is not None and self.jit_fallback_reason is None
            x_batch, y_batch, w_batch = gather(order, start, kept=compiled)
            batch_logs = self._train_step(x_batch, y_batch, stop_on_nan, w_batch)
            rows = len(x_batch)
            for key, value in batch_logs.items():
                totals[key] = totals.get(key, 0.0) + value * rows
            seen += rows
            if end:
                running = {key: value / seen for key, value in totals.items()}
                for callback in end:
                    callback.on_batch_end(batch, {**running, "size": rows})
            if self.stop_training or interrupt.requested:
                break
        return {key: value / seen for key, value in totals.items()}

    # ------------------------------------------------------------------ checkpoints
    def _save_checkpoint(
        self,
        path: str | os.PathLike[str],
        epoch: int,
        generator: np.random.Generator,
        history: History,
        callbacks: Sequence[Callback],
    ) -> None:
        _, optimizer = self._require_compiled()
        state = {
            "epoch": epoch,
            "optimizer": optimizer.state_dict(),
            "shuffle_generator": generator.bit_generator.state,
            "layer_generators": {
                name: layer_generator.bit_generator.state
                for name, layer_generator in _layer_generators(self).items()
            },
            "history": {"history": history.history, "epoch": history.epoch},
            "callbacks": [{"class": type(c).__name__, "state": c.get_state()} for c in callbacks],
        }
        from .serialization import save_model  # a higher layer; on use

        save_model(self, path, training_state=state)

    def _resume_from(
        self,
        path: str | os.PathLike[str],
        generator: np.random.Generator,
        history: History,
        callbacks: Sequence[Callback],
    ) -> int:
        """Load a checkpoint's weights and progress; returns the epoch to continue with."""
        from .serialization import ModelFileError, read_training_state  # a higher layer; on use

        _, optimizer = self._require_compiled()
        state, weights = read_training_state(path)
        own = {name: value.shape for name, value in self.state_dict().items()}
        stored = {name: value.shape for name, value in weights.items()}
        if own != stored:  # checked before anything is loaded: nothing changes on failure
            name = (
                sorted(set(own) ^ set(stored)) or sorted(k for k in own if own[k] != stored[k])
            )[0]
            detail = (
                f"it lacks {name!r}"
                if name not in stored
                else f"it has {name!r}, which the model has not"
                if name not in own
                else f"it stores {name!r} of shape {stored[name]}, the model's is {own[name]}"
            )
            raise ModelFileError(f"the checkpoint {path} does not match this model ({detail})")
        written_by = state.get("optimizer_name")
        if written_by is not None and written_by != optimizer.name:
            raise ModelFileError(
                f"the checkpoint {path} holds the state of the {written_by} "
                f"optimiser, but this model is compiled with {optimizer.name}; "
                f"compile with optimizer={written_by!r} to resume, or delete "
                "the checkpoint to start over"
            )
        try:
            optimizer.load_state_dict(state["optimizer"])
        except (KeyError, TypeError, ValueError) as error:
            raise ModelFileError(
                f"the checkpoint {path} holds an optimiser state that does not "
                f"fit this model's {optimizer.name} ({error}); delete the "
                "checkpoint to start over"
            ) from None
        self.load_state_dict(weights)
        generator.bit_generator.state = state["shuffle_generator"]
        layer_generators = _layer_generators(self)
        for name, generator_state in state["layer_generators"].items():
            layer_generators[name].bit_generator.state = generator_state
        history.history = {k: list(v) for k, v in state["history"]["history"].items()}
        history.epoch = list(state["history"]["epoch"])
        saved = state["callbacks"]
        for callback, entry in zip(callbacks, saved):
            if entry["class"] == type(callback).__name__:
                callback.set_state(entry["state"])
        return int(state["epoch"]) + 1

    def total_loss(
        self, prediction: Tensor, target: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> Tensor:
        """The compiled loss (weighted by ``sample_weight``, one weight per row, when given)
        plus every layer's weight penalty (the regularised risk of docs/math.md §2)."""
        loss_function, _ = self._require_compiled()
        value = loss_function(prediction, target, sample_weight)
        penalty = self.penalty()
        return value if penalty is None else value + penalty

    def _compiled_program(self, x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> Any:
        """The compiled program for this batch, or None (eager) after saying why once."""
        step = self.compiled_step
        if step is None or self.jit_fallback_reason is not None:
            return None
        try:
            return step.program(x, y, w)
        except Exception as error:
            from .compiler import CompileError, fallback_warning

            if not isinstance(error, CompileError):
                raise
            self.jit_fallback_reason = str(error)
            if self.jit is True:
                fallback_warning(self.jit_fallback_reason)
            return None

    def _train_step(
        self, x: np.ndarray, y: np.ndarray, stop_on_nan: bool, w: np.ndarray | None = None
    ) -> dict[str, float]:
        _, optimizer = self._require_compiled()
        program = self._compiled_program(x, y, w)
        if program is not None:
            value = program.forward(x, y, w)
            if not np.isfinite(value):
                return self._non_finite_loss(value, stop_on_nan)
            program.backward()
            program.update(optimizer)
            logs = {"loss": value}
            if self.metrics:  # the prediction may be computed on demand: only then
                logs.update(self._metric_values(program.prediction, y))
            return logs
        if getattr(optimizer, "requires_closure", False):

            def closure() -> Tensor:
                optimizer.zero_grad()
                value = self.total_loss(self(x), y, w)
                value.backward()
                return value

            optimizer.step(closure)
            with no_grad():
                prediction = self(x)
                loss = self.total_loss(prediction, y, w)
        else:
            optimizer.zero_grad()
            prediction = self(x)
            loss = self.total_loss(prediction, y, w)
            if not np.isfinite(loss.item()):
                return self._non_finite_loss(loss.item(), stop_on_nan)
            loss.backward()
            optimizer.step()
        logs = {"loss": loss.item()}
        logs.update(self._metric_values(prediction.data, y))
        return logs

    def _non_finite_loss(self, value: float, stop_on_nan: bool) -> dict[str, float]:
        if stop_on_nan:
            self.stop_training = True
            return {"loss": value}
        raise FloatingPointError(
            f"the training loss became {value}: lower the learning rate, check the "
            "data for extreme values, or add a TerminateOnNaN callback to stop instead"
        )

    # ------------------------------------------------------------------ sample weights
    def _sample_weights(
        self,
        x: np.ndarray,
        y: np.ndarray,
        sample_weight: Any,
        class_weight: Any,
        name: str,
        remember: bool = True,
    ) -> np.ndarray | None:
        """One weight per row in the parameters' dtype: ``sample_weight`` times the class
        weight of each row's class, or None when neither is given (unweighted). With
        ``remember``, the class weights used are kept in ``metadata["class_weight"]``."""
        weights = None
        if sample_weight is not None:
            weights = _checked_sample_weight(sample_weight, len(x), name)
        if remember and isinstance(self.metadata, dict):
            self.metadata.pop("class_weight", None)
        classes = self._known("classes")
        if (
            isinstance(class_weight, dict)
            and classes is not None
            and list(classes) != list(range(len(classes)))
        ):  # keyed by the labels themselves (the data path's rule)
            keys = data_path.encode_labels(list(class_weight), known=classes, name="class_weight")[
                0
            ]
            class_weight = {int(k): w for k, w in zip(keys, class_weight.values())}
        if class_weight is not None:
            labels = class_labels(self.loss, y)
            per_class = resolve_class_weight(class_weight, labels, self._class_count(x, y))
            if remember and isinstance(self.metadata, dict):
                self.metadata["class_weight"] = {str(k): v for k, v in per_class.items()}
            table = np.ones(max([*per_class, int(labels.max())]) + 1)  # 1 for classes not given
            for label, weight in per_class.items():
                table[label] = weight
            by_class = table[labels]
            weights = by_class if weights is None else weights * by_class
        return None if weights is None else weights.astype(self._data_dtype())

    def _class_count(self, x: np.ndarray, y: np.ndarray) -> int:
        """How many classes the model tells apart: 2 for a binary cross-entropy, else the
        width of the one-hot targets or of the model's output."""
        if isinstance(self.loss, losses.BinaryCrossentropy):
            return 2
        if y.ndim > 1:
            return int(y.shape[-1])
        sample = self._prepare(x[:1])
        self.build(sample.shape[1:])
        self.eval()
        with no_grad():
            width = self(sample).shape[-1]
        self.train()
        return int(width)

    def _saved_class_weight(self) -> dict[int, float]:
        saved = self.metadata.get("class_weight") if isinstance(self.metadata, dict) else None
        if saved is None:
            raise ValueError(
                'class_weight="saved": the model has no saved class weights '
                "(fit it with class_weight=...)"
            )
        return {int(k): float(v) for k, v in saved.items()}

    # ------------------------------------------------------------------ evaluate / predict
    def _measure(
        self, x: np.ndarray, y: np.ndarray, batch_size: int, w: np.ndarray | None = None
    ) -> dict[str, float]:
        self.eval()
        totals: dict[str, float] = {}
        with no_grad():
            for start in range(0, len(x), batch_size):
                xb, yb = x[start : start + batch_size], y[start : start + batch_size]
                wb = None if w is None else w[start : start + batch_size]
                prediction = self(xb)
                values = {"loss": self.total_loss(prediction, yb, wb).item()}
                values.update(self._metric_values(prediction.data, yb))
                for key, value in values.items():
                    totals[key] = totals.get(key, 0.0) + value * len(xb)
        self.train()
        return {key: value / len(x) for key, value in totals.items()}

    def evaluate(
        self,
        x: Any,
        y: Any,
        batch_size: int | None = 32,
        return_dict: bool = False,
        verbose: int = 0,
        sample_weight: Any = None,
        class_weight: Any = None,
    ) -> Any:
        """The loss (and metrics) on (x, y) in eval mode: a float without metrics, else
        ``[loss, metric, ...]`` (Keras), or a dict with ``return_dict=True``.

        ``sample_weight`` and ``class_weight`` weight the loss as in ``fit`` (the metrics stay
        unweighted); ``class_weight="saved"`` uses the class weights of the last ``fit``
        (``metadata["class_weight"]``, saved with the model).

        ``verbose=0`` (the default) prints nothing; 1 or 2 print one line with the results
        (``Evaluate - 30 samples - loss 0.1235 - accuracy 0.875``).

        Args:
            x: the inputs (as for ``fit``; a DataFrame is matched by column name).
            y: the targets (class labels are looked up in the model's classes).
            batch_size: rows per forward pass; None for all at once.
            return_dict: return {"loss": ..., metric: ...} instead.
            verbose: 0, 1 or 2 (see above).
            sample_weight: one weight ≥ 0 per row.
            class_weight: {class: weight}, "balanced" or "saved".

        Returns:
            The loss (a float) without metrics, else [loss, metric, ...], or the dict.

        Raises:
            ValueError: bad data, or a label the model does not know.
            RuntimeError: the model is not compiled.
        """
        self._require_compiled()
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2, not {verbose!r}")
        x, y = self._pair(x, y, "x", "y")
        if isinstance(class_weight, str) and class_weight == "saved":
            class_weight = self._saved_class_weight()
        weights = self._sample_weights(
            x, y, sample_weight, class_weight, "sample_weight", remember=False
        )
        x = self._prepare(x)
        self.build(x.shape[1:])
        size = len(x) if batch_size is None else _batch_size(batch_size)
        result = self._measure(x, y, size, weights)
        if verbose:
            print(f"Evaluate - {len(x)} samples - {format_logs(result)}")
        if return_dict:
            return result
        if not self.metrics:
            return result["loss"]
        return [result["loss"], *(result[key] for key, _ in self.metrics)]

    def predict(self, x: Any, batch_size: int | None = None) -> np.ndarray:
        """The model's outputs for x, in eval mode, as an ndarray.

        Args:
            x: the inputs, one row per sample (a DataFrame is matched by column name).
            batch_size: rows per forward pass; None for all at once.

        Returns:
            An array of shape (rows, outputs): probabilities after a softmax or sigmoid
            output, else the raw outputs (logits, regression values).
        """
        return np.concatenate([output.data for output in self._outputs(x, batch_size)], axis=0)

    def predict_proba(self, x: Any, batch_size: int | None = None) -> np.ndarray:
        """The predicted probabilities for x: the outputs of a softmax or sigmoid output layer
        as they are, or, when the compiled loss is a cross-entropy ``from_logits=True``, the
        logits turned into probabilities by the softmax (sigmoid) that loss fuses in.

        Any other output is refused with a ValueError: it is no probability.

        Args:
            x: the inputs, one row per sample.
            batch_size: rows per forward pass; None for all at once.

        Returns:
            An array of shape (rows, classes) whose rows sum to 1 (one column, P(class 1),
            for a single sigmoid output).
        """
        outputs = self._outputs(x, batch_size)
        prediction = np.concatenate([output.data for output in outputs], axis=0)
        if getattr(self.loss, "from_logits", False):
            return self._as_probabilities(prediction)
        source = activations.activation_input(outputs[0])
        if source is not None and source[0].name in losses.PROBABILITY_OUTPUTS:
            return prediction
        raise ValueError(
            "predict_proba: the model's outputs are not probabilities (its output layer is "
            "no softmax or sigmoid, and it is not compiled with a from_logits=True "
            "cross-entropy); use predict"
        )

    def _outputs(self, x: Any, batch_size: int | None) -> list[Tensor]:
        """The output tensors for x, batch by batch, in eval mode and without a graph."""
        x = self._prepare(self._inputs(x))
        self.build(x.shape[1:])
        size = len(x) if batch_size is None else _batch_size(batch_size)
        self.eval()
        with no_grad():
            outputs = [self(x[start : start + size]) for start in range(0, len(x), size)]
        self.train()
        return outputs

    # ------------------------------------------------------------------ weights
    def get_weights(self) -> list[np.ndarray]:
        """Copies of every parameter, then every buffer (BatchNorm's running statistics), in
        ``state_dict`` order (Keras' ``get_weights``); empty before the model is built."""
        return list(self.state_dict().values())

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Load arrays in ``get_weights`` order into the model (Keras' ``set_weights``): as
        many arrays as ``get_weights`` returns, each of the same shape."""
        state = self.state_dict()
        names = list(state)
        if not names:
            raise ValueError(
                "set_weights: the model has no weights yet; build it first "
                "(give input_dim, or call it once)"
            )
        if len(weights) != len(names):
            raise ValueError(
                f"set_weights: the model has {len(names)} weight arrays (get_weights order), "
                f"got {len(weights)}"
            )
        for index, (name, value) in enumerate(zip(names, weights)):
            shape = np.shape(value)
            if shape != state[name].shape:
                raise ShapeError(
                    f"set_weights: array {index} ({name}) has shape {shape}, the model's "
                    f"has shape {state[name].shape}"
                )
        self.load_state_dict(dict(zip(names, (np.asarray(value) for value in weights))))

    def _metric_values(self, prediction: np.ndarray, target: np.ndarray) -> dict[str, float]:
        if not self.metrics:
            return {}
        probabilities = self._as_probabilities(prediction)
        return {key: float(function(target, probabilities)) for key, function in self.metrics}

    def _as_probabilities(self, prediction: np.ndarray) -> np.ndarray:
        """Metrics read probabilities: undo a from_logits loss's fused sigmoid or softmax."""
        if not getattr(self.loss, "from_logits", False):
            return prediction
        if isinstance(self.loss, losses.BinaryCrossentropy):
            return activations.get("sigmoid").forward(prediction)
        return activations.get("softmax").forward(prediction)


# ---------------------------------------------------------------------- interruption
def _batch_listeners(callback_list: CallbackList, hook: str) -> list[Callback]:
    """The callbacks whose ``hook`` does something: those that define it, on the class or the
    instance (a silent progress bar does not), in order."""
    return [
        callback
        for callback in callback_list.callbacks
        if (hook in vars(callback) or getattr(type(callback), hook) is not getattr(Callback, hook))
        and not (isinstance(callback, ProgressBar) and callback.verbose == 0)
    ]


class _BatchGather:
    """The rows of one mini-batch of (x, y, w): a view when the rows are consecutive
    (no shuffling) and the arrays C-contiguous; otherwise gathered, into arrays kept for the
    whole epoch when ``kept`` (a compiled step reads its batch only while it runs), else copies.
    The same values as ``x[rows]`` either way."""

    def __init__(self, x: np.ndarray, y: np.ndarray, w: np.ndarray | None, size: int) -> None:
        self.arrays = [a for a in (x, y, w) if a is not None]
        self.weighted = w is not None
        self.size = size
        self.kept: list[np.ndarray] | None = None

    def __call__(
        self, order: np.ndarray | None, start: int, kept: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        stop = start + self.size
        if order is None and all(a.flags.c_contiguous for a in self.arrays):
            batch = [a[start:stop] for a in self.arrays]
        elif order is None:
            batch = [a[start:stop].copy() for a in self.arrays]
        else:
            rows = order[start:stop]
            if kept:
                if self.kept is None:
                    self.kept = [
                        np.empty((min(self.size, len(a)),) + a.shape[1:], a.dtype)
                        for a in self.arrays
                    ]
                batch = [
                    np.take(a, rows, axis=0, out=buffer[: len(rows)], mode="clip")
                    for a, buffer in zip(self.arrays, self.kept)
                ]
            else:
                batch = [a[rows] for a in self.arrays]
        return batch[0], batch[1], batch[2] if self.weighted else None


class _StopOnInterrupt:
    """While active, the first SIGINT only sets ``requested`` (fit stops after the batch);
    a second one interrupts at once. Only in the main thread (where signals are delivered)."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> _StopOnInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc_info: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _interrupted_message(epoch: int, checkpoint: Any) -> str:
    if checkpoint is None:
        return (
            f"training interrupted during epoch {epoch + 1}; no checkpoint was being "
            "written (pass checkpoint=PATH to fit to be able to resume)"
        )
    kept = f"holds epoch {epoch}" if epoch > 0 else "was not written yet (no epoch finished)"
    return (
        f"training interrupted during epoch {epoch + 1}; the checkpoint {checkpoint} {kept}; "
        "run again with resume=True (chainrule train --resume) to continue"
    )


# ---------------------------------------------------------------------- data checks
def _checked_target(data: Any, name: str, dtype: np.dtype) -> np.ndarray:
    """Targets that are no class labels: a checked float array (``data_path.checked_array``),
    except integers, which stay integers (the losses convert what they need)."""
    labels = np.asarray(data.data if isinstance(data, Tensor) else data)
    if labels.dtype.kind in "iu" and labels.ndim > 0 and len(labels):
        data_path.exact_float_array(labels, dtype, name)  # what the loss will make of them
        return labels
    return data_path.checked_array(data, name, dtype)


CLASSIFICATION_LOSSES = (losses.ProbabilityLoss, losses.NegativeLogLikelihood)


def _checked_sample_weight(sample_weight: Any, count: int, name: str) -> np.ndarray:
    """The sample weights as a float64 array of shape (count,): finite and >= 0."""
    array = np.asarray(sample_weight.data if isinstance(sample_weight, Tensor) else sample_weight)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got data of dtype {array.dtype}")
    if array.shape != (count,):
        raise ShapeError(
            f"{name} must have shape ({count},), one weight per sample, got shape {array.shape}"
        )
    array = array.astype(np.float64)
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise ValueError(f"{name} must be finite and >= 0, got {array[row]} in row {row}")
    return array


def class_labels(loss: Any, y: np.ndarray) -> np.ndarray:
    """The class index of every row, for class weights: integer labels as they are, one-hot
    rows by their arg-max, binary 0/1 targets as 0 and 1."""
    if not isinstance(loss, CLASSIFICATION_LOSSES):
        raise ValueError(
            f"class_weight needs a classification loss (a cross-entropy or nll), "
            f"not {loss.name}; use sample_weight"
        )
    if isinstance(loss, losses.BinaryCrossentropy):
        if y.ndim > 1 and y.shape[1:] != (1,):
            raise ValueError(
                f"class_weight needs one binary label per row, got targets of shape {y.shape}"
            )
        labels = y.reshape(len(y))
        if not np.all((labels == 0) | (labels == 1)):
            raise ValueError("class_weight needs binary targets of 0 and 1, not soft labels")
        return labels.astype(np.int64)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    if y.ndim != 1 or not np.all(y == np.round(y)):
        raise ValueError(
            f"class_weight needs integer class labels or one-hot rows, got "
            f"targets of shape {y.shape}"
        )
    return y.astype(np.int64)


def resolve_class_weight(class_weight: Any, labels: np.ndarray, classes: int) -> dict[int, float]:
    """{class index: weight}, checked, from a dict or ``"balanced"``: n_samples /
    (n_classes · count(class)) over the classes present (scikit-learn's formula)."""
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"class_weight must be a dict or 'balanced', not {class_weight!r}")
        present, counts = np.unique(labels, return_counts=True)
        return {int(c): len(labels) / (len(present) * int(n)) for c, n in zip(present, counts)}
    if not isinstance(class_weight, dict):
        raise TypeError(
            f"class_weight must be a dict {{class index: weight}} or 'balanced', "
            f"not {type(class_weight).__name__}"
        )
    resolved: dict[int, float] = {}
    for key, weight in class_weight.items():
        if isinstance(key, (bool, np.bool_)) or not isinstance(key, (int, np.integer)):
            raise ValueError(f"class_weight: the class {key!r} is not a class index (an int)")
        if not 0 <= key < classes:
            raise ValueError(
                f"class_weight: unknown class {key} (the model has classes 0..{classes - 1})"
            )
        if isinstance(weight, (bool, np.bool_)) or not isinstance(weight, (int, float, np.number)):
            raise ValueError(
                f"class_weight: the weight of class {key} must be a number, got {weight!r}"
            )
        if not (np.isfinite(weight) and weight >= 0):
            raise ValueError(
                f"class_weight: the weight of class {key} must be finite and >= 0, got {weight}"
            )
        resolved[int(key)] = float(weight)
    return resolved


def _layer_generators(model: Module) -> dict[str, np.random.Generator]:
    """The random generator of every layer that draws (a Dropout's mask), by module name."""
    return {
        name: module._generator
        for name, module in model.named_modules()
        if hasattr(module, "_generator")
    }


def _split_off_validation(
    x: np.ndarray, y: np.ndarray, fraction: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_split must be between 0 and 1, got {fraction}")
    held_out = int(round(len(x) * fraction))
    if held_out == 0 or held_out == len(x):
        raise ValueError(
            f"validation_split={fraction} of {len(x)} samples leaves an empty training or "
            "validation set"
        )
    # Keras' rule: the last fraction of the samples, before any shuffling.
    return x[:-held_out], y[:-held_out], x[-held_out:], y[-held_out:]


def _batch_size(batch_size: Any) -> int:
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    return int(batch_size)


def _metric_key(metric: Any) -> str:
    return metrics.metric_name(metric)


def _metric_function(metric: Any) -> Callable[..., float]:
    return metrics.get(metric)


__all__ = [
    "Arrays",
    "class_labels",
    "CLASSIFICATION_LOSSES",
    "Model",
    "resolve_class_weight",
    "TrainingInterrupted",
]
