"""Pictures of what a network learned; ``cnnlab viz`` is a thin layer over these modules.

  filters          a conv layer's kernels as a grid
  activations      top-k feature maps of a layer for one image
  receptive_field  a unit's theoretical and effective receptive fields (cnnlab.complexity)
  top_patches      the dataset patches that excite a channel most (Zeiler & Fergus)
  occlusion        probability drop under a sliding gray square (Captum's Occlusion)
  attribution      saliency, guided backprop, deconvnet, Grad-CAM, Grad-CAM++
  guided           the ReLU backward rules of guided backprop and the deconvnet
  mistakes         confusion matrix and misclassified test images of a run (the numbers are
                   cnnlab.evaluation's)
  inputs           the model (run folder or zoo name) and class a picture is of; .npy output
  figures          the matplotlib drawing they share: grids, heat maps, denormalized inputs
"""
