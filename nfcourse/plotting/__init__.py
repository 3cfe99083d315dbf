"""Pictures of 2-D flows in one consistent style: densities, samples, training curves, deformations, comparisons.

Every function returns a matplotlib `Figure` (a notebook shows it when it is the value of a cell;
`fig.savefig(path)` writes it) and never calls `plt.show()`. Titles and axis labels are translated
into the course language (`nfcourse.i18n`), and each can be replaced by a string of one's own.
Importing this package applies the course style (`use_style`), Japanese font fallback included.

    plot_density(flow)                       heat map of p(x) (or log p(x)) on a grid
    plot_samples(flow, data)                 samples beside the data, same limits
    plot_training_curves(history)            training and test NLL per dimension against the step
    plot_deformation(flow)                   noise and a grid, layer by layer
    plot_scaling(sizes, {"MADE": t1, "D nets": t2}, ylabel=...)   cost against D, log-log
    compare({"MAF": maf, "RealNVP": rnvp}, data, nll={...})   models side by side
"""

from nfcourse.plotting.animation import animate_layers
from nfcourse.plotting.compare import compare
from nfcourse.plotting.curves import plot_training_curves
from nfcourse.plotting.deformation import plot_deformation
from nfcourse.plotting.density import plot_density, plot_samples
from nfcourse.plotting.evaluate import DensityGrid, density_grid
from nfcourse.plotting.scaling import plot_scaling
from nfcourse.plotting.style import use_style

use_style()

__all__ = [
    "DensityGrid",
    "animate_layers",
    "compare",
    "density_grid",
    "plot_deformation",
    "plot_density",
    "plot_samples",
    "plot_scaling",
    "plot_training_curves",
    "use_style",
]
