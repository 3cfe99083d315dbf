"""Watch a flow learn: its density and its loss curve, redrawn while `fit` trains it (lesson 08).

    flow, history = watch_training("MAF", load("moons"), depth=4, steps=600, show=display_figure)
    lab = TrainingLab(steps=600)  # the same behind widgets: pick a flow, a data set and a depth, press "Train"
    lab.view                   # the widgets to display in a notebook

The logic is plain functions and one small class, so tests drive it without a browser: set the
controls' values and call `lab.button.click()`.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display
from matplotlib.figure import Figure

from nfcourse.datasets import Dataset, load
from nfcourse.flow import Flow
from nfcourse.i18n import _
from nfcourse.lab.flows import FLOW_NAMES, build_flow
from nfcourse.plotting import plot_density, plot_training_curves
from nfcourse.plotting.style import box_around, new_figure, scatter_points
from nfcourse.training import History, cosine_schedule, evaluate_oracle, fit
from nfcourse.validation import check_positive_int

LAB_DATASETS = ("moons", "eight_gaussians", "checkerboard", "rings")
OVERLAID_POINTS = 400  # test points drawn over the density, enough to see the data's shape


def progress_figure(flow: Flow, history: History, data: Dataset, entropy_per_dim: float) -> Figure:
    """The flow's density, with test points over it, beside its training curve and the data's entropy to reach."""
    fig, axes = new_figure(1, 2, width=8.4, height=3.6)
    test_points = data.test.numpy()
    plot_density(flow, limits=box_around(test_points), colorbar=False, ax=axes[0, 0])
    scatter_points(axes[0, 0], test_points[:OVERLAID_POINTS], "white", s=1.5, alpha=0.5)
    plot_training_curves(history, reference=entropy_per_dim, reference_label=_("entropy of the data"), ax=axes[0, 1])
    axes[0, 0].set_title(_("density after {step:,d} steps").format(step=history.steps[-1]))
    return fig


def watch_training(
    name: str,
    data: Dataset,
    *,
    depth: int,
    steps: int,
    show: Callable[[Figure], None],
    redraw_every: int = 100,
    lr: float = 2e-3,
) -> tuple[Flow, History]:
    """Train flow `name` on `data` with `fit`, calling `show(figure)` every `redraw_every` steps and at the end."""
    check_positive_int(redraw_every, "redraw_every")
    flow = build_flow(name, data.train.shape[1], depth)
    entropy = evaluate_oracle(data).per_dim

    def redraw(step: int, history: History) -> None:
        if step % redraw_every == 0 or step == steps:
            figure = progress_figure(flow, history, data, entropy)
            show(figure)
            plt.close(figure)

    history = fit(
        flow,
        data.train,
        data.test,
        steps=steps,
        lr=lr,
        schedule=cosine_schedule(steps),
        eval_every=redraw_every,
        log_every=min(25, redraw_every),
        callback=redraw,
        progress=False,
    )
    return flow.cpu().eval(), history


class TrainingLab:
    """Dropdowns for the flow and the data set, a slider for the depth, a "Train" button, and the live picture."""

    def __init__(self, steps: int, redraw_every: int = 100, n_train: int = 5_000) -> None:
        self.steps = check_positive_int(steps, "steps")
        self.redraw_every = check_positive_int(redraw_every, "redraw_every")
        self.n_train = check_positive_int(n_train, "n_train")
        self.flow = widgets.Dropdown(options=FLOW_NAMES, value="MAF", description=_("flow"))
        self.data = widgets.Dropdown(options=LAB_DATASETS, value="moons", description=_("data set"))
        self.depth = widgets.IntSlider(value=4, min=1, max=8, description=_("depth"))
        self.button = widgets.Button(description=_("Train"), button_style="primary")
        self.output = widgets.Output()
        self.result: tuple[Flow, History] | None = None
        self.last_figure: Figure | None = None  # the last picture drawn, for a page without live widgets
        self.button.on_click(lambda _button: self.train_from_button())
        self.view = widgets.VBox([widgets.HBox([self.flow, self.data, self.depth, self.button]), self.output])

    def show(self, figure: Figure) -> None:
        self.last_figure = figure
        with self.output:
            self.output.clear_output(wait=True)
            display(figure)

    def train_from_button(self) -> None:
        """The button's handler: a failed run says why in the output area (a widget callback has no cell)."""
        try:
            self.train()
        except Exception as error:
            with self.output:
                print(_("Training stopped: {error}").format(error=error))

    def train(self) -> None:
        """Train the chosen flow, redrawing into the output area; the button is off while it runs."""
        self.button.disabled = True
        try:
            data = load(self.data.value, n_train=self.n_train)
            self.result = watch_training(
                self.flow.value,
                data,
                depth=self.depth.value,
                steps=self.steps,
                show=self.show,
                redraw_every=self.redraw_every,
            )
        finally:
            self.button.disabled = False
