#!/usr/bin/env bash
# Rebuilds every picture in docs/visualize.md (13 minutes on a 2-core machine shared with
# other jobs; each command starts a fresh python process).
#   bash docs/images/viz/make_pictures.sh [RUN_FOLDER]
# RUN_FOLDER defaults to runs/viz-demo, trained here first if it is missing.
set -euo pipefail
cd "$(dirname "$0")/../../.."
CNNLAB=${CNNLAB:-.venv/bin/cnnlab}
PY=${PY:-.venv/bin/python}
RUN=${1:-runs/viz-demo}
OUT=docs/images/viz
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if [ ! -f "$RUN/checkpoint.json" ]; then
  "$CNNLAB" train --epochs 1 --train-subset 10000 --out "$RUN" --quiet
fi
"$CNNLAB" samples "$WORK/samples" --count 12
BOOT=$(ls "$WORK"/samples/test-00000-*.png)
"$PY" -c "import sys, skimage.data; from cnnlab.imaging import save_image; \
save_image(skimage.data.chelsea(), sys.argv[1])" "$WORK/cat.png"

# A trained Fashion-MNIST run.
"$CNNLAB" viz filters "$RUN" -o $OUT/fashion-filters.png
"$CNNLAB" viz activations "$RUN" "$BOOT" --layer features.2 --top 8 -o $OUT/fashion-activations.png
"$CNNLAB" viz receptive-field "$RUN" "$BOOT" --layer features.6 -o $OUT/fashion-receptive-field.png
"$CNNLAB" viz top-patches "$RUN" --layer features.4 --channel 5 --limit 2000 --top 16 \
  -o $OUT/fashion-top-patches.png
"$CNNLAB" viz occlusion "$RUN" "$BOOT" --square 6 --stride 2 -o $OUT/fashion-occlusion.png
for method in saliency guided-backprop deconvnet gradcam gradcam++; do
  "$CNNLAB" viz $method "$RUN" "$BOOT" -o "$OUT/fashion-${method/++/pp}.png"
done
"$CNNLAB" viz confusion "$RUN" -o $OUT/fashion-confusion.png
"$CNNLAB" viz mistakes "$RUN" --top 15 -o $OUT/fashion-mistakes.png

# An ImageNet-size zoo model at 224x224 (random weights: add --weights resnet18-f37072fd.pth,
# torchvision's file, to see what the trained network learned).
"$CNNLAB" viz filters resnet18 -o $OUT/resnet18-filters.png
"$CNNLAB" viz activations resnet18 "$WORK/cat.png" --layer layer1.1 --top 8 \
  -o $OUT/resnet18-activations.png
"$CNNLAB" viz receptive-field resnet18 "$WORK/cat.png" --layer layer2.1 \
  -o $OUT/resnet18-receptive-field.png
"$CNNLAB" viz top-patches resnet18 --images "$WORK/samples" --layer layer2.0 --channel 7 \
  --size 112 --top 8 -o $OUT/resnet18-top-patches.png
"$CNNLAB" viz occlusion resnet18 "$WORK/cat.png" -o $OUT/resnet18-occlusion.png
for method in guided-backprop gradcam; do
  "$CNNLAB" viz $method resnet18 "$WORK/cat.png" -o "$OUT/resnet18-${method}.png"
done

# Keep the repository light: 256-colour palettes (the pictures stay readable).
"$PY" - "$OUT" <<'PY'
import sys
from pathlib import Path
from PIL import Image
for png in Path(sys.argv[1]).glob("*.png"):
    Image.open(png).convert("RGB").quantize(colors=256).save(png, optimize=True)
PY
