"""``cnnlab viz ...``: pictures of what a network learned, each a PNG (and numbers with --json).

MODEL is a run folder or a zoo name (random weights unless ``--weights``). Every command is a
call into ``cnnlab.visualize``; see docs/visualize.md. Commands that look at one layer's output
(activations, receptive-field, top-patches, the CAMs) share one default for ``--layer``: the
last layer with a spatial output (``last_spatial_layer``), named on stderr when it is chosen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cnnlab.cli.common import WEIGHTS_HELP, console, print_json
from cnnlab.complexity.receptive_field import receptive_field_map
from cnnlab.errors import note
from cnnlab.evaluation.mistakes import find_mistakes
from cnnlab.inference.classify import preprocess
from cnnlab.models.feature_extraction import describe_layers, last_spatial_layer
from cnnlab.visualize import activations as act
from cnnlab.visualize import attribution as attr
from cnnlab.visualize import filters as filt
from cnnlab.visualize import mistakes as mis
from cnnlab.visualize import occlusion as occ
from cnnlab.visualize import receptive_field as rf
from cnnlab.visualize import top_patches as tp
from cnnlab.visualize.figures import denormalize
from cnnlab.visualize.inputs import load_subject, parse_target, save_array

viz_app = typer.Typer(help="Pictures of what a network learned: filters, activations, receptive "
                      "fields, occlusion, attributions, confusion and mistakes.",
                      no_args_is_help=True)

Model = Annotated[str, typer.Argument(help="A run folder, or a zoo model name (`cnnlab models`).")]
Run = Annotated[Path, typer.Argument(help="A run folder written by `cnnlab train`.")]
Image = Annotated[Path, typer.Argument(help="An image file (PNG, JPEG, any size or mode).")]
Weights = Annotated[str | None, typer.Option(help=WEIGHTS_HELP)]
Size = Annotated[int | None, typer.Option(help="Square input side in pixels (default: the "
                                          "model's own, e.g. 224).")]
Out = Annotated[Path | None, typer.Option("--out", "-o", help="PNG to write "
                                          "(default: ./<command>.png).")]
Json = Annotated[bool, typer.Option("--json", help="Print the numbers as JSON (maps go to a "
                                    ".npy beside the PNG).")]
Invert = Annotated[str, typer.Option(help="auto, yes or no: invert gray levels (as predict).")]
Target = Annotated[str | None, typer.Option(help="Class index or name (default: predicted).")]
Layer = Annotated[str | None, typer.Option(help="Layer name as `cnnlab viz layers` prints it "
                                         "(default: the last layer with a spatial output).")]
Channel = Annotated[int | None, typer.Option(help="Channel of the layer.")]
DataDir = Annotated[str | None, typer.Option(help="Folder with the dataset files.")]


def _finish(png: Path, numbers: dict, json_output: bool, array: object = None) -> None:
    if json_output:
        extra = {"npy": str(save_array(array, png))} if array is not None else {}
        print_json({"png": str(png), **extra, **numbers})
    else:
        console.print(f"wrote {png}")


def _layer(net, meta: dict, layer: str | None) -> str:
    """``layer``, or the shared default, said in one line (the same rule as Grad-CAM's)."""
    if layer is not None:
        return layer
    chosen = last_spatial_layer(net, tuple(meta["input_size"]))
    note(f"layer: {chosen} (default: the last layer with a spatial output; --layer picks "
         f"another, `cnnlab viz layers` lists them)")
    return chosen


def _out(out: Path | None, command: str) -> Path:
    return out if out is not None else Path(command.replace('++', 'pp') + '.png')


@viz_app.command("layers")
def layers_command(model: Model, weights: Weights = None, size: Size = None,
                   json_output: Json = False) -> None:
    """List the layer names --layer accepts, with output shapes."""
    net, meta = load_subject(model, weights, size)
    rows = describe_layers(net, tuple(meta["input_size"]))
    if json_output:
        print_json([{"name": r.name, "kind": r.kind, "output_shape": list(r.output_shape)}
                    for r in rows])
        return
    for r in rows:
        console.print(f"{r.name:40s} {r.kind:22s} {'x'.join(map(str, r.output_shape))}",
                      highlight=False)


@viz_app.command("filters")
def filters_command(model: Model, layer: Layer = None, input_channel: Annotated[
        int | None, typer.Option(help="Show this input channel of each kernel.")] = None,
        limit: Annotated[int, typer.Option(help="Most filters to draw.")] = 64,
        weights: Weights = None, out: Out = None, json_output: Json = False) -> None:
    """Kernels of a conv layer (default: the first), each normalized on its own."""
    net, meta = load_subject(model, weights)
    grid = filt.filter_grid(net, layer, input_channel, limit)
    png = filt.plot_filters(grid, _out(out, "filters"), meta["model"])
    _finish(png, grid.to_dict(), json_output, grid.tiles)


@viz_app.command("activations")
def activations_command(model: Model, image: Image, layer: Layer = None,
        top: Annotated[int, typer.Option(help="How many channels (by mean activation).")] = 16,
        channel: Annotated[list[int] | None, typer.Option(
            help="Show these channels instead (repeatable).")] = None,
        weights: Weights = None, size: Size = None, invert: Invert = "auto", out: Out = None,
        json_output: Json = False) -> None:
    """Feature maps of a layer for IMAGE: the top channels by mean activation."""
    net, meta = load_subject(model, weights, size)
    x = preprocess(image, meta, invert)
    maps = act.activation_maps(net, _layer(net, meta, layer), x, top, channel)
    png = act.plot_activations(maps, denormalize(x, meta), _out(out, "activations"),
                               meta["model"])
    _finish(png, maps.to_dict(), json_output, maps.maps)


@viz_app.command("receptive-field")
def receptive_field_command(model: Model, image: Image, layer: Layer = None,
        channel: Channel = None,
        y: Annotated[int | None, typer.Option(help="Unit row (default: centre).")] = None,
        x: Annotated[int | None, typer.Option(help="Unit column (default: centre).")] = None,
        weights: Weights = None, size: Size = None, invert: Invert = "auto", out: Out = None,
        json_output: Json = False) -> None:
    """Theoretical (profiler) and effective (gradient) receptive field of one unit."""
    net, meta = load_subject(model, weights, size)
    inp = preprocess(image, meta, invert)
    result = receptive_field_map(net, inp, _layer(net, meta, layer), channel, y, x)
    png = rf.plot_receptive_field(result, denormalize(inp, meta), _out(out, "receptive-field"),
                                  meta["model"])
    _finish(png, result.to_dict(), json_output, result.gradient)


@viz_app.command("top-patches")
def top_patches_command(model: Model,
        channel: Annotated[int, typer.Option(help="Channel of the layer.")],
        layer: Layer = None,
        images: Annotated[Path | None, typer.Option(
            help="Folder of images to search (default: a run's test split).")] = None,
        limit: Annotated[int | None, typer.Option(help="Search only the first N images.")]
        = None,
        top: Annotated[int, typer.Option(help="How many patches.")] = 9,
        data_dir: DataDir = None, weights: Weights = None, size: Size = None, out: Out = None,
        json_output: Json = False) -> None:
    """The input patches (receptive fields) that most activate a channel over a dataset."""
    net, meta = load_subject(model, weights, size)
    batches = tp.source_batches(meta, images, data_dir, limit)
    result = tp.top_patches(net, _layer(net, meta, layer), channel, batches, meta, top)
    png = tp.plot_top_patches(result, _out(out, "top-patches"), meta["model"])
    _finish(png, result.to_dict(), json_output)


@viz_app.command("occlusion")
def occlusion_command(model: Model, image: Image, target: Target = None,
                      square: Annotated[int | None, typer.Option(
                          help="Gray square side in input pixels (default: H/7).")] = None,
                      stride: Annotated[int | None, typer.Option(
                          help="Step in input pixels (default: H/14).")] = None,
                      weights: Weights = None, size: Size = None, invert: Invert = "auto",
                      out: Out = None, json_output: Json = False) -> None:
    """Map the drop in the class probability as a gray square slides over IMAGE."""
    net, meta = load_subject(model, weights, size)
    x = preprocess(image, meta, invert)
    result = occ.occlusion_map(net, x, meta, square, stride, parse_target(target, meta),
                               meta.get("classes"))
    png = occ.plot_occlusion(result, denormalize(x, meta), _out(out, "occlusion"), meta["model"])
    _finish(png, result.to_dict(), json_output, result.drop)


def _attribution_command(method: str) -> None:
    unit_help = " With --layer and --channel: that channel's strongest unit instead of a class."
    cam = method in attr.CAM_METHODS

    def command(model: Model, image: Image, target: Target = None, layer: Layer = None,
                channel: Channel = None, weights: Weights = None, size: Size = None,
                invert: Invert = "auto", out: Out = None, json_output: Json = False) -> None:
        net, meta = load_subject(model, weights, size)
        x = preprocess(image, meta, invert)
        if cam:
            layer = _layer(net, meta, layer)
        result = attr.attribute(net, x, method, target=parse_target(target, meta),
                                classes=meta.get("classes"), layer=layer, channel=channel)
        png = attr.plot_attribution(result, denormalize(x, meta), _out(out, method),
                                    meta["model"])
        _finish(png, result.to_dict(), json_output, result.heat)

    command.__doc__ = (f"{attr.DESCRIPTIONS[method]} for IMAGE."
                       + (" --layer picks the conv layer (default: the last spatial one)."
                          if cam else unit_help))
    viz_app.command(method)(command)


for _method in attr.METHODS:
    _attribution_command(_method)


@viz_app.command("confusion")
def confusion_command(run: Run, data_dir: DataDir = None, limit: Annotated[
        int | None, typer.Option(help="Score only the first N test images.")] = None,
        out: Out = None, json_output: Json = False) -> None:
    """Confusion matrix of a run on its test split."""
    png = _out(out, "confusion")
    numbers = mis.confusion_picture(run, png, data_dir, limit)
    _finish(png, numbers, json_output)


@viz_app.command("mistakes")
def mistakes_command(run: Run, top: Annotated[int, typer.Option(
        help="How many misclassified images.")] = 25, data_dir: DataDir = None,
        limit: Annotated[int | None, typer.Option(help="Score only the first N test images.")]
        = None, out: Out = None, json_output: Json = False) -> None:
    """The most confidently misclassified test images of a run."""
    result = find_mistakes(run, data_dir, top, limit)
    png = mis.plot_mistakes(result, _out(out, "mistakes"))
    _finish(png, result.to_dict(), json_output)


def register(app: typer.Typer) -> None:
    app.add_typer(viz_app, name="viz")
