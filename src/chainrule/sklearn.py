"""scikit-learn estimators: chainrule networks as ``MLPClassifier`` and ``MLPRegressor``.

They pass scikit-learn's own ``check_estimator`` suite (``tests/test_sklearn.py`` lists the
checks they are expected to fail and why), so they work in ``Pipeline``, ``GridSearchCV``,
``cross_val_score`` and ``clone`` — with what scikit-learn's own MLP does not offer: any
activation of chainrule's catalog (one name, or one per hidden layer: ``leaky_relu``, ``mish``,
``prelu``, ...), dropout, every optimiser of ``chainrule.optim``, the compiled training step,
the training health monitor, and float32 or float64.

The network is docs/math.md §2's: ``Dense`` hidden layers with their activations (each followed
by ``Dropout`` where a rate is given), then a linear output layer. The classifier's output is
one logit per class with the softmax fused into the cross-entropy (``predict_proba`` applies
it); the regressor's is one unit per target with the mean squared error. ``alpha`` is the L2
strength λ of the regularised risk R = mean loss + (λ/2)·Σ‖W‖²_F (biases are not penalised;
unlike scikit-learn, λ is not divided by the number of samples).

Training (``fit``) runs up to ``max_iter`` epochs of mini-batch training and stops once the
training loss (or, with ``early_stopping=True``, the loss on a held-out ``validation_fraction``,
whose best weights are then kept) has not fallen by more than ``tol`` for ``n_iter_no_change``
epochs. ``partial_fit`` trains one epoch on the data it is given, from where it left off.
``sample_weight`` (``fit`` and ``partial_fit``) weights each sample's loss as
``Model.fit(sample_weight=)`` does: Σᵢ wᵢ·ℓᵢ / N per mini-batch of N samples (Keras'
convention, not divided by Σw), so a weight of 2 is not the same as the sample given twice
(the batches differ); with early stopping the weights are split with the samples and weight
the held-out loss too.

The fitted network is ``model_`` (a ``chainrule.models.Sequential``: ``model_.health(X)``,
``model_.gradcheck(X, y)``, ``model_.summary()``). ``save(path)`` writes it, the estimator's
settings and its classes to one chainrule model file (no pickle); ``MLPClassifier.load(path)``
reads it back. Pickling an estimator (``joblib``, ``n_jobs``) goes through that same file.

Needs scikit-learn 1.6 or newer: ``pip install "chainrule[sklearn]"``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
except ImportError as error:  # validate_data is new in scikit-learn 1.6
    raise ImportError(
        'chainrule.sklearn needs scikit-learn 1.6 or newer: pip install "chainrule[sklearn]"'
    ) from error

from chainrule import losses, optim
from chainrule.callbacks import EarlyStopping
from chainrule.dtypes import default_dtype, resolve_dtype
from chainrule.models import Sequential
from chainrule.nn import Dense, Dropout
from chainrule.serialization import load_model, read_archive, read_training_state, save_model

# The key of the estimator's record in the model file's metadata.
_METADATA_KEY = "sklearn"


def _per_layer(name: str, value: Any, layers: int) -> list[Any]:
    """One value for every hidden layer: a single value repeated, or a list of that length."""
    if isinstance(value, (list, tuple)):
        if len(value) != layers:
            raise ValueError(
                f"{name} gives {len(value)} values for {layers} hidden layers; "
                "give one value, or one per hidden layer"
            )
        return list(value)
    return [value] * layers


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _weights(sample_weight: Any, X: np.ndarray) -> np.ndarray | None:
    """``sample_weight`` checked as scikit-learn checks it (one finite weight ≥ 0 per sample;
    a number weights every sample alike), or None for unweighted training."""
    if sample_weight is None:
        return None
    return _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)


class _ChainruleNetwork(BaseEstimator):
    """What the classifier and the regressor share: the parameters, the network, training."""

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (100,),
        activation: str | Sequence[str] = "relu",
        *,
        dropout: float | Sequence[float] = 0.0,
        optimizer: str = "adam",
        learning_rate_init: float = 0.001,
        optimizer_params: dict[str, Any] | None = None,
        alpha: float = 0.0001,
        batch_size: int | str | None = "auto",
        max_iter: int = 200,
        shuffle: bool = True,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        random_state: int | np.random.RandomState | None = None,
        dtype: str = "float64",
        jit: bool | str = "auto",
        health: bool = False,
        verbose: int = 0,
    ) -> None:
        # scikit-learn's rule: store the parameters unchanged; fit checks them.
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.optimizer = optimizer
        self.learning_rate_init = learning_rate_init
        self.optimizer_params = optimizer_params
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.dtype = dtype
        self.jit = jit
        self.health = health
        self.verbose = verbose

    # ------------------------------------------------------------------ what subclasses say
    def _validated(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        """X (and the checked targets) as scikit-learn validates them."""
        raise NotImplementedError

    def _network_targets(self, y: np.ndarray) -> np.ndarray:
        """The targets the network trains on (class indices, or a column per target)."""
        raise NotImplementedError

    def _output_units(self) -> int:
        raise NotImplementedError

    def _loss(self) -> losses.Loss:
        raise NotImplementedError

    def _stratify(self, y: np.ndarray) -> np.ndarray | None:
        return None

    def _fitted_record(self) -> dict[str, Any]:
        """The fitted attributes a model file keeps besides the network (JSON-able)."""
        return {}

    def _restore_record(self, record: dict[str, Any]) -> None:
        """Set the fitted attributes ``_fitted_record`` kept."""

    # ------------------------------------------------------------------ the network
    def _hidden_layer_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, (int, np.integer)) and not isinstance(sizes, bool):
            sizes = (sizes,)
        if not isinstance(sizes, (list, tuple)):
            raise ValueError(
                "hidden_layer_sizes must be a positive integer or a sequence of "
                f"them, got {sizes!r}"
            )
        return [_positive_int("hidden_layer_sizes", size) for size in sizes]

    def _dtype(self) -> np.dtype:
        return resolve_dtype(self.dtype)

    def _new_network(self, n_features: int, seed: int) -> Sequential:
        """Hidden Dense layers (each with its activation, then its Dropout), a linear output;
        initialised from ``seed`` (the dropout masks from generators spawned from it)."""
        sizes = self._hidden_layer_sizes()
        activations = _per_layer("activation", self.activation, len(sizes))
        rates = _per_layer("dropout", self.dropout, len(sizes))
        if not self.alpha >= 0:
            raise ValueError(f"alpha (the L2 strength) must be ≥ 0, got {self.alpha!r}")
        penalty = float(self.alpha) or None
        mask_generators = np.random.SeedSequence(seed).spawn(len(sizes))
        layers: list[Any] = []
        for units, activation, rate, generator in zip(sizes, activations, rates, mask_generators):
            layers.append(Dense(units, activation=activation, kernel_regularizer=penalty))
            if rate:
                layers.append(Dropout(rate, seed=np.random.default_rng(generator)))
        layers.append(Dense(self._output_units(), kernel_regularizer=penalty))
        with default_dtype(self._dtype()):
            return Sequential(
                layers, seed=seed, input_shape=(n_features,), name=type(self).__name__
            )

    def _compile(self, model: Sequential) -> None:
        if not isinstance(self.optimizer, str):
            raise ValueError(
                "optimizer must be the name of a chainrule optimizer (its settings "
                f"go to learning_rate_init and optimizer_params), not "
                f"{self.optimizer!r}"
            )
        settings = dict(self.optimizer_params or {})
        model.compile(
            loss=self._loss(),
            optimizer=optim.get(self.optimizer, lr=self.learning_rate_init, **settings),
            jit=self.jit,
        )

    # ------------------------------------------------------------------ training
    def _batch_size(self, samples: int) -> int | None:
        if self.batch_size == "auto":
            return min(200, samples)  # scikit-learn's MLP rule
        if self.batch_size is None:
            return None
        return _positive_int("batch_size", self.batch_size)

    def _stopping(self) -> EarlyStopping:
        monitor = "val_loss" if self.early_stopping else "loss"
        if not self.tol >= 0:
            raise ValueError(f"tol must be ≥ 0, got {self.tol!r}")
        return EarlyStopping(
            monitor=monitor,
            min_delta=self.tol,
            patience=_positive_int("n_iter_no_change", self.n_iter_no_change),
            restore_best_weights=bool(self.early_stopping),
        )

    def _train(
        self,
        X: np.ndarray,
        targets: np.ndarray,
        epochs: int,
        stopping: EarlyStopping | None,
        validation: tuple[Any, ...] | None,
        weights: np.ndarray | None = None,
    ) -> None:
        """Train ``model_`` for up to ``epochs`` epochs; ``n_iter_`` and ``history_`` grow."""
        model = self.model_
        history = model.fit(
            X,
            targets,
            epochs=epochs,
            batch_size=self._batch_size(len(X)),
            validation_data=validation,
            shuffle=bool(self.shuffle),
            callbacks=[stopping] if stopping is not None else None,
            verbose=self.verbose,
            seed=self._seed + 1 + self.n_iter_,
            health=bool(self.health),
            sample_weight=weights,
        )
        for key, values in history.history.items():
            self.history_.setdefault(key, []).extend(values)
        self.n_iter_ += len(history.epoch)

    def _start(self, n_features: int) -> None:
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self._seed = seed  # initialisation; seed + 1 + epoch shuffles (kept in model files)
        self.model_ = self._new_network(n_features, seed)
        self._compile(self.model_)
        self.n_iter_ = 0
        self.history_: dict[str, list[float]] = {}

    def _fit(self, X: Any, y: Any, sample_weight: Any = None) -> _ChainruleNetwork:
        X, y = self._validated(X, y, reset=True)
        weights = _weights(sample_weight, X)
        targets = self._network_targets(y)
        self._start(X.shape[1])
        validation: tuple[Any, ...] | None = None
        if self.early_stopping:
            fraction = self.validation_fraction
            if not 0 < fraction < 1:
                raise ValueError(f"validation_fraction must be in (0, 1), got {fraction!r}")
            parts = train_test_split(
                X,
                targets,
                *([] if weights is None else [weights]),
                test_size=fraction,
                random_state=self._seed,
                stratify=self._stratify(targets),
            )
            X, X_val, targets, targets_val = parts[:4]
            validation = (X_val, targets_val, *parts[5:6])  # the held-out weights, if any
            weights = None if weights is None else parts[4]
        self._train(
            X,
            targets,
            _positive_int("max_iter", self.max_iter),
            self._stopping(),
            validation,
            weights,
        )
        return self

    def _partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> _ChainruleNetwork:
        first_call = not hasattr(self, "model_")
        X, y = self._validated(X, y, reset=first_call)
        weights = _weights(sample_weight, X)
        targets = self._network_targets(y)
        if first_call:
            self._start(X.shape[1])
        self._train(X, targets, 1, None, None, weights)
        return self

    @property
    def loss_curve_(self) -> list[float]:
        """The training loss of every epoch trained (scikit-learn's name)."""
        return self.history_["loss"]

    def _predicted(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=self.model_._data_dtype())
        return self.model_.predict(X).astype(np.float64)  # scikit-learn predicts in float64

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted network, the settings and the fitted attributes (classes, feature
        names) to one chainrule model file: no pickle. ``type(self).load(path)`` reads it."""
        check_is_fitted(self)
        self._write(path, training_state=None)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> _ChainruleNetwork:
        """The estimator saved at ``path`` with ``save``, fitted, ready to predict."""
        return cls._read(path, with_training_state=False)

    def _record(self) -> dict[str, Any]:
        params = self.get_params()
        for name, value in params.items():
            try:
                json.dumps(value)
            except TypeError:
                raise TypeError(
                    f"cannot save {type(self).__name__}: its parameter {name}="
                    f"{value!r} cannot be written to a model file"
                ) from None
        record = {
            "estimator": type(self).__name__,
            "params": params,
            # JSON has no tuples: the names of the parameters given as tuples
            "tuple_params": [name for name, value in params.items() if isinstance(value, tuple)],
            "seed": self._seed,
            "n_iter": self.n_iter_,
            "history": self.history_,
            **self._fitted_record(),
        }
        if hasattr(self, "feature_names_in_"):
            record["feature_names_in"] = self.feature_names_in_.tolist()
        return record

    def _write(self, path: str | os.PathLike[str], training_state: dict[str, Any] | None) -> None:
        model = self.model_
        metadata = model.metadata
        model.metadata = {**metadata, _METADATA_KEY: self._record()}
        try:
            save_model(model, path, training_state=training_state)
        finally:
            model.metadata = metadata

    @classmethod
    def _read(cls, path: str | os.PathLike[str], with_training_state: bool) -> _ChainruleNetwork:
        description, _ = read_archive(path)
        record = (description.get("metadata") or {}).get(_METADATA_KEY)
        if not isinstance(record, dict) or record.get("estimator") != cls.__name__:
            found = record.get("estimator") if isinstance(record, dict) else "no estimator"
            raise ValueError(f"{path} holds {found}, not a chainrule.sklearn {cls.__name__}")
        params = dict(record["params"])
        for name in record["tuple_params"]:
            params[name] = tuple(params[name])
        estimator = cls(**params)
        # Rebuilt in the estimator's dtype: the layers take the default dtype when built.
        with default_dtype(estimator._dtype()):
            model = load_model(path)
        model.metadata.pop(_METADATA_KEY, None)
        estimator.model_ = model
        estimator._compile_loaded()
        estimator._seed = int(record["seed"])
        estimator.n_iter_ = int(record["n_iter"])
        estimator.history_ = {key: list(values) for key, values in record["history"].items()}
        estimator.n_features_in_ = int(model.input_shape[0])
        if "feature_names_in" in record:
            estimator.feature_names_in_ = np.asarray(record["feature_names_in"], dtype=object)
        estimator._restore_record(record)
        if with_training_state:
            state, _ = read_training_state(path)
            model.optimizer.load_state_dict(state["optimizer"])
            modules = dict(model.named_modules())
            for name, generator_state in state["layer_generators"].items():
                modules[name]._generator.bit_generator.state = generator_state
        return estimator

    def _compile_loaded(self) -> None:
        """Compile a loaded network with the saved loss and optimiser, and this ``jit``."""
        model = self.model_
        model.compile(loss=model.loss, optimizer=model.optimizer, jit=self.jit)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle through a model file (with the optimiser's state and the dropout
        generators, so that training continues exactly): no chainrule object is pickled."""
        state = dict(super().__getstate__())  # a copy: the estimator keeps its model_
        if "model_" in state:
            model = state.pop("model_")
            # A checkpoint in the model files' own format (what fit(resume=True) reads):
            # the optimiser's state and the random layers' generators carry on exactly.
            training_state = {
                "epoch": max(self.n_iter_ - 1, 0),
                "optimizer": model.optimizer.state_dict(),
                "shuffle_generator": np.random.default_rng(self._seed).bit_generator.state,
                "layer_generators": {
                    name: module._generator.bit_generator.state
                    for name, module in model.named_modules()
                    if hasattr(module, "_generator")
                },
                "history": {"history": {}, "epoch": []},
                "callbacks": [],
            }
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "estimator.npz"
                self._write(path, training_state)
                state["_model_file"] = path.read_bytes()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        model_file = state.pop("_model_file", None)
        super().__setstate__(state)
        if model_file is not None:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "estimator.npz"
                path.write_bytes(model_file)
                self.model_ = type(self)._read(path, with_training_state=True).model_


class MLPClassifier(ClassifierMixin, _ChainruleNetwork):
    """A chainrule network as a scikit-learn classifier: class labels of any kind (strings
    too) in ``classes_``, one logit per class, the softmax cross-entropy from logits.

    >>> import numpy as np
    >>> from chainrule.sklearn import MLPClassifier
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 8)
    >>> y = np.array(["same", "differ", "differ", "same"] * 8)
    >>> clf = MLPClassifier((8,), activation="tanh", learning_rate_init=0.05, max_iter=300,
    ...                     random_state=0).fit(X, y)
    >>> clf.predict([[0.0, 1.0], [1.0, 1.0]]).tolist(), clf.score(X, y)
    (['differ', 'same'], 1.0)
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPClassifier:
        """Train a new network on (X, y) (see the module docstring for when it stops), each
        sample's loss weighted by ``sample_weight`` (see the module docstring)."""
        return self._fit(X, y, sample_weight)

    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> MLPClassifier:
        """Train one epoch on (X, y), continuing the network (new on the first call, which
        must name every class in ``classes``), weighted by ``sample_weight``."""
        if not hasattr(self, "model_"):
            if classes is None:
                raise ValueError(
                    "classes must be given on the first call to partial_fit (every "
                    "class the network will see)"
                )
            self.classes_ = np.unique(np.asarray(classes))
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes={classes!r} differs from the classes of the first call "
                f"to partial_fit ({self.classes_.tolist()})"
            )
        return self._partial_fit(X, y, sample_weight)

    def predict_proba(self, X: Any) -> np.ndarray:
        """The probability of every class (columns in ``classes_`` order)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=self.model_._data_dtype())
        return self.model_.predict_proba(X).astype(np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of every sample (a label of ``classes_``)."""
        best = np.argmax(self._predicted(X), axis=1)
        return self.classes_[best]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.classifier_tags.multi_label = False
        return tags

    def _validated(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, reset=reset, dtype=self._dtype())
        check_classification_targets(y)
        return X, y

    def _network_targets(self, y: np.ndarray) -> np.ndarray:
        """Class indices into ``classes_`` (found here by fit, named by partial_fit's first
        call)."""
        if not hasattr(self, "classes_"):
            self.classes_ = np.unique(y)
        unknown = np.setdiff1d(y, self.classes_)
        if len(unknown):
            raise ValueError(
                f"y holds labels {unknown.tolist()[:5]} that are not among the "
                f"classes {self.classes_.tolist()}"
            )
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def _fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPClassifier:
        for attribute in ("model_", "classes_"):  # fit starts afresh
            self.__dict__.pop(attribute, None)
        return super()._fit(X, y, sample_weight)

    def _output_units(self) -> int:
        return len(self.classes_)

    def _loss(self) -> losses.Loss:
        return losses.SparseCategoricalCrossentropy(from_logits=True)

    def _stratify(self, y: np.ndarray) -> np.ndarray | None:
        """Stratify the validation split by class where every class can be on both sides
        (scikit-learn's MLP always stratifies, and fails on small data); else split plainly."""
        counts = np.bincount(y)
        held_out = int(np.ceil(self.validation_fraction * len(y)))
        possible = (
            counts.min() >= 2 and held_out >= len(counts) and len(y) - held_out >= len(counts)
        )
        return y if possible else None

    def _fitted_record(self) -> dict[str, Any]:
        return {"classes": self.classes_.tolist(), "classes_dtype": self.classes_.dtype.str}

    def _restore_record(self, record: dict[str, Any]) -> None:
        dtype = np.dtype(record["classes_dtype"])
        self.classes_ = np.array(record["classes"], dtype=dtype)


class MLPRegressor(RegressorMixin, _ChainruleNetwork):
    """A chainrule network as a scikit-learn regressor: one linear output per target (y of
    shape (n,) or (n, targets)), the mean squared error.

    >>> import numpy as np
    >>> from chainrule.sklearn import MLPRegressor
    >>> X = np.linspace(-1, 1, 64).reshape(-1, 1)
    >>> reg = MLPRegressor((16,), activation="tanh", learning_rate_init=0.01, batch_size=16,
    ...                    max_iter=500, random_state=0).fit(X, X.ravel() ** 2)
    >>> bool(reg.score(X, X.ravel() ** 2) > 0.95)
    True
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """Train a new network on (X, y) (see the module docstring for when it stops), each
        sample's loss weighted by ``sample_weight`` (see the module docstring)."""
        return self._fit(X, y, sample_weight)

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """Train one epoch on (X, y), continuing the network (new on the first call),
        weighted by ``sample_weight``."""
        return self._partial_fit(X, y, sample_weight)

    def predict(self, X: Any) -> np.ndarray:
        """The predicted targets: shape (n,) for one target, else (n, targets)."""
        prediction = self._predicted(X)
        return prediction.ravel() if self.n_outputs_ == 1 else prediction

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _validated(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        return validate_data(
            self, X, y, reset=reset, dtype=self._dtype(), multi_output=True, y_numeric=True
        )

    def _network_targets(self, y: np.ndarray) -> np.ndarray:
        targets = np.asarray(y, dtype=self._dtype())
        targets = targets.reshape(len(targets), -1)
        if not hasattr(self, "model_"):
            self.n_outputs_ = targets.shape[1]
        elif targets.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {targets.shape[1]} targets, the network was trained on {self.n_outputs_}"
            )
        return targets

    def _fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        self.__dict__.pop("model_", None)  # fit starts afresh
        return super()._fit(X, y, sample_weight)

    def _output_units(self) -> int:
        return self.n_outputs_

    def _loss(self) -> losses.Loss:
        return losses.MeanSquaredError()

    def _fitted_record(self) -> dict[str, Any]:
        return {"n_outputs": self.n_outputs_}

    def _restore_record(self, record: dict[str, Any]) -> None:
        self.n_outputs_ = int(record["n_outputs"])


__all__ = ["MLPClassifier", "MLPRegressor"]
