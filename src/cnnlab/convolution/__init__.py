"""What a convolution computes: kernels, applying them to images, NumPy reference layers,
step-by-step traces and output-size arithmetic (docs/convolution.md).

Depends on NumPy, SciPy, OpenCV and Pillow, and on cnnlab.errors / fileio / imaging only.
"""
